"""The journal (``rows.jsonl``), ``to_frame()`` and atomic file writes.

A row is a flat JSON-able dict whose columns vggablate/schema.py defines (docs/design.md, "Rows").
The journal is append-only: one JSON line per row, flushed and fsync'ed so a kill never loses a
finished row. Every other file
of a run folder is derived from it and written atomically (temp file + ``os.replace``).
Never imports torch.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from vggablate.errors import UsageError

# The columns are defined in schema.py; re-exported here, where readers of rows have always found them.
from vggablate.schema import ENV, FIGURES, IDENTITY, NEEDED_BY_KIND, RETRYABLE_ERRORS, SETTINGS, column_problem


class JournalWriteError(Exception):
    """Rows that could not be appended (a full disk, a quota): the journal keeps every whole row before them."""


class JournalWarning(UserWarning):
    """A recoverable problem in a journal: a torn last line from a kill mid-write, a damaged row skipped."""


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write data to path via a temp file in the same folder, fsync and os.replace."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # mkstemp creates 0600; a report should be readable like any file (or keep the old mode).
        os.fchmod(fd, path.stat().st_mode & 0o777 if path.exists() else 0o644)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        # The old file (if any) is untouched; only the temp file has to go.
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write UTF-8 text to path atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


def _fsync_dir(folder: Path) -> None:
    # Makes the rename itself durable; not possible on every OS/filesystem, so best effort.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _jsonable(value: object) -> object:
    """Return value with NaN/inf as None, tuples as lists and numpy scalars as Python ones."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item") and callable(value.item) and not isinstance(value, (str, bytes)):
        value = value.item()  # numpy scalar -> int/float/bool
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def encode_row(row: Mapping) -> str:
    """Encode one row as a JSON line (no newline); NaN and inf become null."""
    try:
        return json.dumps(_jsonable(row), allow_nan=False, separators=(",", ":"))
    except TypeError as exc:
        bad = [k for k, v in row.items() if _not_json(v)]
        raise TypeError(f"row column(s) {', '.join(bad) or '?'} not JSON-serializable: {exc}") from None


def _not_json(value: object) -> bool:
    try:
        json.dumps(_jsonable(value))
    except TypeError:
        return True
    return False


class Journal:
    """Append-only JSON-lines file of rows; each append is one write, flushed and fsync'ed."""

    def __init__(self, path: str | os.PathLike) -> None:
        """Open (or create on first append) the journal at path, repairing a torn last line."""
        self.path = Path(path)
        self._repair()

    def append(self, row: Mapping) -> None:
        """Append one row durably."""
        self.extend([row])

    def extend(self, rows: Iterable[Mapping]) -> None:
        """Append the rows of one trial attempt in a single write, so a kill keeps all of them or none."""
        data = "".join(encode_row(r) + "\n" for r in rows).encode("utf-8")
        if not data:
            return
        # O_APPEND + one write: concurrent appenders cannot interleave inside a line.
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            start = os.fstat(fd).st_size
            try:
                _write_all(fd, data)
                os.fsync(fd)
            except OSError as exc:  # a full disk or quota: keep only whole rows, then say so
                _cut_back(fd, start)
                raise JournalWriteError(f"cannot append to {self.path}: {exc.strerror or exc}") from exc
        finally:
            os.close(fd)

    def read(self) -> list[dict]:
        """Return the rows written so far."""
        return read_rows(self.path)

    def _repair(self) -> None:
        # A kill mid-write can leave a last line without its newline; appending after it would
        # glue the next row onto it and turn a torn tail into a corrupt middle line.
        if not self.path.is_file() or self.path.stat().st_size == 0:
            return
        with open(self.path, "rb+") as f:
            data = f.read()
            if data.endswith(b"\n"):
                return
            keep = data.rfind(b"\n") + 1
            warnings.warn(
                f"{self.path}: dropping a torn last line ({len(data) - keep} bytes) left by an interrupted write",
                JournalWarning,
                stacklevel=3,
            )
            f.truncate(keep)
            f.flush()
            os.fsync(f.fileno())


# Damaged rows named one by one, then counted: a wholly mangled file should not print a page.
MAX_ROW_WARNINGS = 10


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _cut_back(fd: int, size: int) -> None:
    """Truncate a failed append back to where it began, so the journal ends with a whole row."""
    # The run holds its folder (sweep.run_lock), so nobody else appended meanwhile. If even this
    # fails, the torn tail is what a kill leaves, and Journal() and read_rows() already drop it.
    with contextlib.suppress(OSError):
        if os.fstat(fd).st_size > size:
            os.ftruncate(fd, size)
            os.fsync(fd)


def read_rows(path: str | os.PathLike) -> list[dict]:
    """Read a journal; skip a torn last line and damaged rows, one warning each; UsageError if none is usable.

    A damaged row is a line that is not a JSON object, or one whose known column has the wrong
    type for the schema (``params`` that is text, a list where a number goes): it is named by
    line and field (``rows.jsonl line 7: params is 'abc', expected a number; row skipped``) and
    the rest of the journal is read, so reports and comparisons work on the rows that are sound.
    """
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"no journal at {path}")
    lines = path.read_bytes().split(b"\n")
    last = max((i for i, line in enumerate(lines) if line.strip()), default=-1)
    rows: list[dict] = []
    damaged: list[str] = []
    torn = None
    for i, line in enumerate(lines[: last + 1]):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            if i == last:  # a kill mid-write tears only the last line
                torn = f"{path} line {i + 1}: torn last line skipped, left by an interrupted write ({exc})"
                break
            damaged.append(f"{path} line {i + 1}: not a JSON row ({exc}); row skipped")
            continue
        problem = row_problem(row)
        if problem:
            damaged.append(f"{path} line {i + 1}: {problem}; row skipped")
            continue
        rows.append(row)
    if damaged and not rows:
        raise UsageError(f"{path}: no usable row in it ({damaged[0]}); is it a rows.jsonl journal?")
    for message in damaged[:MAX_ROW_WARNINGS]:
        warnings.warn(message, JournalWarning, stacklevel=2)
    if len(damaged) > MAX_ROW_WARNINGS:
        more = len(damaged) - MAX_ROW_WARNINGS
        warnings.warn(f"{path}: {more} more damaged rows skipped", JournalWarning, stacklevel=2)
    if torn:
        warnings.warn(torn, JournalWarning, stacklevel=2)
    return rows


def row_problem(row: object) -> str | None:
    """Say what makes a decoded journal line unusable as a row (the first bad column); None if sound."""
    if not isinstance(row, dict):
        return f"a JSON {type(row).__name__}, not a row object"
    problem = next((p for p in (column_problem(k, v) for k, v in row.items()) if p), None)
    missing = [c for c in NEEDED_BY_KIND.get(row.get("kind"), ()) if row.get(c) is None]
    return problem or (f"{missing[0]} is missing, which every {row['kind']} row needs" if missing else None)


def _attempt(row: Mapping) -> int:
    value = row.get("attempt")
    return int(value) if isinstance(value, (int, float)) and math.isfinite(value) else 0


def last_attempts(rows: list[dict]) -> dict[str, int]:
    """Return each trial_id's latest attempt number (rows without `attempt` count as attempt 0)."""
    last: dict[str, int] = {}
    for row in rows:
        tid = row.get("trial_id")
        if tid is not None:
            last[tid] = max(last.get(tid, 0), _attempt(row))
    return last


def latest_attempts(rows: list[dict]) -> list[dict]:
    """Keep, per trial_id, only the rows of its latest attempt; rows without a trial_id stay."""
    last = last_attempts(rows)
    return [r for r in rows if r.get("trial_id") is None or _attempt(r) == last[r["trial_id"]]]


def done_trial_ids(rows: list[dict], retry_errors: bool = False) -> set[str]:
    """Return the trial_ids whose last attempt finished (its rows may carry errors).

    With ``retry_errors``, a trial whose last attempt has a timeout, crash or exception row is
    not done, so ``--resume`` runs it again; an OOM is a result and is never retried.
    """
    done: set[str] = set()
    failed: set[str] = set()
    for row in latest_attempts(rows):
        tid = row.get("trial_id")
        if tid is None:
            continue
        done.add(tid)
        if row.get("error_type") in RETRYABLE_ERRORS:
            failed.add(tid)
    return done - failed if retry_errors else done


def column_order(columns: Iterable[str]) -> list[str]:
    """Order columns: identity, settings, known figures, other figures (sorted), env."""
    cols = list(dict.fromkeys(columns))
    known = IDENTITY + SETTINGS + FIGURES
    extra = sorted(c for c in cols if c not in known and c not in ENV)
    extra_env = [c for c in extra if c.startswith("env_")]
    extra = [c for c in extra if not c.startswith("env_")]
    ordered = [c for c in IDENTITY + SETTINGS + FIGURES if c in cols] + extra
    return ordered + [c for c in ENV if c in cols] + extra_env


def to_frame(rows: list[dict]) -> pd.DataFrame:
    """Return the rows as a DataFrame in stable column order; lists stay Python objects."""
    frame = pd.DataFrame.from_records(rows) if rows else pd.DataFrame(columns=list(IDENTITY))
    return frame[column_order(frame.columns)]


def _is_nested(value: object) -> bool:
    return isinstance(value, (list, tuple, dict))


def write_tables(run_dir: str | os.PathLike, frame: pd.DataFrame) -> list[Path]:
    """Write rows.csv (lists as JSON strings) and rows.parquet atomically; return their paths."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    run_dir = Path(run_dir)
    flat = frame.copy()
    for col in flat.columns:
        if flat[col].map(_is_nested).any():
            flat[col] = flat[col].map(lambda v: json.dumps(_jsonable(v)) if _is_nested(v) else v)
    csv_path, pq_path = run_dir / "rows.csv", run_dir / "rows.parquet"
    atomic_write_text(csv_path, flat.to_csv(index=False))
    sink = pa.BufferOutputStream()
    pq.write_table(_arrow_table(frame, flat), sink)
    atomic_write_bytes(pq_path, sink.getvalue().to_pybytes())
    return [csv_path, pq_path]


def _as_text(value: object) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value if isinstance(value, str) else json.dumps(_jsonable(value))


def _arrow_table(frame: pd.DataFrame, flat: pd.DataFrame) -> object:
    """Convert to Arrow keeping lists as lists; a column Arrow cannot type falls back to JSON text."""
    import pyarrow as pa

    arrays, names = [], []
    for col in frame.columns:
        try:
            arr = pa.array(frame[col].tolist(), from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):  # e.g. a column mixing str and list
            arr = pa.array([_as_text(v) for v in flat[col].tolist()])
        arrays.append(arr)
        names.append(col)
    return pa.Table.from_arrays(arrays, names=names)
