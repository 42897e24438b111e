"""`bench baseline save`, `bench compare` and `bench ab` from the command line: files, tables, exit codes 0/1/2."""

from __future__ import annotations

import json

import pytest
from test_regress import rows, samples

from bench.__main__ import main


def write_run(folder, journal: list[dict]):
    """Write a run folder: rows.jsonl (one row per line) and env.json."""
    folder.mkdir(parents=True)
    (folder / "rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in journal))
    (folder / "env.json").write_text("{}\n")
    return folder


@pytest.fixture
def base_file(tmp_path, capsys):
    run = write_run(tmp_path / "runs" / "20250101-000000-base", rows())
    path = tmp_path / "baselines" / "main.json"
    assert main(["baseline", "save", str(run), "--to", str(path)]) == 0
    assert f"baseline: 3 setting(s) from {run} -> {path}" in capsys.readouterr().out
    return path


def test_baseline_save_writes_gated_figures(base_file):
    data = json.loads(base_file.read_text())
    assert data["format"] == "vggablate-baseline/1" and data["machine"]["cpu"] == "AMD EPYC"
    metrics = {s["setting"]["kind"]: s["metrics"] for s in data["settings"]}
    assert metrics["counts"] == {"params": 1000, "macs": 50000, "conv_layers": 8}
    assert len(metrics["latency"]["latency_samples_ms"]) == 80 and "latency_ms_p50" not in metrics["latency"]
    assert not list(base_file.parent.glob(".*tmp"))  # the atomic write left no temp file


def test_compare_same_is_exit_0(base_file, tmp_path, capsys):
    run = write_run(tmp_path / "current", rows())
    out_md = tmp_path / "cmp.md"
    assert main(["compare", str(base_file), str(run), "--out", str(out_md)]) == 0
    out = capsys.readouterr().out
    assert "| metric | setting | old | new | change | status |" in out and "**no regression**" in out
    assert out_md.read_text() == out


@pytest.mark.parametrize(
    ("current", "flags", "code"),
    [
        (rows(params=1001), [], 1),
        (rows(params=1001), ["--allow-count-change"], 0),
        (rows(scale_mem=1.10), [], 1),
        (rows(scale_mem=1.10), ["--mem-threshold", "15"], 0),
        (rows(scale_mem=1.04), ["--mem-threshold-for", "mem_analytic_mb=3"], 1),
        (rows(lat=[1.3 * s for s in samples(seed=5)]), [], 1),
        (rows(lat=[1.3 * s for s in samples(seed=5)]), ["--min-effect", "40"], 0),
    ],
)  # fmt: skip
def test_compare_exit_codes(base_file, tmp_path, capsys, current, flags, code):
    run = write_run(tmp_path / "current", current)
    assert main(["compare", str(base_file), str(run), *flags]) == code
    assert ("**REGRESSED**" in capsys.readouterr().out) == (code == 1)


def test_other_machine_needs_force(base_file, tmp_path, capsys):
    slow = [{**r, "env_cpu": "Intel Xeon"} for r in rows(lat=[1.3 * s for s in samples(seed=5)])]
    run = write_run(tmp_path / "current", slow)
    assert main(["compare", str(base_file), str(run)]) == 0
    captured = capsys.readouterr()
    assert "warning: different machine: cpu 'AMD EPYC' -> 'Intel Xeon'" in captured.err
    assert "skipped (different machine; use --force)" in captured.out
    assert main(["compare", str(base_file), str(run), "--force"]) == 1


@pytest.mark.parametrize(
    ("current", "message"),
    [
        (rows("vgg16"), "error: different archs: only in baseline: vgg11; only in current: vgg16"),
        ([{k: v for k, v in r.items() if k != "mem_weights_mb"} for r in rows()],
         "error: missing metric(s) in current: mem_weights_mb (vgg11 memory infer bs8"),
        (rows(lat=[5.0] * 3), "error: vgg11 latency infer bs8 fp32 32px cpu w0.125 head=gap classes=10: too few"),
    ],
)  # fmt: skip
def test_unusable_input_is_one_line_exit_2(base_file, tmp_path, capsys, current, message):
    run = write_run(tmp_path / "current", current)
    assert main(["compare", str(base_file), str(run)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1


def test_missing_inputs_exit_2(tmp_path, capsys):
    assert main(["compare", str(tmp_path / "nope.json"), str(tmp_path)]) == 2
    assert main(["baseline", "save", str(tmp_path), "--to", str(tmp_path / "b.json")]) == 2
    assert main(["ab", "--archs", "vgg11", "--a", "no-such-rev-xyz", "--b", "."]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0] == f"error: {tmp_path / 'nope.json'}: no such baseline file or run folder"
    assert err[1].startswith(f"error: {tmp_path}: a folder without rows.jsonl")
    assert err[2].startswith("error: --a 'no-such-rev-xyz' is neither '.', a python executable nor a git revision")
