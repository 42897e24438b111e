import contextlib
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from cli_helpers import INTERACTIVE
from proc_helpers import HAS_PROC, session, wait_until

from vggablate.run.isolate import error_type_of, one_line, run_isolated, worker_context


def add(a, b):
    return a + b


def fail():
    raise ValueError("bad value\nsecond line")


def die():
    os.kill(os.getpid(), signal.SIGKILL)


def hang(pidfile):
    with open(pidfile, "w") as f:
        f.write(str(os.getpid()))
    time.sleep(600)


def out_of_memory():
    raise MemoryError()


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    """Run every case at once: each spawn pays a torch import, and they overlap."""
    pidfile = tmp_path_factory.mktemp("iso") / "pid"
    cases = {
        "ok": (add, {"a": 2, "b": 3}, 120),
        "exception": (fail, {}, 120),
        "crash": (die, {}, 120),
        "oom": (out_of_memory, {}, 120),
        "timeout": (hang, {"pidfile": str(pidfile)}, 6),
    }
    with ThreadPoolExecutor(len(cases)) as pool:
        futures = {k: pool.submit(run_isolated, *v) for k, v in cases.items()}
        return {k: f.result() for k, f in futures.items()}, pidfile


def test_value_comes_back(outcomes):
    out = outcomes[0]["ok"]
    assert out.ok and out.value == 5 and out.error is None and out.duration_s > 0


def test_exception_is_one_line(outcomes):
    out = outcomes[0]["exception"]
    assert (out.error_type, out.error) == ("exception", "ValueError: bad value")


def test_killed_worker_is_a_crash(outcomes):
    out = outcomes[0]["crash"]
    assert out.error_type == "crash" and "SIGKILL" in out.error


def test_memory_error_is_oom(outcomes):
    assert outcomes[0]["oom"].error_type == "oom"


def test_hang_is_killed_and_reaped(outcomes):
    results, pidfile = outcomes
    out = results["timeout"]
    assert out.error_type == "timeout" and "6 s" in out.error
    if pidfile.exists():  # the worker got as far as running the function
        with pytest.raises(ProcessLookupError):
            os.kill(int(pidfile.read_text()), 0)
    assert multiprocessing.active_children() == []


def test_classification_of_messages():
    assert error_type_of(RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")) == "oom"
    assert error_type_of(RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried")) == "oom"
    # cuBLAS/cuDNN handles that cannot get device memory: an oom, so --decay-on-oom steps down.
    assert error_type_of(RuntimeError("CUDA error: CUBLAS_STATUS_ALLOC_FAILED when calling cublasCreate")) == "oom"
    assert error_type_of(RuntimeError("cuDNN error: CUDNN_STATUS_ALLOC_FAILED")) == "oom"
    assert error_type_of(KeyError("x")) == "exception"
    assert one_line(RuntimeError("")) == "RuntimeError"


# A parent that runs one hanging function isolated and, on Ctrl-C, says so and exits 130 (as bench run does).
DRIVER = """
import os, sys
{interactive}
sys.path[:0] = {paths!r}
import isolate_helpers
from vggablate.run.isolate import run_isolated
if {slow_import}:
    os.environ[isolate_helpers.SLOW_IMPORT_ENV] = {marker!r}
try:
    run_isolated(isolate_helpers.hang, {{"marker": {marker!r}}}, 600)
except KeyboardInterrupt:
    print("parent interrupted", file=sys.stderr)
    sys.exit(130)
"""


@pytest.mark.parametrize("slow_import", [False, True], ids=["running", "starting"])
def test_ctrl_c_leaves_the_worker_quiet_and_gone(tmp_path, slow_import):
    marker = tmp_path / "worker.pid"
    paths = [str(Path(__file__).parent), str(Path(__file__).parents[1])]
    code = DRIVER.format(paths=paths, slow_import=slow_import, marker=str(marker), interactive=INTERACTIVE)
    proc = subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.time() + 120
    while not (marker.exists() and marker.read_text()) and time.time() < deadline:
        assert proc.poll() is None, proc.stderr.read()
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C reaches the whole foreground group, worker included
    _, err = proc.communicate(timeout=60)
    assert (proc.returncode, err) == (130, "parent interrupted\n")  # no traceback from the worker
    with pytest.raises(ProcessLookupError):
        os.kill(int(marker.read_text()), 0)


# The same parent, but its Ctrl-C lands while start() waits for the forkserver's child's pid (as it
# did on a loaded machine): the worker exists, the parent does not know its pid yet.
DRIVER_START = """
import os, signal, sys
{interactive}
sys.path[:0] = {paths!r}
import multiprocessing.forkserver as fs
import isolate_helpers
from vggablate.run.isolate import run_isolated
real = fs.read_signed
def read_signed(fd):
    fs.read_signed = real
    if fd != fs._forkserver._forkserver_alive_fd:
        os.kill(os.getpid(), signal.SIGINT)
    return real(fd)
fs.read_signed = read_signed
try:
    run_isolated(isolate_helpers.hang, {{"marker": {marker!r}}}, 600)
except KeyboardInterrupt:
    print("parent interrupted", file=sys.stderr)
    sys.exit(130)
"""


def test_ctrl_c_while_the_worker_starts_still_stops_it(tmp_path):
    marker = tmp_path / "worker.pid"
    paths = [str(Path(__file__).parent), str(Path(__file__).parents[1])]
    code = DRIVER_START.format(paths=paths, marker=str(marker), interactive=INTERACTIVE)
    proc = subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        # A worker left running would hold stderr open: communicate would time out.
        _, err = proc.communicate(timeout=60)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    assert (proc.returncode, err) == (130, "parent interrupted\n")
    if marker.exists() and marker.read_text():
        with pytest.raises(ProcessLookupError):
            os.kill(int(marker.read_text()), 0)


# The same parent with no Ctrl-C handling: what a CI runner's SIGKILL at its time limit meets.
DRIVER_PLAIN = """
import sys
sys.path[:0] = {paths!r}
import isolate_helpers
from vggablate.run.isolate import run_isolated
out = run_isolated(isolate_helpers.{fn}, {{"marker": {marker!r}}}, {timeout})
print(out.error_type)
"""
LINUX_ONLY = pytest.mark.skipif(not HAS_PROC, reason="reads the process table in /proc")


@LINUX_ONLY
def test_a_worker_dies_with_its_killed_caller_and_the_forkserver_follows(tmp_path):
    marker = tmp_path / "worker.pid"
    paths = [str(Path(__file__).parent), str(Path(__file__).parents[1])]
    code = DRIVER_PLAIN.format(paths=paths, fn="hang", marker=str(marker), timeout=600)
    proc = subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE, start_new_session=True)
    try:
        assert wait_until(lambda: marker.exists() and marker.read_text() or proc.poll() is not None, 120)
        assert proc.poll() is None, proc.stderr.read()
        worker = int(marker.read_text())
        assert len(session(proc.pid)) >= 3  # the caller, the forkserver, the worker (and a resource tracker)
        proc.kill()  # SIGKILL: no handler, no finally, no atexit in the caller
        proc.wait()
        # Nobody is left to enforce the 600 s timeout: the worker must go by itself, and the forkserver after it.
        assert wait_until(lambda: not session(proc.pid), 10), f"left running: {session(proc.pid)} (worker {worker})"
    finally:
        for pid in session(proc.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def test_a_killed_worker_leaves_no_semaphore_behind(tmp_path):
    # A worker killed on its timeout (or on Ctrl-C) used to leave tqdm's named lock to the resource
    # tracker, which printed "There appear to be 1 leaked semaphore objects" when the caller exited.
    marker = tmp_path / "worker.pid"
    paths = [str(Path(__file__).parent), str(Path(__file__).parents[1])]
    code = DRIVER_PLAIN.format(paths=paths, fn="lock_and_hang", marker=str(marker), timeout=5)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180)
    assert marker.exists()  # the worker made its lock before it was killed
    assert (done.returncode, done.stdout, done.stderr) == (0, "timeout\n", "")


def getenv(name):
    return os.environ.get(name)


def cuda_sum():
    import torch

    # A forkserver that had initialised CUDA would leave this worker in a "bad fork": no CUDA at all.
    assert not torch.cuda._is_in_bad_fork()
    return torch.arange(4.0, device="cuda").sum().item()


def test_workers_fork_from_a_preloading_forkserver_and_see_the_callers_environment(monkeypatch):
    assert worker_context().get_start_method() == "forkserver"
    run_isolated(add, {"a": 1, "b": 2}, 120)  # the server is up: later changes must still reach the worker
    monkeypatch.setenv("VGGABLATE_TEST_ENV", "set after the server started")
    assert run_isolated(getenv, {"name": "VGGABLATE_TEST_ENV"}, 120).value == "set after the server started"


@pytest.mark.gpu
def test_cuda_works_in_a_worker():
    out = run_isolated(cuda_sum, {}, 300)
    assert out.ok and out.value == 6.0, out.error
