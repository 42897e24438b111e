"""Journal I/O, atomic writes, to_frame and the derived tables (no torch)."""

from __future__ import annotations

import json
import math
import os

import numpy as np
import pandas as pd
import pytest
from report_fixtures import counts_row, fixture_rows, latency_rows

from vggablate.errors import UsageError
from vggablate.run import records
from vggablate.run.records import (
    ENV,
    IDENTITY,
    Journal,
    JournalWarning,
    atomic_write_bytes,
    atomic_write_text,
    done_trial_ids,
    last_attempts,
    latest_attempts,
    read_rows,
    to_frame,
    write_tables,
)


def test_atomic_write_replaces_and_leaves_no_temp(tmp_path):
    path = tmp_path / "summary.md"
    atomic_write_text(path, "old")
    atomic_write_text(path, "new ±")
    assert path.read_text(encoding="utf-8") == "new ±"
    assert [p.name for p in tmp_path.iterdir()] == ["summary.md"]
    assert path.stat().st_mode & 0o777 == 0o644


@pytest.mark.parametrize("fail_at", ["fsync", "replace"])
def test_atomic_write_failure_keeps_old_file(tmp_path, monkeypatch, fail_at):
    path = tmp_path / "report.html"
    atomic_write_bytes(path, b"old report")

    def boom(*args):
        raise OSError("disk full")

    monkeypatch.setattr(records.os, fail_at, boom)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_bytes(path, b"half-written new rep")
    assert path.read_bytes() == b"old report"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]  # temp file removed


def test_journal_round_trip_with_nan_numpy_and_lists(tmp_path):
    journal = Journal(tmp_path / "rows.jsonl")
    journal.append({"trial_id": "a", "top1": math.nan, "x": math.inf, "n": np.int64(3), "f": np.float32(0.5)})
    journal.extend([{"trial_id": "b", "stage_macs": (1, 2), "curve": [{"epoch": 1, "test_top1": 50.0}]}])
    text = (tmp_path / "rows.jsonl").read_text()
    assert "NaN" not in text and "Infinity" not in text
    rows = read_rows(tmp_path / "rows.jsonl")
    assert rows == [
        {"trial_id": "a", "top1": None, "x": None, "n": 3, "f": 0.5},
        {"trial_id": "b", "stage_macs": [1, 2], "curve": [{"epoch": 1, "test_top1": 50.0}]},
    ]


def test_journal_rejects_unserializable_row_before_writing(tmp_path):
    journal = Journal(tmp_path / "rows.jsonl")
    with pytest.raises(TypeError, match="when"):
        journal.append({"trial_id": "a", "when": object()})
    assert not (tmp_path / "rows.jsonl").exists()


def test_read_rows_skips_torn_last_line_with_warning(tmp_path):
    path = tmp_path / "rows.jsonl"
    Journal(path).extend([{"trial_id": "a"}, {"trial_id": "b"}])
    with open(path, "ab") as f:
        f.write(b'{"trial_id": "c", "top1": 9')  # killed mid-write
    with pytest.warns(JournalWarning, match="torn last line"):
        rows = read_rows(path)
    assert [r["trial_id"] for r in rows] == ["a", "b"]


def test_journal_repairs_torn_tail_before_appending(tmp_path):
    path = tmp_path / "rows.jsonl"
    Journal(path).append({"trial_id": "a"})
    with open(path, "ab") as f:
        f.write(b'{"trial_id": "b", "to')
    with pytest.warns(JournalWarning, match="dropping a torn last line"):
        journal = Journal(path)  # resume
    journal.append({"trial_id": "c"})
    assert [r["trial_id"] for r in read_rows(path)] == ["a", "c"]


def test_read_rows_skips_damaged_rows_with_one_warning_each(tmp_path):
    path = tmp_path / "rows.jsonl"
    good = [{"trial_id": t, "kind": "counts", "arch": "vgg11", "params": 1} for t in "abc"]
    lines = [
        json.dumps(good[0]),
        json.dumps({**good[0], "trial_id": "x", "params": "abc", "macs": "NaN"}),  # one warning, first field
        "[1, 2]",
        '{"trial_id": ',  # a damaged middle line, not a torn tail
        json.dumps({**good[1], "stage_params": [1, "2"]}),
        json.dumps({**good[1], "kind": "accuracy", "seed": None}),
        json.dumps({**good[1], "batch_size": 8.5}),
        json.dumps({**good[1], "channels_last": "yes"}),
        json.dumps({**good[1], "arch": None}),
        json.dumps(good[1]),
        json.dumps({**good[2], "seed": None, "unknown_column": "anything"}),  # null seed: fine outside accuracy
    ]
    path.write_text("\n".join(lines) + "\n")
    with pytest.warns(JournalWarning) as seen:
        rows = read_rows(path)
    assert [r["trial_id"] for r in rows] == ["a", "b", "c"]
    assert [str(w.message).removeprefix(f"{path} ") for w in seen] == [
        "line 2: params is 'abc', expected a number; row skipped",
        "line 3: a JSON list, not a row object; row skipped",
        "line 4: not a JSON row (Expecting value: line 1 column 14 (char 13)); row skipped",
        "line 5: stage_params is [1, '2'], expected a list of numbers; row skipped",
        "line 6: seed is missing, which every accuracy row needs; row skipped",
        "line 7: batch_size is 8.5, expected an integer; row skipped",
        "line 8: channels_last is 'yes', expected true or false; row skipped",
        "line 9: arch is null, expected a value; row skipped",
    ]


def test_read_rows_counts_warnings_past_ten_and_refuses_a_file_without_rows(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text(json.dumps({"trial_id": "a"}) + "\n" + '{"params": "x"}\n' * 13)
    with pytest.warns(JournalWarning) as seen:
        assert len(read_rows(path)) == 1
    assert len(seen) == 11 and str(seen[-1].message) == f"{path}: 3 more damaged rows skipped"
    path.write_text("a,b,c\n1,2,3\n4,5,6\n")  # a CSV, not a journal
    with pytest.raises(UsageError, match=r"no usable row in it \(.*line 1: not a JSON row"):
        read_rows(path)


def test_read_rows_missing_file(tmp_path):
    with pytest.raises(UsageError, match="no journal"):
        read_rows(tmp_path / "rows.jsonl")


def test_blank_lines_are_ignored(tmp_path):
    (tmp_path / "rows.jsonl").write_text('{"trial_id": "a"}\n\n{"trial_id": "b"}\n\n')
    assert [r["trial_id"] for r in read_rows(tmp_path / "rows.jsonl")] == ["a", "b"]


def _attempt(tid: str, error_type: str | None, n: int = 1, attempt: int | None = None) -> list[dict]:
    extra = {} if attempt is None else {"attempt": attempt}
    return [{"trial_id": tid, "error_type": error_type, "i": i, **extra} for i in range(n)]


def test_latest_attempts_keeps_last_attempt_per_trial():
    rows = _attempt("a", "crash") + _attempt("b", None, 2) + _attempt("a", None, 3, attempt=1) + [{"x": 1}]
    rows += _attempt("c", "timeout", attempt=0) + _attempt("c", None, attempt=1)  # retried straight away
    kept = latest_attempts(rows)
    assert [(r.get("trial_id"), r.get("error_type"), r.get("i")) for r in kept] == [
        ("b", None, 0),
        ("b", None, 1),
        ("a", None, 0),
        ("a", None, 1),
        ("a", None, 2),
        (None, None, None),
        ("c", None, 0),
    ]
    assert last_attempts(rows) == {"a": 1, "b": 0, "c": 1}


def test_done_trial_ids_and_retry_errors():
    rows = _attempt("ok", None) + _attempt("oom", "oom") + _attempt("crash", "crash") + _attempt("slow", "timeout")
    rows += _attempt("exc", "exception") + _attempt("retried", "crash") + _attempt("retried", None, attempt=1)
    assert done_trial_ids(rows) == {"ok", "oom", "crash", "slow", "exc", "retried"}
    # An OOM is a measurement; the other failures are retried on request.
    assert done_trial_ids(rows, retry_errors=True) == {"ok", "oom", "retried"}


def test_to_frame_column_order_and_lists():
    rows = [counts_row("vgg11"), {**latency_rows("vgg16", "fp32", "infer")[0], "zz_extra": 1, "env_new": "x"}]
    frame = to_frame(rows)
    cols = list(frame.columns)
    assert cols[: len(IDENTITY)] == list(IDENTITY)
    assert cols.index("error") < cols.index("params") < cols.index("latency_ms_p50") < cols.index("zz_extra")
    assert cols[-len(ENV) - 1 :] == [*ENV, "env_new"]
    assert frame.loc[0, "stage_macs"] == counts_row("vgg11")["stage_macs"]
    assert to_frame([]).empty


def test_write_tables_csv_and_parquet_agree_with_rows(tmp_path):
    rows = fixture_rows()
    frame = to_frame(rows)
    paths = write_tables(tmp_path, frame)
    assert [p.name for p in paths] == ["rows.csv", "rows.parquet"]
    csv = pd.read_csv(tmp_path / "rows.csv")
    pq = pd.read_parquet(tmp_path / "rows.parquet")
    assert len(csv) == len(pq) == len(rows)
    assert list(pq.columns) == list(frame.columns)
    vgg16 = rows.index(counts_row("vgg16"))
    assert json.loads(csv.loc[vgg16, "stage_macs"]) == rows[vgg16]["stage_macs"]
    assert list(pq.loc[vgg16, "stage_macs"]) == rows[vgg16]["stage_macs"]
    assert pq.loc[vgg16, "params"] == rows[vgg16]["params"]
    acc = next(i for i, r in enumerate(rows) if r["kind"] == "accuracy")
    assert [p["epoch"] for p in pq.loc[acc, "curve"]] == list(range(1, 11))


def test_write_tables_survives_a_mixed_type_column(tmp_path):
    frame = to_frame([{"trial_id": "a", "odd": [1, 2]}, {"trial_id": "b", "odd": "text"}])
    write_tables(tmp_path, frame)
    assert list(pd.read_parquet(tmp_path / "rows.parquet")["odd"]) == ["[1, 2]", "text"]


def test_no_leftover_temp_files(tmp_path):
    write_tables(tmp_path, to_frame([counts_row("vgg11")]))
    assert sorted(os.listdir(tmp_path)) == ["rows.csv", "rows.parquet"]
