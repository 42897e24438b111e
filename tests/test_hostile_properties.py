"""Property-based hostile input (issue 22), with Hypothesis: random cfgs, --archs, clutter keys, TOML values, flags.

The property for all of them: success, or a usage error in one line (exit 2); never a traceback, never a
write outside the output folder. In-process and parse-only (no model is built), bounded examples: the
whole file takes seconds.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import math
import os
import tempfile
from pathlib import Path

import tomli_w
from cli_helpers import bench_main
from hostile_helpers import assert_one_line_or_success, assert_refused, snapshot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.__main__ import build_parser
from bench.archs_arg import check_archs, split_archs
from vggablate.arch.archfile import read_arch_file
from vggablate.checks.names import check_spec_name
from vggablate.data.clutter import check_fits, parse_clutter
from vggablate.errors import UsageError
from vggablate.run.sweep import resolve_archs
from vggablate.run.sweepconfig import build_config, read_sweep_file

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Pieces of cfgs, names, globs and paths, so that random strings are often nearly valid.
PIECES = ["8", "16", "64", "128k5", "x2", "x1000", "M", "LRN", "L", "k3", ",", ";", "vgg11", "vgg1*", "_bn", "*",
          "?", "[", "]", "../", "/", ".", "-", " ", "é", "²", "٣", "0", "99999999999"]  # fmt: skip
cfg_text = st.lists(st.sampled_from(PIECES), max_size=8).map("".join)


@contextlib.contextmanager
def empty_workdir():
    """Run in a fresh empty folder and check that nothing was written there."""
    old = os.getcwd()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        try:
            yield Path(tmp)
            assert list(Path(tmp).iterdir()) == [], "a parse-only command wrote a file"
        finally:
            os.chdir(old)


@FAST
@given(cfg_text)
def test_show_takes_any_cfg_string_or_refuses_it_in_one_line(text):
    with empty_workdir():
        proc = bench_main("show", "--input-size", "32", "--", text)
    assert_one_line_or_success(proc)


@FAST
@given(cfg_text)
def test_archs_values_resolve_or_raise_a_usage_error(text):
    try:
        check_archs(text)
        specs = resolve_archs(build_config([{"archs": tuple(split_archs(text)), "metrics": ("params",)}]))
    except UsageError as exc:
        assert "\n" not in str(exc)
        return
    assert specs and all(check_spec_name(s.name, s.cfg_str) for s in specs)


clutter_value = st.one_of(st.integers(-5, 10**18).map(str), st.text(max_size=6), st.sampled_from(["4²", "٤٠", "1e3"]))
clutter_key = st.sampled_from(["canvas", "digit", "patches", "patch", "placements", "test_placements", "x", ""])
clutter_name = st.lists(st.tuples(clutter_key, clutter_value), max_size=4).map(
    lambda items: "clutter:" + ",".join(f"{k}={v}" for k, v in items)
)


@FAST
@given(clutter_name)
def test_clutter_keys_parse_or_raise_a_usage_error(name):
    try:
        check_fits(parse_clutter(name))
    except UsageError as exc:
        assert "\n" not in str(exc)


@settings(max_examples=25, deadline=None)
@given(clutter_name)
def test_data_show_refuses_hostile_keys_and_a_folder_output_before_building(name):
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "folder").mkdir()
        before = snapshot(Path(tmp))
        proc = bench_main("data", "show", name, "--out", str(Path(tmp) / "folder"))
        assert_refused(proc)  # a bad key, too big, or the folder given as the PNG: never built, never written
        assert snapshot(Path(tmp)) == before


toml_value = st.one_of(
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.sampled_from(["8,M", "16,M,32k5", "gap", "imagenet", "64x99999", "yes"]),
    st.lists(st.one_of(st.integers(-3, 600), st.sampled_from(["M", "8", "x"])), max_size=4),
)
arch_keys = st.sampled_from(["cfg", "batch_norm", "width", "in_channels", "num_classes", "head", "dropout",
                             "description", "depth"])  # fmt: skip
arch_name = st.one_of(
    st.sampled_from(["tiny", "../../evil", "vgg1*", "64,M", "64", ".x", "ok@w1"]), st.text(max_size=12)
)


@FAST
@given(arch_name, st.dictionaries(arch_keys, toml_value, max_size=5))
def test_arch_files_of_any_toml_values_load_or_raise_a_usage_error(name, body):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "archs.toml"
        path.write_text(tomli_w.dumps({"archs": {name: body}}))
        try:
            specs = read_arch_file(path)
        except UsageError as exc:
            assert "\n" not in str(exc)
            return
    (spec,) = specs
    assert check_spec_name(spec.name, spec.cfg_str) == name and isinstance(spec.batch_norm, bool)
    assert math.isfinite(spec.width) and math.isfinite(spec.dropout) and isinstance(spec.num_classes, int)


sweep_keys = st.sampled_from(["archs", "metrics", "batch_sizes", "batch_size", "input_size", "precision", "mode",
                              "channels_last", "epochs", "seeds", "width", "head", "batch_norm", "num_classes",
                              "timeout_s", "latency_budget_s", "name", "download", "colour"])  # fmt: skip


@FAST
@given(st.dictionaries(sweep_keys, toml_value, max_size=6))
def test_sweep_files_of_any_toml_values_load_or_raise_a_usage_error(layer):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sweep.toml"
        path.write_text(tomli_w.dumps({"archs": ["8,M"], **layer}))
        try:
            cfg = build_config([read_sweep_file(path)])
        except UsageError as exc:
            assert "\n" not in str(exc)
            return
    numbers = [cfg.timeout_s, cfg.latency_budget_s, *cfg.widths, cfg.epochs or 1.0]
    assert all(isinstance(x, float) and math.isfinite(x) and x > 0 for x in numbers)
    assert all(isinstance(b, int) and not isinstance(b, bool) and b >= 1 for b in cfg.batch_sizes)


def numeric_flags() -> list[tuple[list[str], str]]:
    """Every number-typed flag of every command, with the positionals its command needs."""
    needs = {"train": ["vgg11"], "measure": ["vgg11"], "profile": ["vgg11"], "show": ["vgg11"], "compare": ["a", "b"],
             "rank": ["a", "b"], "eval": ["vgg11", "--weights", "w", "--dataset", "imagefolder:x"],
             "ab": ["--archs", "vgg11", "--a", ".", "--b", "."]}  # fmt: skip
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    out = []
    for command, parser in sub.choices.items():
        for action in parser._actions:
            if getattr(action.type, "__name__", "") in ("integer", "number") and action.option_strings:
                out.append(([command, *needs.get(command, [])], action.option_strings[0]))
    return out


FLAGS = numeric_flags()
number_text = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-(10**20), 10**20).map(str),
    st.sampled_from(["nan", "-nan", "inf", "1e999", "-0", "0", "²", "٣", "1_000", "0x10", "", " 1 "]),
    st.text(max_size=6),
)


def test_every_numeric_flag_is_covered():
    names = {flag for _, flag in FLAGS}
    assert len(FLAGS) >= 40 and {"--timeout", "--epochs", "--latency-budget", "--width", "--seeds"} <= names


@settings(max_examples=50, deadline=None)
@given(st.sampled_from(FLAGS), number_text)
def test_numeric_flags_parse_to_finite_numbers_or_refuse_in_one_line(flag, text):
    argv, name = flag
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            args = build_parser().parse_args([*argv, f"{name}={text}"])
        except SystemExit as exc:
            assert exc.code == 2
            lines = err.getvalue().strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err.getvalue()
            return
    value = next(v for k, v in vars(args).items() if isinstance(v, (int, float)) and k in _dests(name))
    assert not isinstance(value, bool) and math.isfinite(value)


def _dests(flag: str) -> set[str]:
    plain = flag.lstrip("-").replace("-", "_")
    return {plain, f"{plain}_s", "budget", "timeout_s", "latency_budget_s"}
