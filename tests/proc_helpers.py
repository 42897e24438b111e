"""Find the processes a test started, through /proc (Linux): every live member of a session."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

HAS_PROC = Path("/proc/self/stat").exists()


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:  # gone meanwhile
        return None
    # Field 2 is "(comm)" and may hold spaces; the fields after its closing parenthesis are plain.
    return text[text.rindex(")") + 2 :].split()


def members(sid: int) -> dict[int, int]:
    """Return {pid: parent pid} of the live (not zombie) processes of session ``sid``.

    A child started with ``start_new_session=True`` leads a session of its own, and everything it
    starts (a forkserver, its workers, a resource tracker) stays in it, orphaned or not.
    """
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))  # state, ppid, pgrp, session, ...
            if fields and int(fields[3]) == sid and fields[0] != "Z":
                found[int(entry.name)] = int(fields[1])
    return found


def session(sid: int) -> set[int]:
    """Return the live processes of session ``sid``."""
    return set(members(sid))


def workers(sid: int) -> set[int]:
    """Return the session's grandchildren of its leader: the trial workers a forkserver forked."""
    found = members(sid)
    return {pid for pid, parent in found.items() if parent in found and parent != sid}


def wait_until(predicate: Callable[[], object], timeout: float, step: float = 0.05) -> bool:
    """Poll ``predicate`` until it holds or ``timeout`` seconds pass; return whether it held."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(step)
    return True
