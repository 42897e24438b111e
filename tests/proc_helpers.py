"""Find the processes a test started, through /proc (Linux): a session's members, a process's children."""

from __future__ import annotations

import time
from pathlib import Path


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:  # gone meanwhile
        return None
    # Field 2 is "(comm)" and may hold spaces; the fields after its closing parenthesis are plain.
    return text[text.rindex(")") + 2 :].split()


def session(sid: int) -> set[int]:
    """Return the live (not zombie) processes of session ``sid``: everything a start_new_session child started."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))  # state, ppid, pgrp, session, ...
            if fields and int(fields[3]) == sid and fields[0] != "Z":
                found.add(int(entry.name))
    return found


def children(pid: int) -> set[int]:
    """Return the live children of ``pid``."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields and int(fields[1]) == pid and fields[0] != "Z":
                found.add(int(entry.name))
    return found


def wait_until(predicate, timeout: float, step: float = 0.1) -> bool:
    """Poll ``predicate`` until it holds or ``timeout`` seconds pass; return whether it held."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(step)
    return True
