"""The Ray executor: same rows as the local one, a killed worker is an error row, Ctrl-C and resume, the flags."""

from __future__ import annotations

import importlib.util
import json
import logging
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from vggablate.arch.spec import ArchSpec
from vggablate.errors import UsageError
from vggablate.run import drive as runner
from vggablate.run import sweep
from vggablate.run.execute import run_trial_isolated
from vggablate.run.ray_executor import (
    TIMING_RESOURCE,
    RayExecutor,
    check_address,
    check_cluster,
    limits,
    pick,
    task_options,
)
from vggablate.run.sweepconfig import SweepConfig, validate_config
from vggablate.run.trial import Trial, trial_id

HAS_RAY = importlib.util.find_spec("ray") is not None
needs_ray = pytest.mark.skipif(not HAS_RAY, reason='needs Ray: pip install -e ".[ray]"')
TINY = dict(input_size=32, widths=(0.25,), head="gap", latency_budget_s=0.2, modes=("infer",), batch_sizes=(1,))


@pytest.fixture(scope="module")
def ray_session():
    """One local Ray instance for the module, with a node timing slot as `ray start --resources` gives."""
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, resources={TIMING_RESOURCE: 1}, log_to_driver=False, logging_level=logging.WARNING,
             include_dashboard=False)  # fmt: skip
    yield ray
    ray.shutdown()


def config(archs: tuple[str, ...], metrics: tuple[str, ...], name: str) -> SweepConfig:
    return validate_config(SweepConfig(archs=archs, metrics=metrics, name=name, **TINY))


def journal(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "rows.jsonl").read_text().splitlines()]


@needs_ray
def test_same_rows_as_the_local_executor(ray_session, tmp_path):
    cfg = config(("16,M,32,M", "vgg11"), ("params", "macs", "latency"), "same")
    ran = {}
    for name, executor in (("local", None), ("ray", RayExecutor())):
        plan = runner.plan_new(cfg, tmp_path / name)
        start = time.perf_counter()
        assert runner.execute(plan, quiet=True, executor=executor)
        ran[name] = (journal(plan.folder.path), time.perf_counter() - start)
        print(f"{name}: {len(plan.trials)} trials in {ran[name][1]:.1f} s")
    local, remote = ran["local"][0], ran["ray"][0]
    assert len(remote) == len(local) == 4 and all(r["error"] is None for r in remote)
    assert {r["trial_id"] for r in remote} == {r["trial_id"] for r in local} == {trial_id(t) for t in plan.trials}
    counts = lambda rows: sorted((r["arch"], r["params"], r["macs"]) for r in rows if r["kind"] == "counts")  # noqa: E731
    assert counts(remote) == counts(local)
    assert all(r["latency_ms_p50"] > 0 for r in remote if r["kind"] == "latency")


@needs_ray
def test_killed_worker_is_an_error_row_and_resume_completes(ray_session, tmp_path):
    cfg = config(("16,M,32,M", "vgg11"), ("params", "macs"), "kill")
    plan = runner.plan_new(cfg, tmp_path)
    victim = trial_id(plan.trials[1])

    def kill_when_started() -> None:
        # A trial's process starts in about 50 ms (forkserver) and a tiny trial may end within a
        # second: kill as soon as the process exists, not after a fixed delay.
        while not multiprocessing.active_children():
            time.sleep(0.005)
        os.kill(os.getpid(), signal.SIGKILL)

    def kill_mid_run(trial: Trial, timeout_s: float) -> list[dict]:
        # Runs in the Ray worker: SIGKILL it while its trial's process runs, as the OOM killer would.
        if trial_id(trial) == victim:
            threading.Thread(target=kill_when_started, daemon=True).start()
        return run_trial_isolated(trial, timeout_s)

    assert runner.execute(plan, quiet=True, executor=RayExecutor(runner=kill_mid_run))
    rows = journal(plan.folder.path)
    (dead,) = [r for r in rows if r["trial_id"] == victim]
    assert dead["error_type"] == "crash" and "ray: WorkerCrashedError" in dead["error"], dead["error"]
    assert [r["error"] for r in rows if r["trial_id"] != victim] == [None]  # the other trial's row is kept

    resumed = runner.plan_resume(plan.folder.path, retry_errors=True)
    assert [trial_id(t) for t in resumed.todo] == [victim]
    assert runner.execute(resumed, quiet=True, executor=RayExecutor())
    after = journal(plan.folder.path)
    assert after[: len(rows)] == rows  # nothing journaled was lost or rewritten
    assert [(r["attempt"], r["error"]) for r in after if r["trial_id"] == victim] == [(0, dead["error"]), (1, None)]


@needs_ray
def test_interrupt_cancels_outstanding_tasks_and_resume_completes(ray_session, tmp_path, monkeypatch):
    cfg = config(("16,M,32,M", "vgg11"), ("params",), "interrupt")
    plan = runner.plan_new(cfg, tmp_path)
    journal_callback = sweep.journal_callback

    def interrupted_after_first(folder, attempts=None):
        on_rows = journal_callback(folder, attempts)

        def first_then_ctrl_c(trial, rows):
            on_rows(trial, rows)
            raise KeyboardInterrupt  # as if Ctrl-C came while the other trials were running

        return first_then_ctrl_c

    monkeypatch.setattr(sweep, "journal_callback", interrupted_after_first)
    assert not runner.execute(plan, quiet=True, executor=RayExecutor())
    monkeypatch.undo()
    done = journal(plan.folder.path)
    assert len(done) == 1
    deadline = time.time() + 30  # cancelled tasks give their CPUs back
    while ray_session.available_resources().get("CPU", 0) < 2 and time.time() < deadline:
        time.sleep(0.2)
    assert ray_session.available_resources().get("CPU", 0) == 2

    resumed = runner.plan_resume(plan.folder.path)
    assert len(resumed.todo) == 1
    assert runner.execute(resumed, quiet=True, executor=RayExecutor())
    rows = journal(plan.folder.path)
    assert rows[:1] == done and sorted(r["arch"] for r in rows) == ["16,M,32,M", "vgg11"]


@needs_ray
def test_cli_joins_a_cluster_and_saves_no_executor(ray_session, tmp_path):
    address = ray_session.get_runtime_context().gcs_address
    argv = ["run", "--archs", "16,M,32,M", "--metrics", "params", "--input-size", "32", "--head", "gap",
            "--executor", "ray", "--ray-address", address, "--out", str(tmp_path), "--quiet"]  # fmt: skip
    proc = subprocess.run([sys.executable, "-m", "bench", *argv], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    (run_dir,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    rows = journal(run_dir)
    assert len(rows) == 1 and rows[0]["error"] is None and rows[0]["params"] > 0
    # Where trials run is not part of the sweep: config.toml does not name it, so the same trials
    # (and ids) come back on resume, with either executor.
    assert "executor" not in (run_dir / "config.toml").read_text()
    assert runner.plan_resume(run_dir).todo == []


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["--executor", "ray"], 'pip install -e ".[ray]"'),
        (["--ray-address", "auto"], "--ray-address needs --executor ray"),
    ],
)
def test_flags_refused_in_one_line_before_any_work(tmp_path, monkeypatch, capsys, argv, fragment):
    from bench.__main__ import main

    monkeypatch.setitem(sys.modules, "ray", None)  # Ray hidden from imports, as on a machine without the extra
    assert main(["run", "--archs", "vgg11", *argv, "--out", str(tmp_path / "runs")]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0]
    assert not (tmp_path / "runs").exists()


def _trial(kind: str = "counts", device: str = "cpu", threads: int | None = None) -> Trial:
    return Trial(spec=ArchSpec(name="t", cfg=(16, "M")), kind=kind, device=device, threads=threads)


def test_resource_requests():
    assert task_options(_trial("counts"), 1.0, slots=True) == {"num_cpus": 1.0}
    assert task_options(_trial("latency", threads=4), 1.0, slots=True) == {
        "num_cpus": 4.0,
        "resources": {TIMING_RESOURCE: 1},
    }
    assert task_options(_trial("memory", "cuda"), 1.0, slots=True) == {"num_gpus": 1, "resources": {TIMING_RESOURCE: 1}}
    assert task_options(_trial("latency", "cuda"), 1.0, slots=False) == {"num_gpus": 1}
    assert task_options(_trial("accuracy", "cuda"), 1.0, slots=True) == {"num_gpus": 1}


def test_pick_keeps_one_timing_trial_per_slot():
    room = limits({"CPU": 4.0, TIMING_RESOURCE: 1.0}, 1.0)
    assert room == {"cpu": 4, "cuda": 1, "timing": 1}
    lat, counts = _trial("latency"), _trial("counts")
    assert pick([lat, counts], [_trial("memory")], room) is counts  # the slot is taken: counts go ahead
    assert pick([lat], [], room) is lat
    assert pick([counts], [counts] * 4, room) is None  # every CPU is busy
    assert limits({}, 1.0) == {"cpu": 1, "cuda": 1, "timing": 1}  # a lost node: work waits in Ray's queue


def test_cluster_checks(capsys):
    assert check_cluster({"CPU": 2.0, TIMING_RESOURCE: 2.0}, [_trial("latency")]) is True
    assert check_cluster({"CPU": 2.0}, [_trial("counts")]) is False and capsys.readouterr().err == ""
    assert check_cluster({"CPU": 2.0}, [_trial("latency")]) is False
    assert f"no Ray node advertises {TIMING_RESOURCE}; timing trials run one at a time" in capsys.readouterr().err
    with pytest.raises(UsageError, match="no GPU for the CUDA trials"):
        check_cluster({"CPU": 8.0}, [_trial("counts", "cuda")])


@pytest.mark.parametrize(
    "address, fragment",
    [("127.0.0.1:1", "cannot reach a Ray cluster at 127.0.0.1:1"), ("head-node", "must be auto or HOST:PORT")],
)
def test_bad_address_is_refused_without_waiting(address, fragment):
    start = time.perf_counter()
    with pytest.raises(UsageError, match=fragment):
        check_address(address)
    assert time.perf_counter() - start < 6  # not Ray's minutes of reconnecting
    check_address("auto")  # Ray looks it up when it connects


@needs_ray
def test_cluster_joined_before_the_run_folder_is_made(tmp_path, monkeypatch, capsys):
    # An address that accepts TCP but is no Ray cluster fails in ray.init (after ~20 s of retries):
    # that must happen before the run folder exists, so it leaves none behind.
    import socket

    from bench.__main__ import main
    from vggablate.run import ray_executor

    tried = []

    def refuse(ray, address):
        tried.append(address)
        raise UsageError(f"cannot reach a Ray cluster at {address}: no GCS there")

    monkeypatch.setattr(ray_executor, "connect", refuse)
    with socket.create_server(("127.0.0.1", 0)) as server:
        address = f"127.0.0.1:{server.getsockname()[1]}"
        argv = ["run", "--archs", "16,M", "--metrics", "params", "--executor", "ray", "--ray-address", address]
        assert main([*argv, "--out", str(tmp_path / "runs")]) == 2
    assert tried == [address] and not (tmp_path / "runs").exists()
    assert capsys.readouterr().err.strip().splitlines() == [
        f"error: cannot reach a Ray cluster at {address}: no GCS there"
    ]


class _UnreachableRay:
    """Stands in for Ray: ray.init logs from C++ straight to file descriptor 2, then gives up."""

    @staticmethod
    def is_initialized() -> bool:
        return False

    @staticmethod
    def init(**kwargs) -> None:
        for _ in range(3):
            os.write(2, b"[2026-11-27 21:45:16,232 W 5119 5119] gcs_client.cc:210: Failed to get cluster ID from "
                        b"GCS server: RpcError: 404\n")  # fmt: skip
        raise ConnectionError(f"Failed to connect to Ray cluster at {kwargs['address']}")


def test_failed_connection_is_one_line_without_ray_log_spam(capfd):
    from vggablate.run.ray_executor import connect

    with pytest.raises(UsageError) as err:
        connect(_UnreachableRay, "10.0.0.1:6379")
    assert str(err.value).startswith(
        "cannot reach a Ray cluster at 10.0.0.1:6379: Failed to get cluster ID from GCS server: RpcError: 404; "
    )
    os.write(2, b"after\n")  # file descriptor 2 is the terminal's again
    assert capfd.readouterr().err == "after\n"
