"""Non-finite and absurd numbers (issue 22): refused where they are read, with one line, before any work."""

from __future__ import annotations

import pytest
from cli_helpers import bench_main
from hostile_helpers import assert_refused, snapshot

from vggablate.checks.numbers import check_number, parse_float, parse_int
from vggablate.data.clutter import parse_clutter
from vggablate.errors import UsageError

# One example per numeric flag of every command (argparse's type), each refused at parse time.
FLAGS = [
    (["run", "--archs", "vgg11", "--timeout", "nan"], "expected a finite number, got 'nan'"),
    (["run", "--archs", "vgg11", "--epochs", "nan"], "expected a finite number"),
    (["run", "--archs", "vgg11", "--latency-budget", "inf"], "expected a finite number"),
    (["run", "--archs", "vgg11", "--seeds", "99999999999"], "must be <= 1000"),
    (["run", "--archs", "vgg11", "--input-size", "٣٢"], "expected a whole number"),  # int() would read it
    (["run", "--archs", "vgg11", "--num-classes", "1_000"], "expected a whole number"),
    (["train", "vgg11", "--epochs", "nan"], "expected a finite number"),
    (["train", "vgg11", "--lr", "-0"], "must be > 0"),
    (["train", "vgg11", "--width", "1e999"], "expected a finite number"),
    (["train", "vgg11", "--target-top1", "101"], "must be <= 100"),
    (["train", "vgg11", "--steps", "1.5"], "expected a whole number"),
    (["profile", "vgg11", "--latency-budget", "nan"], "expected a finite number"),
    (["profile", "vgg11", "--timeout", "-1"], "must be > 0"),
    (["measure", "vgg11", "--latency-budget", "inf"], "expected a finite number"),
    (["measure", "vgg11", "--budget", "1e9"], "must be <= 604800"),
    (["measure", "vgg11", "--threads", "0"], "must be >= 1"),
    (["show", "vgg11", "--input-size", "nan"], "expected a whole number"),
    (["show", "vgg11", "--width=-inf"], "expected a finite number"),
    (["claims", "--epochs", "nan"], "expected a finite number"),
    (["claims", "--seeds", "0"], "must be >= 1"),
    (["claims", "--width", "NaN"], "expected a finite number"),
    (["compare", "a", "b", "--quantile", "nan"], "expected a finite number"),
    (["compare", "a", "b", "--level", "inf"], "expected a finite number"),
    (["compare", "a", "b", "--mem-threshold", "nan"], "expected a finite number"),
    (["compare", "a", "b", "--seed", "-1"], "must be >= 0"),
    (["compare", "a", "b", "--resamples", "1e3"], "expected a whole number"),
    (["ab", "--archs", "vgg11", "--a", ".", "--b", ".", "--warmup", "nan"], "expected a whole number"),
    (["ab", "--archs", "vgg11", "--a", ".", "--b", ".", "--min-effect", "inf"], "expected a finite number"),
    (["eval", "vgg11", "--weights", "x", "--dataset", "imagefolder:x", "--workers", "-1"], "must be >= 0"),
    (["gpu-check", "--budget", "nan"], "expected a finite number"),
    (["gpu-check", "--timeout", "0"], "must be > 0"),
]


@pytest.mark.parametrize("argv, fragment", FLAGS, ids=[" ".join(a[:1] + a[-2:]) for a, _ in FLAGS])
def test_numeric_flags_refuse_non_finite_and_out_of_range(tmp_path, monkeypatch, argv, fragment):
    monkeypatch.chdir(tmp_path)
    assert_refused(bench_main(*argv), fragment)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["--width", "nan"], "--width must be finite numbers"),
        (["--width", "0.5,inf"], "--width must be finite numbers"),
        (["--batch-sizes", "1,nan"], "batch size must be comma-separated whole numbers"),
        (["--batch-sizes", "²"], "batch size must be comma-separated whole numbers"),
        (["--batch-sizes", "1" * 5000], "batch size must be comma-separated whole numbers"),
        (["--dataset", "clutter:canvas=4²", "--metrics", "accuracy"], "clutter parameter canvas needs a whole number"),
    ],
)
def test_run_list_values_are_finite(tmp_path, argv, fragment):
    assert_refused(bench_main("run", "--archs", "8,M", "--out", str(tmp_path), *argv), fragment)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "line, fragment",
    [
        ("epochs = nan", "epochs must be a finite number, got nan"),
        ("epochs = inf", "epochs must be a finite number, got inf"),
        ("epochs = 1e300", "epochs must be <= 100000"),
        ("width = [0.5, nan]", "width must be a list of finite numbers"),
        ("timeout_s = -inf", "timeout_s must be a finite number"),
        ("latency_budget_s = nan", "latency_budget_s must be a finite number"),
        ("seeds = 1.5", "seeds must be a whole number, got 1.5"),
        ("seeds = true", "seeds must be a whole number, got True"),
        ('batch_sizes = ["8"]', "batch_sizes must be a list of whole numbers"),
        ('channels_last = "yes"', "channels_last must be a boolean (true or false), got 'yes'"),
        ('name = "../x"', "run name '../x' contains '/'"),
    ],
)
def test_sweep_file_values_are_typed_and_finite(tmp_path, line, fragment):
    config = tmp_path / "sweep.toml"
    config.write_text(f'archs = ["8,M"]\nmetrics = ["params"]\n{line}\n')
    before = snapshot(tmp_path)
    assert_refused(bench_main("run", "--config", str(config), "--out", str(tmp_path / "out")), fragment)
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("key", ["canvas=4²", "canvas=٤٠", "canvas=1e3", "canvas=-40", "canvas=" + "9" * 40, "x=1"])
def test_clutter_keys_are_ascii_whole_numbers(tmp_path, key):
    proc = bench_main("data", "show", f"clutter:{key}", "--out", str(tmp_path / "x.png"))
    assert_refused(proc, "clutter")
    assert list(tmp_path.iterdir()) == []


def test_claims_refuses_an_empty_claim_list_instead_of_running_every_claim(tmp_path):
    assert_refused(bench_main("claims", "--claims", "", "--out", str(tmp_path)), "empty item")
    assert list(tmp_path.iterdir()) == []


def test_number_parsers_take_ascii_decimals_only():
    assert parse_float("0.5") == 0.5 and parse_float("1e-3") == 0.001 and parse_float("+2") == 2.0
    assert parse_int("8") == 8 and parse_int("+8") == 8
    for text in ("nan", "inf", "-inf", "1e999", "0x10", "1_0", "٣", "", " "):
        with pytest.raises(ValueError):
            parse_float(text)
    for text in ("1.0", "1e3", "²", "9" * 16):
        with pytest.raises(ValueError):
            parse_int(text)
    assert check_number(3, "n", integer=True) == 3
    for bad in (float("nan"), float("inf"), True, "3", -0.0):
        with pytest.raises(UsageError):
            check_number(bad, "n")


def test_parse_clutter_refuses_unicode_digits_in_one_line():
    with pytest.raises(UsageError, match="needs a whole number"):
        parse_clutter("clutter:canvas=4²")
