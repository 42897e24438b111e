"""Shared checks of the hostile-input corpus (issue 22): refused in one line, nothing touched."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path


def assert_refused(proc: subprocess.CompletedProcess, *fragments: str) -> str:
    """Assert exit 2 with exactly one stderr line, starting 'error:', holding each fragment; return it."""
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-2000:])
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


def assert_one_line_or_success(proc: subprocess.CompletedProcess) -> None:
    """The property of every hostile input: success, or exit 2 with one `error:` line; never a traceback."""
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    if proc.returncode != 0:
        assert_refused(proc)


def snapshot(root: Path) -> dict[str, str]:
    """Return every file and folder under root with the sha256 of its bytes (folders: 'dir')."""
    out = {}
    for path in sorted(root.rglob("*")):
        rel = str(path.relative_to(root))
        out[rel] = "dir" if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def make_run_folder(path: Path) -> Path:
    """Write a finished-looking run folder (journal, config, env, a report) to be left untouched."""
    path.mkdir(parents=True)
    (path / "rows.jsonl").write_text('{"trial_id": "abc", "kind": "counts", "arch": "vgg11", "params": 1}\n')
    (path / "config.toml").write_text('[sweep]\narchs = ["vgg11"]\nmetrics = ["params"]\nname = "kept"\n')
    (path / "env.json").write_text("{}\n")
    (path / "summary.md").write_text("# kept\n")
    return path
