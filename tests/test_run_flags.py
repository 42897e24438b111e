"""`bench run`'s flags and pre-run checks, in process: --archs forms, names, new flags, warnings, exit codes."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from bench import archs_arg, cmd_run
from bench.__main__ import build_parser
from bench.common import BUSY_LOAD_PER_CPU, contention_warning
from vggablate.arch.spec import ArchSpec, parse_cfg
from vggablate.errors import UsageError
from vggablate.run import drive as runner
from vggablate.run import sweep
from vggablate.run.records import Journal
from vggablate.run.sweepconfig import SweepConfig, build_config, check_name, from_mapping, read_sweep_file, to_toml
from vggablate.run.trial import Trial, trial_id


def parse(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["run", *argv])


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("64,M,vgg11,M", "--archs '64,M,vgg11,M': token 4 'M' is no cfg"),
        ("vgg11,M", "token 2 'M' is no cfg"),
        ("M,LRN;64", "--archs 'M,LRN': tokens 1-2 'M,LRN' is no cfg"),
        ("64;Mx2,vgg11", "--archs 'Mx2,vgg11': token 1 'Mx2' is no cfg"),
    ],
)
def test_split_archs_refuses_a_cfg_without_a_conv(text, fragment):
    with pytest.raises(UsageError, match="separate two cfgs with ';'") as err:
        archs_arg.split_archs(text)
    assert fragment in str(err.value) and "names comma-separated (vgg11,vgg16)" in str(err.value)


def test_split_archs_groups_every_cfg_token():
    assert archs_arg.split_archs("vgg11,64,LRNx2,M;32,Lx1") == ["vgg11", "64,LRNx2,M", "32,Lx1"]


@pytest.mark.parametrize("text", ["vgg11,64,M,128k5x2,M", "vgg1*,64,M", "nothing_like_an_arch", "64,M;32"])
def test_check_archs_accepts_names_globs_and_cfgs(text):
    archs_arg.check_archs(text)  # unknown names alone are left to the resolver's own error


def test_check_archs_names_the_token_and_both_forms():
    with pytest.raises(UsageError) as err:
        archs_arg.check_archs("vgg11;64,M,VGG13")
    message = str(err.value)
    assert message.startswith("--archs '64,M,VGG13': token 3 'VGG13' is neither a cfg token nor a registered arch")
    assert "(did you mean vgg13?)" in message and "a cfg as comma-separated tokens" in message


def test_check_archs_sees_arch_files(tmp_path):
    path = tmp_path / "a.toml"
    path.write_text("[archs.flags_tiny]\ncfg = '8,M,16'\nhead = 'gap'\n")
    try:
        archs_arg.check_archs("flags_tiny,64,M", [str(path)])
    finally:
        from vggablate.arch.registry import _ARCHS

        _ARCHS.pop("flags_tiny", None)


def test_new_flags_reach_the_sweep():
    layer = cmd_run.flag_layer(parse("--archs", "vgg11", "--num-classes", "10", "--no-batch-norm", "--no-download"))
    assert (layer["num_classes"], layer["batch_norm"], layer["download"]) == (10, False, False)
    assert {"num_classes", "batch_norm", "download"}.isdisjoint(cmd_run.flag_layer(parse("--archs", "vgg11")))
    cfg = build_config([layer])
    assert (cfg.num_classes, cfg.batch_norm, cfg.download) == (10, False, False)


def test_new_fields_round_trip_and_old_config_files_keep_their_defaults(tmp_path):
    cfg = SweepConfig(archs=("vgg11",), batch_norm=True, num_classes=10, download=False)
    path = tmp_path / "config.toml"
    path.write_text(to_toml(cfg))
    assert SweepConfig(**read_sweep_file(path)) == cfg
    old = SweepConfig(**from_mapping({"archs": ["vgg11"]}, "old"))  # a config.toml from before these fields
    assert (old.batch_norm, old.num_classes, old.download) == (None, None, True)


def test_arch_options_apply_to_every_spec():
    cfg = build_config([{"archs": ("vgg11", "16,M"), "batch_norm": True, "num_classes": 7, "metrics": ("params",)}])
    trials = runner.resolve_trials(cfg)
    assert {(t.spec.name, t.spec.batch_norm, t.spec.num_classes) for t in trials} == {
        ("vgg11", True, 7),
        ("16,M", True, 7),
    }
    plain = runner.resolve_trials(build_config([{"archs": ("vgg11_bn",), "metrics": ("params",)}]))
    assert plain[0].spec.batch_norm is True and plain[0].spec.num_classes == 1000  # unset: the arch's own


def test_head_has_help():
    assert "global pool" in build_parser()._subparsers._group_actions[0].choices["run"].format_help()


@pytest.mark.parametrize("name", ["kernels", "bs8_fp16", "v1.2+lr=0.1@home", "größe", "x" * 100])
def test_plain_names_pass(name):
    assert check_name(name) == name


@pytest.mark.parametrize(
    "name, fragment",
    [
        ("../../escape", "contains '/', '..'"),
        ("a\\b", "contains '\\\\'"),
        ("a..b", "contains '..'"),
        ("my run", "contains ' '"),
        ("x:y", "contains ':'"),
        ("x" * 101, "is over 100 characters long"),
    ],
)
def test_unsafe_names_are_refused(name, fragment):
    with pytest.raises(UsageError, match="it becomes a folder name") as err:
        build_config([{"archs": ("vgg11",), "name": name}])
    assert fragment in str(err.value)


def test_default_names_are_plain():
    cfg = SweepConfig(archs=("vgg1*_bn", "64,M,128k5x2", "my arch/v2"))
    assert check_name(sweep.default_name(cfg))


def test_unknown_key_lists_the_readme_spellings():
    with pytest.raises(UsageError) as err:
        from_mapping({"archs": ["vgg11"], "colour": "red"}, "config file 's.toml'")
    allowed = str(err.value).split("allowed: ")[1].split(", ")
    assert {"precision", "mode", "width", "batch_sizes", "archs", "metrics", "seeds"} <= set(allowed)
    assert {"precisions", "modes", "widths"}.isdisjoint(allowed)
    assert from_mapping({"precisions": ["bf16"], "width": 0.5}, "f") == {"precisions": ("bf16",), "widths": (0.5,)}


def _plan(tmp_path: Path, rows_by_trial: list[list[dict]]) -> runner.Plan:
    spec = ArchSpec(name="t", cfg=parse_cfg("8,M"))
    trials = [Trial(spec, kind="latency", batch_size=b) for b in range(1, len(rows_by_trial) + 1)]
    folder = sweep.RunFolder(tmp_path)
    journal = Journal(folder.journal)
    for trial, rows in zip(trials, rows_by_trial):
        journal.extend({"trial_id": trial_id(trial), **row} for row in rows)
    return runner.Plan(SweepConfig(archs=("t",)), folder, trials, [])


def test_failures_count_the_latest_attempt_and_not_oom(tmp_path, capsys):
    plan = _plan(
        tmp_path,
        [
            [{"attempt": 0, "error_type": "timeout"}, {"attempt": 1, "error_type": None}],  # fixed by a retry
            [{"attempt": 0, "error_type": "oom"}],  # a result
            [{"attempt": 0, "error_type": None}, {"attempt": 1, "error_type": "crash"}],
            [{"error_type": "exception"}],
            [{"error_type": "timeout"}],
        ],
    )
    assert runner.failures(plan) == {"crash": 1, "exception": 1, "timeout": 1}
    assert cmd_run.report_failures(plan) == 1
    assert capsys.readouterr().err == (
        f"3 of 5 trials failed (timeout 1, crash 1, exception 1): see the Errors table in {tmp_path / 'summary.md'}; "
        f"rerun them with python -m bench run --resume {tmp_path} --retry-errors\n"
    )


def test_no_failures_exit_0_quietly(tmp_path, capsys):
    plan = _plan(tmp_path, [[{"error_type": None}], [{"error_type": "oom"}]])
    assert cmd_run.report_failures(plan) == 0 and capsys.readouterr().err == ""


def _timing_plan(*trials: Trial) -> runner.Plan:
    return runner.Plan(SweepConfig(archs=("t",)), sweep.RunFolder(Path(".")), list(trials), list(trials))


SPEC = ArchSpec(name="t", cfg=parse_cfg("8,M"))


def test_fp16_on_cpu_warns_once(monkeypatch, capsys):
    monkeypatch.setattr("vggablate.measure.env.load_average", lambda: 0.0)
    args = parse("--archs", "t")
    fp16 = [Trial(SPEC, kind=k, precision="fp16", batch_size=b) for k in ("latency", "memory") for b in (1, 2)]
    cmd_run.warn_about_timing(_timing_plan(*fp16), args)
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("warning: fp16 autocast on CPU lacks fast kernels")
    assert "bf16 is the CPU's half precision" in line
    cmd_run.warn_about_timing(_timing_plan(Trial(SPEC, kind="latency", precision="bf16")), args)
    cmd_run.warn_about_timing(_timing_plan(Trial(SPEC, kind="latency", precision="fp16", device="cuda")), args)
    assert capsys.readouterr().err == ""


def test_a_busy_machine_warns_before_cpu_latency(monkeypatch, capsys):
    monkeypatch.setattr("vggablate.measure.env.load_average", lambda: 3.0)
    monkeypatch.setattr("vggablate.measure.env.available_cpus", lambda: 2)
    args = parse("--archs", "t")
    cmd_run.warn_about_timing(_timing_plan(Trial(SPEC, kind="latency")), args)
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("warning: 1-minute load average 3.00 on 2 CPU(s)") and "rerun on a quiet machine" in line
    cmd_run.warn_about_timing(_timing_plan(Trial(SPEC, kind="counts"), Trial(SPEC, kind="accuracy")), args)
    cmd_run.warn_about_timing(_timing_plan(Trial(SPEC, kind="latency", device="cuda")), args)
    ray = parse("--archs", "t", "--executor", "ray", "--ray-address", "head:6379")  # the load is the nodes'
    cmd_run.warn_about_timing(_timing_plan(Trial(SPEC, kind="latency")), ray)
    assert capsys.readouterr().err == ""


def test_contention_threshold():
    assert contention_warning(None, 2) is None
    assert contention_warning(BUSY_LOAD_PER_CPU * 4, 4) is None
    assert "load average 2.10 on 4 CPU(s)" in contention_warning(2.1, 4)
