"""Where a command may write: output paths checked before any work, folders confined under ``--out``.

The rules (docs/reliability.md): a folder is wanted where a folder is given and a file where a file
is; the place must be creatable (no file in the way, writable); a new run never goes into an
existing run folder (only ``--resume`` writes there); a file output never replaces a run's journal
or config, nor the command's own input; and every folder a command creates is resolved and must lie
under the ``--out`` it was given (a name that escaped the name rule still could not escape ``--out``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from vggablate.errors import UsageError

JOURNAL = "rows.jsonl"
# A run folder holds a journal, or (before its first trial ends) the config and env a run writes first.
_RUN_FILES = (JOURNAL, "config.toml", "env.json")


def is_run_folder(path: Path) -> bool:
    """Say whether a folder is a run folder (`bench run`, `claims`, `train` or `profile` made it)."""
    try:
        return (path / JOURNAL).is_file() or ((path / "config.toml").is_file() and (path / "env.json").is_file())
    except OSError:
        return False


def enclosing_run(path: str | os.PathLike) -> Path | None:
    """Return the run folder that ``path`` is, or lies inside; None when there is none."""
    p = Path(os.path.abspath(path))
    return next((c for c in (p, *p.parents) if is_run_folder(c)), None)


def _first_existing(p: Path) -> Path:
    for candidate in (p, *p.parents):
        if candidate.exists():
            return candidate
    return Path("/")


def _creatable(p: Path, what: str) -> None:
    """Refuse a path below a file or in a folder this user cannot write."""
    anchor = _first_existing(p)
    if anchor != p and not anchor.is_dir():
        raise UsageError(f"{what} {str(p)!r} cannot be created: {str(anchor)!r} is a file, not a folder")
    folder = anchor if anchor.is_dir() else anchor.parent
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"{what} {str(p)!r} cannot be written: no write permission in {str(folder)!r}")


def _guarded(check):  # noqa: ANN001, ANN202 (a decorator)
    """Turn an OS-level refusal of a path itself (a NUL byte, a name too long) into a one-line usage error."""

    def wrapper(path: str | os.PathLike, what: str = "--out", *args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        try:
            return check(Path(path), what, *args, **kwargs)
        except (OSError, ValueError) as exc:
            if isinstance(exc, UsageError):
                raise
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise UsageError(f"{what} {str(path)!r} cannot be used: {reason}") from None

    wrapper.__doc__ = check.__doc__
    return wrapper


@_guarded
def check_parent_folder(p: Path, what: str = "--out") -> Path:
    """Check a folder that will hold new run folders: a folder (or creatable), not inside a run; return it."""
    if p.exists() and not p.is_dir():
        raise UsageError(f"{what} {str(p)!r} is a file; give a folder (new runs are made inside it)")
    _creatable(p, what)
    run = enclosing_run(p)
    if run is not None:
        where = "is" if run == Path(os.path.abspath(p)) else "lies inside"
        raise UsageError(f"{what} {str(p)!r} {where} the run folder {str(run)!r}, which only --resume may change; "
                         f"give the folder that holds runs, e.g. {what} {str(run.parent)!r}")  # fmt: skip
    return p


@_guarded
def check_output_file(p: Path, what: str = "--out", inputs: Iterable[str | os.PathLike] = ()) -> Path:
    """Check a file to be (over)written: not a folder, creatable, not an input, not a run's journal or config."""
    if p.is_dir():
        raise UsageError(f"{what} {str(p)!r} is a folder; give a file path, e.g. {str(p / 'out')!r}")
    _creatable(p, what)
    if p.exists() and not os.access(p, os.W_OK):
        raise UsageError(f"{what} {str(p)!r} cannot be written: no write permission")
    target = Path(os.path.realpath(p))
    for given in inputs:
        source = Path(os.path.realpath(given))
        if target == source or (source.is_dir() and target.parent == source and p.name in _RUN_FILES):
            raise UsageError(f"{what} {str(p)!r} would overwrite the command's input {str(given)!r}; "
                             "write elsewhere")  # fmt: skip
    if p.name in _RUN_FILES and is_run_folder(target.parent):
        raise UsageError(f"{what} {str(p)!r} would replace a run folder's {p.name}; write elsewhere")
    return p


def confine(out: str | os.PathLike, folder: str | os.PathLike) -> Path:
    """Return ``folder`` when it resolves to a place under ``out``; raise UsageError when it escapes."""
    root, target = Path(out).resolve(), Path(folder).resolve()
    if target != root and not target.is_relative_to(root):
        raise UsageError(f"refusing to write {str(folder)!r}: it resolves to {str(target)!r}, outside {str(root)!r}")
    return Path(folder)
