"""Row schema, the journal (``rows.jsonl``), ``to_frame()`` and atomic file writes.

A row is a flat JSON-able dict (see docs/design.md, "Rows"). The journal is append-only: one
JSON line per row, flushed and fsync'ed so a kill never loses a finished row. Every other file
of a run folder is derived from it and written atomically (temp file + ``os.replace``).
Never imports torch.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from vggablate.errors import UsageError

# Column order of to_frame(): identity, settings, figures (by kind), env. Unknown columns
# go after the known figures, sorted, so the order is stable whatever the producers add.
IDENTITY = ("trial_id", "attempt", "kind", "arch", "cfg")
SETTINGS = (
    "batch_norm", "bn_twin", "width", "head", "num_classes", "in_channels", "dropout", "matched", "input_size",
    "device", "precision", "channels_last", "compile", "cudnn_benchmark", "mode", "batch_size", "seed", "dataset",
    "error", "error_type", "duration_s", "timestamp",
)  # fmt: skip
FIGURES = (
    # counts
    "params", "params_trainable", "params_conv", "params_classifier", "weight_mb_fp32", "weight_mb_bf16",
    "macs", "flops", "macs_conv", "macs_classifier", "macs_other", "activations", "conv_layers",
    "stage_params", "stage_macs",
    # latency
    "latency_ms_p50", "latency_ms_p10", "latency_ms_p90", "latency_ms_q25", "latency_ms_q75",
    "latency_ms_iqr", "latency_ms_mean", "latency_ms_std", "latency_n", "latency_samples_ms",
    "throughput_ips", "gflops_achieved", "peak_tflops_spec", "peak_tflops_measured", "mfu_vs_spec",
    "util_vs_measured_gemm", "compile_s", "threads",
    # memory
    "mem_weights_mb", "mem_peak_alloc_mb", "mem_peak_reserved_mb", "mem_rss_peak_mb", "mem_analytic_mb",
    "mem_analytic_weights_mb", "mem_analytic_activations_mb", "mem_analytic_grads_mb",
    "mem_analytic_optimizer_mb",
    # accuracy
    "top1", "top5", "train_loss", "train_time_s", "train_ips", "time_to_target_s", "target_top1", "epochs",
    "steps", "train_batch_size", "lr", "momentum", "weight_decay", "label_smoothing", "schedule",
    "warmup_epochs", "narrow_from", "curve",
)  # fmt: skip
ENV = (
    "env_torch", "env_torchvision", "env_cuda", "env_cudnn", "env_device_name", "env_cpu", "env_threads",
    "env_git_rev", "env_hostname", "env_python", "env_platform", "env_loadavg_1m",
)  # fmt: skip
KINDS = ("counts", "latency", "memory", "accuracy")
ERROR_TYPES = ("oom", "timeout", "crash", "exception")
# An OOM is a measurement (the model does not fit at that batch size); these are not, so
# `--resume --retry-errors` runs them again.
RETRYABLE_ERRORS = frozenset({"timeout", "crash", "exception"})


class JournalWarning(UserWarning):
    """A recoverable problem in a journal: a torn last line from a kill mid-write."""


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
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
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


def read_rows(path: str | os.PathLike) -> list[dict]:
    """Read a journal; skip a torn last line with a warning, raise UsageError on other damage."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"no journal at {path}")
    lines = path.read_bytes().split(b"\n")
    last = max((i for i, line in enumerate(lines) if line.strip()), default=-1)
    rows: list[dict] = []
    for i, line in enumerate(lines[: last + 1]):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            if i == last:  # a kill mid-write tears only the last line
                warnings.warn(f"{path}:{i + 1}: skipping a torn last line ({exc})", JournalWarning, stacklevel=2)
                break
            raise UsageError(f"{path}:{i + 1}: corrupt journal line ({exc})") from None
        if not isinstance(row, dict):
            raise UsageError(f"{path}:{i + 1}: journal line is not a JSON object")
        rows.append(row)
    return rows


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
