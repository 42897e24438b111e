"""Run a sweep's trials as Ray tasks, in parallel up to the cluster's capacity (docs/ray.md).

Each trial is one Ray task that runs it the way LocalExecutor does (a fresh process with
a timeout), so a crash inside the trial is already an error row; a task whose Ray worker or node
dies becomes one here. Each finished trial's rows come back to the driver and go through the same
``on_rows`` journal callback as they finish, so resume and the reports do not know the difference.
Ray is imported only when this executor runs: the local executor needs no Ray.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import socket
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vggablate.errors import UsageError
from vggablate.run.execute import error_row, run_trial_isolated
from vggablate.run.executors import Progress, RowsCallback
from vggablate.run.isolate import one_line
from vggablate.run.trial import Trial
from vggablate.schema import DEVICES

# Each node advertises one unit; a latency or memory trial holds it while it runs, so a node runs
# one timing trial at a time (two would share its CPU cores, memory bandwidth and PCIe link).
TIMING_RESOURCE = "vggablate_timing_slot"
TIMING_KINDS = ("latency", "memory", "layers")
INSTALL_HINT = 'the ray executor needs Ray, which is not installed: pip install -e ".[ray]"'

TrialRunner = Callable[[Trial, float], list[dict]]


def import_ray() -> Any:
    """Import Ray, or raise UsageError saying how to install it."""
    try:
        import ray
    except ImportError:
        raise UsageError(INSTALL_HINT) from None
    return ray


@dataclass(frozen=True)
class RayExecutor:
    """Run trials as Ray tasks; each trial's rows reach ``on_rows`` on the driver as soon as it finishes."""

    address: str | None = None  # None: start a local Ray instance; "auto" or HOST:PORT: join a running cluster
    timeout_s: float = 900.0  # per trial, enforced inside the task exactly as LocalExecutor does
    # A CPU trial's request. Ray sets OMP_NUM_THREADS to it in the worker, so CPU timing trials run
    # with this many threads (the rows' `threads` column); the local executor uses all cores.
    cpus_per_trial: float = 1.0
    runner: TrialRunner = run_trial_isolated  # what a task runs; tests swap in one that kills its worker

    def run(self, trials: list[Trial], on_rows: RowsCallback, progress: Progress) -> None:
        """Run every trial on the cluster; a trial whose worker or node dies comes back as an error row."""
        with ray_session(self.address) as ray:  # a session the caller opened (bench run does) is reused
            slots = check_cluster(ray.cluster_resources(), trials)
            self._dispatch(ray, trials, on_rows, progress, slots)

    def _dispatch(self, ray: Any, trials: list[Trial], on_rows: RowsCallback, progress: Progress, slots: bool) -> None:
        # Submit only what the cluster can run now: the progress line then names trials really
        # running, an autoscaler still sees demand, and Ctrl-C has little to cancel.
        task = ray.remote(max_retries=0)(_run_task)  # a crashed trial is a row, retried only by --retry-errors
        queue, running = list(trials), {}
        try:
            while queue or running:
                room = limits(ray.cluster_resources(), self.cpus_per_trial)
                while (trial := pick(queue, [t for t, _ in running.values()], room)) is not None:
                    queue.remove(trial)
                    options = task_options(trial, self.cpus_per_trial, slots)
                    running[task.options(**options).remote(self.runner, trial, self.timeout_s)] = (trial, _clock())
                    progress.start(trial)
                (ref,), _ = ray.wait(list(running), num_returns=1)
                trial, submitted = running.pop(ref)
                rows = result_rows(ray, ref, trial, _clock() - submitted)
                on_rows(trial, rows)
                progress.finish(trial, rows)
        except BaseException:  # Ctrl-C, or a journal that cannot be written: stop the cluster's work too
            for ref in running:
                ray.cancel(ref, force=True)
            raise


@contextlib.contextmanager
def ray_session(address: str | None) -> Iterator[Any]:
    """Connect to Ray (start it locally for address None) for the block; shut down only what this started."""
    ray = import_ray()
    started = connect(ray, address)
    try:
        yield ray
    finally:
        if started:
            ray.shutdown()


def connect(ray: Any, address: str | None) -> bool:
    """Start a local Ray instance (address None) or join a cluster; return True when this call started Ray."""
    if ray.is_initialized():  # a caller (a test, a notebook) already holds a session: use it, leave it open
        return False
    quiet = dict(log_to_driver=False, logging_level=logging.WARNING, include_dashboard=False)
    if address is None:
        # One timing slot on the node we start, as `ray start --resources` gives a cluster's nodes.
        ray.init(resources={TIMING_RESOURCE: 1}, **quiet)
        return True
    with captured_stderr() as log:
        try:
            ray.init(address=address, **quiet)
        except ConnectionError as exc:
            cause = _last_log_message(log.read_text(errors="replace")) or _first_line(exc).rstrip(".")
            raise UsageError(f"cannot reach a Ray cluster at {address}: {cause}; "
                             "start one with `ray start --head` (docs/ray.md)") from None  # fmt: skip
    return True


@contextlib.contextmanager
def captured_stderr() -> Iterator[Path]:
    """Send this process's file descriptor 2 to a temporary file for the block; yield the file's path."""
    # Ray's C++ GCS client logs each failed connection attempt (about 20, one a second) straight
    # to fd 2, whatever logging_level says (RAY_BACKEND_LOG_LEVEL does not reach the driver's
    # client either): only redirecting the descriptor keeps a failed connection to one line.
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "stderr.log"
        with open(path, "wb") as sink:
            os.dup2(sink.fileno(), 2)
            try:
                yield path
            finally:
                sys.stderr.flush()
                os.dup2(saved, 2)
                os.close(saved)


_CPP_LOG_LINE = re.compile(r"^\[[^]]*\]\s*\S+\.cc:\d+:\s*(.+)$")


def _last_log_message(text: str) -> str:
    # "[2026-11-27 21:45:16,232 W 5119 5119] gcs_client.cc:210: Failed to get cluster ID ..." -> the message.
    found = [m.group(1).strip() for m in map(_CPP_LOG_LINE.match, text.splitlines()) if m]
    return found[-1] if found else ""


def check_address(address: str) -> None:
    """Refuse an address that is not ``auto`` or a reachable HOST:PORT, before any work and without Ray."""
    # ray.init retries an unreachable address for minutes, printing warnings: probe it first.
    if address == "auto":
        return  # Ray finds the cluster (RAY_ADDRESS or the one started here) and fails fast when there is none
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise UsageError(f"--ray-address must be auto or HOST:PORT (the head's GCS port, 6379 by default), "
                         f"got {address!r}")  # fmt: skip
    try:
        socket.create_connection((host, int(port)), timeout=5).close()
    except OSError as exc:
        raise UsageError(f"cannot reach a Ray cluster at {address}: {exc.strerror or exc}; "
                         "is `ray start --head` running there? (docs/ray.md)") from None  # fmt: skip


def check_cluster(resources: dict[str, float], trials: list[Trial]) -> bool:
    """Refuse a cluster no CUDA trial could run on; return whether its nodes advertise timing slots."""
    if any(t.device == "cuda" for t in trials) and resources.get("GPU", 0) < 1:
        raise UsageError("the Ray cluster has no GPU for the CUDA trials; start GPU workers or use --device cpu")
    slots = resources.get(TIMING_RESOURCE, 0) >= 1
    if not slots and any(t.kind in TIMING_KINDS for t in trials):
        # A task asking for a resource no node has would wait forever: run timing trials one at a
        # time across the whole cluster instead (correct, only slower), and say how to fix it.
        print(f"warning: no Ray node advertises {TIMING_RESOURCE}; timing trials run one at a time on the "
              f"whole cluster. Start nodes with --resources='{{\"{TIMING_RESOURCE}\": 1}}' (docs/ray.md)",
              file=sys.stderr, flush=True)  # fmt: skip
    return slots


def task_options(trial: Trial, cpus_per_trial: float, slots: bool) -> dict[str, Any]:
    """Return a trial's Ray resource request: a whole GPU for a CUDA trial, CPUs otherwise, plus a timing slot."""
    options: dict[str, Any] = {"num_gpus": 1} if trial.device == "cuda" else {"num_cpus": _cpus(trial, cpus_per_trial)}
    if slots and trial.kind in TIMING_KINDS:
        options["resources"] = {TIMING_RESOURCE: 1}
    return options


def limits(resources: dict[str, float], cpus_per_trial: float) -> dict[str, int]:
    """Return how many trials of each device, and how many timing trials, the cluster runs at once."""
    # At least 1 each: a lost node's work then waits in Ray's queue for a replacement node.
    return {
        "cpu": max(1, int(resources.get("CPU", 0) // cpus_per_trial)),
        "cuda": max(1, int(resources.get("GPU", 0))),
        "timing": max(1, int(resources.get(TIMING_RESOURCE, 0))),
    }


def pick(queue: list[Trial], running: list[Trial], room: dict[str, int]) -> Trial | None:
    """Return the first queued trial that fits beside the running ones, or None."""
    busy = {d: sum(t.device == d for t in running) for d in DEVICES}
    timing = sum(t.kind in TIMING_KINDS for t in running)
    for trial in queue:
        if busy[trial.device] < room[trial.device] and (trial.kind not in TIMING_KINDS or timing < room["timing"]):
            return trial
    return None


def result_rows(ray: Any, ref: Any, trial: Trial, duration_s: float) -> list[dict]:
    """Return a finished task's rows; a task that died or raised becomes one error row."""
    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as exc:  # the task raised (e.g. a node without CUDA): not a crash
        cause = getattr(exc, "cause", None) or exc
        return [error_row(trial, one_line(cause), "exception", duration_s)]
    except ray.exceptions.RayError as exc:  # the worker or its node died, the task was cancelled or lost
        # Ray's memory monitor (OutOfMemoryError) kills whichever task started last on a full node,
        # not necessarily the one that filled it: a crash, which --retry-errors reruns, not an oom.
        return [error_row(trial, f"ray: {type(exc).__name__}: {_first_line(exc)}", "crash", duration_s)]


def _run_task(runner: TrialRunner, trial: Trial, timeout_s: float) -> list[dict]:
    # The Ray task body: a top-level function, so workers import it instead of unpickling code.
    return runner(trial, timeout_s)


def _cpus(trial: Trial, cpus_per_trial: float) -> float:
    # A trial pinned to a thread count asks for that many CPUs, so Ray does not oversubscribe the node.
    return float(trial.threads) if trial.threads else cpus_per_trial


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _clock() -> float:
    return time.perf_counter()
