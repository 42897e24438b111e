"""Fetch and unpack data-set archives: bounded waits, md5-checked, never a partial file under a real name.

A download goes to a temporary file beside the archive and is renamed into place only after
its md5 matches, so an interrupted or truncated download cannot later pass for the archive.
Extraction likewise unpacks into a temporary folder and moves the finished files into place.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

# Per socket operation (connect, each read), not for the whole download: a dead or silent server
# fails after this long instead of hanging, while a slow but live one may take as long as it needs.
TIMEOUT_S = 60.0
CHUNK = 1 << 20
# What a failed fetch raises: urllib's URLError/HTTPError and socket timeouts are OSErrors;
# a connection cut mid-body is an http.client.IncompleteRead; a bad md5 is a ValueError.
FETCH_ERRORS = (OSError, http.client.HTTPException, ValueError)


def download(url: str, dest: Path, md5: str, timeout_s: float = TIMEOUT_S) -> None:
    """Download ``url`` to ``dest`` through a temporary file, checking its md5; raise one of FETCH_ERRORS."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as f, urllib.request.urlopen(url, timeout=timeout_s) as response:
            digest = _copy(response, f, int(response.headers.get("Content-Length") or 0), dest.name)
        if digest != md5:
            raise ValueError(f"md5 {digest} is not the expected {md5} (a truncated or altered download)")
        os.replace(tmp, dest)
    finally:
        Path(tmp).unlink(missing_ok=True)  # gone already after a successful rename


def _copy(response, f, total: int, name: str) -> str:
    from tqdm.auto import tqdm

    digest = hashlib.md5(usedforsecurity=False)
    with tqdm(total=total or None, desc=f"downloading {name}", unit="B", unit_scale=True, leave=False,
              file=sys.stderr, disable=not sys.stderr.isatty()) as bar:  # fmt: skip
        while chunk := response.read(CHUNK):
            f.write(chunk)
            digest.update(chunk)
            bar.update(len(chunk))
    return digest.hexdigest()


def cause(exc: BaseException) -> str:
    """Say in a few words why a fetch failed (urllib wraps the real reason)."""
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, TimeoutError):
        return "timed out"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror
    text = str(reason).strip().splitlines()
    return text[0] if text else type(reason).__name__


def extract(archive: Path, root: Path, folder: str) -> None:
    """Unpack ``folder/`` from a .tar.gz into ``root``; each file appears only once complete."""
    from torchvision.datasets.utils import extract_archive

    with tempfile.TemporaryDirectory(prefix=".extract-", dir=root) as tmp:
        extract_archive(str(archive), tmp)
        source = Path(tmp) / folder
        if not source.is_dir():
            raise FileNotFoundError(f"the archive holds no {folder}/")
        (root / folder).mkdir(exist_ok=True)
        for item in source.iterdir():
            # Over any half-extracted file of an earlier attempt; a rename within one file system is atomic.
            os.replace(item, root / folder / item.name)
