"""Run one function in a fresh process with a timeout; failures come back as values.

A fresh process per trial keeps memory figures clean (nothing left from earlier trials) and
turns a crash, a hang or a CUDA fault into an error value instead of a dead sweep. The process
is forked from a ``forkserver`` that has imported torch and vggablate once, so a trial no longer
pays about 3 s of ``import torch`` (docs/benchmarks.md). Not a plain ``fork`` of this process: a
forked child of a process that has touched CUDA cannot use CUDA. The forkserver is a fresh
interpreter that only imports (importing torch does not initialise CUDA), so its children can.
Where there is no forkserver (not POSIX), each call spawns a fresh interpreter instead.

A worker dies with its caller, however the caller dies (a CI runner's SIGKILL included): nobody
else would stop it, since the caller enforced its timeout (see ``die_with``). The forkserver then
exits by itself: it stops once no process holding its "alive" pipe (the caller, its workers) is left.
"""

from __future__ import annotations

import contextlib
import functools
import multiprocessing
import multiprocessing.forkserver
import os
import pickle
import select
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

# CUDA's allocator says "out of memory"; cuBLAS and cuDNN handles that cannot get memory say
# CUBLAS_STATUS_ALLOC_FAILED / CUDNN_STATUS_ALLOC_FAILED; the host allocator "cannot allocate memory".
_OOM_TEXT = ("out of memory", "can't allocate memory", "cannot allocate memory", "alloc_failed")
# Imported once by the forkserver, before it forks any worker; none of them touches CUDA on import.
# torch._dynamo: torch.optim imports it when the first optimizer is made (every train-mode trial);
# sklearn.datasets: digits and clutter read scikit-learn's digits. Imported in each worker instead,
# the two cost 5-8 s a trial on the 2-core machine: preloaded, an accuracy trial of 0.1 epoch on
# digits takes 1.1-1.4 s instead of 5.3-9.4 s (docs/benchmarks.md, "Issue 20: the suite's time").
PRELOAD = ("torch", "torch._dynamo", "sklearn.datasets", "vggablate.run.execute", "vggablate.training.trainer")
# A worker's exit status when it ends because its caller is gone (EX_SOFTWARE would mislead; nobody reads it).
ORPHANED_EXIT = 75
POLL_S = 0.5  # how often a worker without pidfds (not Linux) checks that its caller lives


@dataclass(frozen=True)
class Isolated:
    """The outcome of an isolated call: a value, or an error of one of schema.ERROR_TYPES."""

    value: Any = None
    error: str | None = None  # one line
    error_type: str | None = None  # oom | timeout | crash | exception
    duration_s: float = 0.0

    @property
    def ok(self) -> bool:
        """Say whether the call returned a value."""
        return self.error is None


def run_isolated(fn: Callable[..., Any], kwargs: dict[str, Any], timeout_s: float) -> Isolated:
    """Call top-level ``fn(**kwargs)`` in a fresh process; kill it after ``timeout_s``."""
    ctx = worker_context()
    receiver, sender = ctx.Pipe(duplex=False)
    # The call travels pickled and is unpickled in _worker, after the environment is this process's:
    # a forkserver's children start with the forkserver's (PROGRESS_ENV, a test's monkeypatch).
    call = pickle.dumps((fn, kwargs))
    # Not a daemon: daemons may not start children (inductor's compile workers, data loaders).
    proc = ctx.Process(target=_worker, args=(sender, call, dict(os.environ), os.getpid()), daemon=False)
    start = time.perf_counter()
    try:
        if ctx.get_start_method() == "forkserver":
            # No SIG_IGN guard: the worker forks from a server that ignores SIGINT, and SIG_IGN would
            # drop a Ctrl-C that another thread of this process (torch's, tqdm's) receives. But a
            # Ctrl-C must not land while start() waits for the worker's pid: the worker would run on,
            # unkilled and unknown (seen on a loaded machine), so it is deferred until start() returns.
            with _sigint_deferred():
                proc.start()
        else:
            with _sigint_ignored_by_children():
                proc.start()
        sender.close()  # the child holds the only writer: its death reads as EOF here
        outcome = _receive(receiver, proc, timeout_s)
    except BaseException:  # Ctrl-C: the worker ignores it, so stop it now rather than wait for it
        if proc.pid is not None:
            proc.kill()
        raise
    finally:
        sender.close()
        receiver.close()
        _stop(proc)
    return Isolated(*outcome, duration_s=time.perf_counter() - start)


@functools.cache
def worker_context() -> multiprocessing.context.BaseContext:
    """Return the context that starts workers: a forkserver with PRELOAD imported, else spawn."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(list(PRELOAD))
    # Started here, once, under _sigint_ignored_by_children: Ctrl-C cannot interrupt its imports,
    # and every worker it forks starts with SIGINT ignored (forkserver restores the server's own
    # disposition in its children), so starting a worker later needs no guard.
    with _sigint_ignored_by_children():
        multiprocessing.forkserver.ensure_running()
    return ctx


def error_type_of(exc: BaseException) -> str:
    """Classify an exception as ``oom`` (host or device out of memory) or ``exception``."""
    if isinstance(exc, MemoryError) or type(exc).__name__ == "OutOfMemoryError":
        return "oom"
    text = str(exc).lower()
    return "oom" if any(t in text for t in _OOM_TEXT) else "exception"


def one_line(exc: BaseException) -> str:
    """Return ``Type: first line of the message``."""
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


def _receive(receiver: Any, proc: Any, timeout_s: float) -> tuple[Any, str | None, str | None]:
    if not receiver.poll(timeout_s):
        proc.kill()
        return None, f"timed out after {timeout_s:g} s; the worker was killed", "timeout"
    try:
        status, payload, kind = receiver.recv()
    except (EOFError, OSError):  # the worker died before it could answer
        proc.join(5)
        return None, _death(proc.exitcode), "crash"
    return (payload, None, None) if status == "ok" else (None, payload, kind)


def _death(code: int | None) -> str:
    if code is not None and code < 0:
        name = signal.Signals(-code).name if -code in signal.valid_signals() else str(-code)
        hint = " (the kernel's out-of-memory killer sends SIGKILL)" if -code == signal.SIGKILL else ""
        return f"worker killed by {name}{hint}"
    return f"worker exited with code {code} without a result"


def _stop(proc: Any) -> None:
    """Make sure the worker is gone: let it finish tearing down (CUDA can take a moment), then kill it."""
    if proc.pid is not None:  # None: interrupted before it started
        proc.join(5)
        if proc.is_alive():
            proc.kill()
            proc.join()
    proc.close()


@contextmanager
def _sigint_deferred() -> Iterator[None]:
    """Hold SIGINT blocked in the main thread: a Ctrl-C meanwhile raises KeyboardInterrupt when this ends.

    Blocked, not ignored: the kernel keeps it pending, or hands it to another thread, whose Python
    handler makes the main thread raise at its next step. Either way it is not lost.
    """
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "pthread_sigmask"):
        yield
        return
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


@contextmanager
def _sigint_ignored_by_children() -> Iterator[None]:
    """Start processes with SIGINT ignored, so that Ctrl-C cannot interrupt a worker's start-up imports.

    An ignored signal stays ignored across exec, while a Python handler does not; _worker then
    ignores it itself. The parent holds SIGINT blocked meanwhile, so a Ctrl-C in this window
    arrives (as KeyboardInterrupt) when it ends instead of being lost. Main thread only: Python
    sets signal handlers there alone.
    """
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "pthread_sigmask"):
        yield
        return
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, signal.SIG_DFL if previous is None else previous)
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def die_with(pid: int) -> None:
    """End this process as soon as process ``pid`` ends, however it ends; at once if it already has.

    Not PR_SET_PDEATHSIG: a forkserver's child has the forkserver for parent, which outlives a
    killed caller while any worker lives, and a forkserver's own PDEATHSIG would fire when the
    *thread* that started it ends (a pool thread), while the caller lives on. A pidfd (Linux 5.3+)
    names the caller itself and wakes a thread the moment it exits; opening it fails if the caller
    died while this process started, which closes that race. Elsewhere the thread polls.
    """
    if os.name != "posix":  # os.kill(pid, 0) would terminate pid on Windows
        return
    try:
        fd = os.pidfd_open(pid) if hasattr(os, "pidfd_open") else None
    except ProcessLookupError:
        os._exit(ORPHANED_EXIT)
    except OSError:  # a kernel without pidfds: poll instead
        fd = None
    if fd is None and not _alive(pid):
        os._exit(ORPHANED_EXIT)
    threading.Thread(target=_watch, args=(pid, fd), name="die-with-caller", daemon=True).start()


def _watch(pid: int, fd: int | None) -> None:
    if fd is not None:
        select.select([fd], [], [])  # a pidfd reads as ready once its process has exited
    else:
        while _alive(pid):
            time.sleep(POLL_S)
    os._exit(ORPHANED_EXIT)  # from a thread: ends the whole process, mid-trial or not


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, owned by someone else: pid reuse, or still ours by another name
        return True
    return True


def _worker(sender: Any, call: bytes, environ: dict[str, str], caller: int) -> None:
    """Run in the child: send ("ok", value, None) or ("error", message, type)."""
    # Ctrl-C reaches the whole process group; the parent handles it and kills this process. A
    # KeyboardInterrupt here would only print a traceback while sending to a parent that stopped listening.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with(caller)
    if sys.platform == "linux":
        # A forkserver's child inherits "forkserver" as its default start method. Then every lock or
        # queue the trial makes (tqdm makes one per bar) is a named semaphore, registered with the
        # caller's resource tracker, and a worker killed on a timeout or Ctrl-C leaves it behind ("leaked
        # semaphore objects" at exit); and a DataLoader's workers would start a second forkserver that
        # imports torch afresh. Forking from the worker, as a plain Linux process does, avoids both.
        multiprocessing.set_start_method("fork", force=True)
    os.environ.clear()
    os.environ.update(environ)
    try:
        fn, kwargs = pickle.loads(call)  # may import fn's module: a failure is a row too
        result = ("ok", fn(**kwargs), None)
    except BaseException as exc:  # everything, SystemExit included, is a row
        result = ("error", one_line(exc), error_type_of(exc))
    try:
        sender.send(result)
    except OSError:  # the parent is gone or stopped listening (BrokenPipeError): nobody to tell
        pass
    except Exception as exc:  # an unpicklable value
        with contextlib.suppress(OSError):
            sender.send(("error", f"result could not be sent back: {one_line(exc)}", "exception"))
    finally:
        sender.close()
