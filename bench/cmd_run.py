"""``python -m bench run``: the main job, a sweep from archs to a results folder and report."""

from __future__ import annotations

import argparse
import contextlib
import sys
from typing import TYPE_CHECKING

from bench.archs_arg import check_archs, split_archs
from bench.common import (  # noqa: F401 (finish and report_failures: cmd_run's, before they moved to common)
    DATASETS_HELP,
    EXIT_TRIALS_FAILED,
    HEAD_HELP,
    add_class_and_bn_options,
    check_parent_folder,
    epochs_type,
    finish,
    parse_float,
    positive_int,
    report_failures,
    seconds,
    seeds_type,
    split_list,
)
from vggablate.errors import UsageError
from vggablate.schema import HEADS, KINDS

if TYPE_CHECKING:
    from vggablate.run.drive import Plan
    from vggablate.run.sweepconfig import SweepConfig


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register the run command."""
    p = sub.add_parser("run", help="run a sweep: measure, train, report")
    p.add_argument("--archs", help="names, globs ('vgg1*_bn') or cfg strings; separate with commas "
                   "(cfg tokens are grouped: 'vgg11,64,M,128,M') or ';'")  # fmt: skip
    p.add_argument("--arch-file", action="append", dest="arch_files", metavar="FILE.toml",
                   help="register the named archs of a TOML file (repeatable)")  # fmt: skip
    p.add_argument("--config", metavar="SWEEP.toml", help="a whole sweep in one file; flags override it")
    p.add_argument("--metrics", help="comma list of params,macs,latency,memory,accuracy (default: all), "
                   "and layers (per-layer profile; only by name)")  # fmt: skip
    p.add_argument("--device", default="auto", help="auto (default), cpu or cuda")
    p.add_argument("--batch-sizes", help="comma list, e.g. 1,8,32")
    p.add_argument("--input-size", type=positive_int, help="square input side for counts/latency/memory")
    p.add_argument("--precision", help="comma list of fp32,tf32,bf16,fp16")
    p.add_argument("--channels-last", action=argparse.BooleanOptionalAction, default=None)
    p.add_argument("--compile", action=argparse.BooleanOptionalAction, default=None, help="torch.compile")
    p.add_argument("--mode", help="comma list of infer,train")
    p.add_argument("--dataset", help=DATASETS_HELP)
    p.add_argument("--data-dir", help="where datasets are found first, and cached (default: $VGGABLATE_DATA or "
                   "~/.cache/vggablate)")  # fmt: skip
    p.add_argument("--no-download", dest="download", action="store_false", default=None,
                   help="fail instead of downloading a missing data set (CIFAR, Fashion-MNIST)")  # fmt: skip
    p.add_argument("--epochs", type=epochs_type, help="training budget in epochs")
    p.add_argument("--seeds", type=seeds_type, help="training runs per arch (default 1)")
    p.add_argument("--width", help="channel multiplier(s), comma list for a grid")
    p.add_argument("--head", choices=HEADS, help=HEAD_HELP)
    add_class_and_bn_options(p, classes_note=" for counts, latency and memory (accuracy uses the data set's)")
    p.add_argument("--timeout", type=seconds, dest="timeout_s", help="seconds per trial (default 900)")
    p.add_argument("--latency-budget", type=seconds, dest="latency_budget_s",
                   help="seconds of timed samples per latency trial (default 1.5 on CPU, 2 on CUDA)")  # fmt: skip
    p.add_argument("--out", default="results/runs", help="parent folder of run folders (default results/runs)")
    p.add_argument("--name", help="run name, part of the folder name")
    p.add_argument("--resume", metavar="RUN_DIR", help="finish an interrupted run in its folder")
    p.add_argument("--retry-errors", action="store_true", help="with --resume, rerun crashed/timed-out trials")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.add_argument("--executor", choices=("local", "ray"), default="local",
                   help="local (default): one trial at a time here; ray: Ray tasks (docs/ray.md)")  # fmt: skip
    p.add_argument("--ray-address", metavar="auto|HOST:PORT",
                   help="with --executor ray, join this cluster (default: start a local Ray instance)")  # fmt: skip
    p.set_defaults(func=main)


def flag_layer(args: argparse.Namespace) -> dict:
    """The sweep fields given as flags (None where not given)."""
    from bench.common import choice_list, int_list
    from vggablate.run.sweepconfig import METRICS, OPT_IN_METRICS, from_mapping
    from vggablate.schema import MODES, PRECISIONS

    def widths(text: str) -> tuple[float, ...]:
        items = split_list(text, "width")
        try:
            values = tuple(parse_float(t) for t in items)  # finite: nan and inf are refused here
        except ValueError:
            raise UsageError(f"--width must be finite numbers, e.g. 0.5 or 0.25,0.5; got {text!r}") from None
        if not values or min(values) <= 0:
            raise UsageError(f"--width must be > 0, got {text!r}")
        return values

    conv = {
        "archs": lambda v: tuple(split_archs(v)),
        "metrics": lambda v: choice_list(v, METRICS + OPT_IN_METRICS, "metric"),
        "batch_sizes": lambda v: int_list(v, "batch size"),
        "precision": lambda v: choice_list(v, PRECISIONS, "precision"),
        "mode": lambda v: choice_list(v, MODES, "mode"),
        "width": widths,
        "arch_files": tuple,
    }
    out = {}
    keys = ("archs", "metrics", "batch_sizes", "input_size", "precision", "channels_last", "compile", "mode",
            "dataset", "data_dir", "download", "epochs", "seeds", "width", "head", "batch_norm", "num_classes",
            "arch_files", "timeout_s", "latency_budget_s", "name")  # fmt: skip
    for key in keys:
        value = getattr(args, key)
        if value is not None:
            out[key] = conv[key](value) if key in conv else value
    return from_mapping(out, "flags")  # the flags' singular names become SweepConfig's plural fields there


def device_and_reason(requested: str, cuda_here: bool = True) -> tuple[str, str]:
    """Return the device to use and why; cuda_here=False: CUDA is on the Ray workers, checked there."""
    from vggablate.run.device import resolve_device

    device = resolve_device(requested, check_cuda=cuda_here)
    if requested == "auto":
        return device, "auto: CUDA found" if device == "cuda" else "auto: no CUDA"
    return device, "as asked"


def main(args: argparse.Namespace) -> int:
    """Resolve the sweep, run the pending trials, build the reports; exit 1 when trials failed."""
    from vggablate.run import drive as runner
    from vggablate.run.sweepconfig import read_sweep_file

    # Every check comes before the run folder is made: a sweep that cannot start leaves no folder.
    flags = flag_layer(args)
    check_executor(args)
    if not args.resume:
        check_parent_folder(args.out)  # a file, a path below a file, an existing run folder: refused now
    file_layer = read_sweep_file(args.config) if args.config else {}
    if args.archs:
        check_archs(args.archs, (*file_layer.get("arch_files", ()), *flags.get("arch_files", ())))
    plan, cfg, trials, why, source = None, None, [], "as saved in the run folder", None
    if args.resume:
        plan = _resume_plan(args, flags, file_layer)
    else:
        cfg, why = _new_config(args, flags, file_layer)
        source = data_source(cfg)  # before the trials make the data ready (decompress, extract, download)
        trials = runner.resolve_trials(cfg)
    with executor_session(args):  # joined before the folder is made: an unreachable cluster leaves none
        plan = plan or runner.plan_new(cfg, args.out, trials)
        if not args.quiet:
            _print_header(plan, why, data_source(plan.cfg) if source is None else source)
        warn_about_timing(plan, args)
        if not runner.execute(plan, args.quiet, make_executor(args, plan.cfg.timeout_s)):
            return 130
    finish(plan.folder.path, args.quiet)
    return report_failures(plan)


def _resume_plan(args: argparse.Namespace, flags: dict, file_layer: dict) -> Plan:
    from vggablate.run import drive as runner
    from vggablate.run import sweep
    from vggablate.run.sweepconfig import build_config, device_defaults, with_name

    saved = sweep.load_resume(args.resume)[1]
    given = None
    if set(flags) - {"name"} or args.config:
        layers = [{"device": saved.device}, device_defaults(saved.device, saved.data_dir), file_layer, flags]
        given = with_name(build_config(layers), saved.name)
    return runner.plan_resume(args.resume, given, args.retry_errors)


def _new_config(args: argparse.Namespace, flags: dict, file_layer: dict) -> tuple[SweepConfig, str]:
    from vggablate.run import sweep
    from vggablate.run.sweepconfig import build_config, device_defaults, with_name

    requested = file_layer.get("device", "auto") if args.device == "auto" else args.device
    device, why = device_and_reason(requested, cuda_here=args.executor == "local")
    data_dir = flags.get("data_dir") or file_layer.get("data_dir")
    defaults = {"device": device, **device_defaults(device, data_dir)}
    cfg = build_config([defaults, file_layer, {**flags, "device": device}])
    return with_name(cfg, cfg.name or sweep.default_name(cfg)), why


def check_executor(args: argparse.Namespace) -> None:
    """Refuse flags that need others, the ray executor without Ray, an unreachable cluster."""
    if args.retry_errors and not args.resume:
        raise UsageError("--retry-errors reruns the failed trials of a run folder: give it with --resume RUN_DIR")
    if args.ray_address and args.executor != "ray":
        raise UsageError("--ray-address needs --executor ray")
    if args.executor == "ray":
        from vggablate.run.ray_executor import check_address, import_ray

        import_ray()
        if args.ray_address:
            check_address(args.ray_address)


def executor_session(args: argparse.Namespace) -> contextlib.AbstractContextManager:
    """Return the session trials need for the block: a Ray connection, or nothing for the local executor."""
    if args.executor != "ray":
        return contextlib.nullcontext()
    from vggablate.run.ray_executor import ray_session

    return ray_session(args.ray_address)


def warn_about_timing(plan: Plan, args: argparse.Namespace) -> None:
    """Warn, in one line each, about CPU timings that will be slow (fp16) or inflated (a busy machine)."""
    from bench.common import FP16_CPU_WARNING, contention_warning, warn
    from vggablate.measure.env import available_cpus, load_average

    timed = [t for t in plan.todo if t.device == "cpu" and t.kind in ("latency", "memory", "layers")]
    if any(t.precision == "fp16" for t in timed):
        warn(FP16_CPU_WARNING)
    # With --ray-address the trials run on the cluster's nodes, whose load is not this machine's.
    if args.ray_address is None and any(t.kind == "latency" for t in timed):
        message = contention_warning(load_average(), available_cpus())
        if message:
            warn(message)


def make_executor(args: argparse.Namespace, timeout_s: float) -> object | None:
    """Return the executor asked for; None is runner's default, the local one."""
    # Where trials run is not part of the sweep: it is not saved in config.toml, so trial ids stay
    # the same and a run started with one executor may be resumed with the other.
    if args.executor != "ray":
        return None
    from vggablate.run.ray_executor import RayExecutor

    return RayExecutor(address=args.ray_address, timeout_s=timeout_s)


def data_source(cfg: SweepConfig) -> str:
    """Say where the accuracy trials' data set comes from ('from PATH'; '' when generated or not trained)."""
    from vggablate.data.catalog import source_phrase

    return source_phrase(cfg.dataset, cfg.data_dir, cfg.download) if "accuracy" in cfg.metrics else ""


def _print_header(plan: Plan, why: str, source: str = "") -> None:
    from vggablate.run.sweepconfig import spec_overrides
    from vggablate.words import plural

    cfg, trials = plan.cfg, plan.trials
    kinds = {k: sum(t.kind == k for t in trials) for k in KINDS}
    listing = ", ".join(f"{n} {k}" for k, n in kinds.items() if n)
    archs = list(dict.fromkeys(t.spec.name for t in trials))
    lines = [
        f"vggablate run: {len(archs)} arch(s): {', '.join(archs)}",
        f"  device {cfg.device} ({why}); metrics {','.join(cfg.metrics)}",
        f"  timing: input {cfg.input_size}x{cfg.input_size}, batch sizes {','.join(map(str, cfg.batch_sizes))}, "
        f"precision {','.join(cfg.precisions)}, modes {','.join(cfg.modes)}, channels_last {cfg.channels_last}, "
        f"compile {cfg.compile}, {cfg.latency_budget_s:g} s per latency trial",
    ]
    if spec_overrides(cfg):
        lines.append("  every arch with " + ", ".join(f"{k} {v}" for k, v in spec_overrides(cfg).items()))
    acc = next((t for t in trials if t.kind == "accuracy"), None)
    if acc is not None:
        r = acc.train
        width = "the arch's width" if r.width is None else f"width {r.width:g}"
        if r.width is not None and r.narrow_from:
            width += f" for nets with a {r.narrow_from}+ channel conv"
        data = f"{cfg.dataset} {source}" if source else cfg.dataset
        lines.append(f"  accuracy: {data}, {plural(r.epochs, 'epoch')}, batch {r.batch_size}, lr {r.lr:g}, "
                     f"{width}, {plural(cfg.seeds, 'seed')} (the trainer's defaults for {cfg.dataset} on "
                     f"{cfg.device})")  # fmt: skip
    lines.append(f"  {len(trials)} trials ({listing}); {len(plan.todo)} to run -> {plan.folder.path}")
    print("\n".join(lines), file=sys.stderr, flush=True)
