"""A torchvision-style registry of named archs: register_arch / get_arch / list_archs.

It starts filled with the standard archs (vggablate.arch.archs, which imports no torch and does no
work until an arch is built); archs registered later may not reuse their names.
"""

from __future__ import annotations

import difflib
import fnmatch
import re
from collections.abc import Callable

from vggablate.arch.archs import builtin_archs
from vggablate.arch.spec import ArchSpec
from vggablate.checks.names import check_name
from vggablate.errors import UsageError

_ARCHS: dict[str, Callable[[], ArchSpec]] = builtin_archs()


def register_arch(name: str) -> Callable[[Callable[[], ArchSpec]], Callable[[], ArchSpec]]:
    """Register a zero-argument builder of an ArchSpec under a unique name."""
    # The name becomes folder names and is matched by --archs globs: the one name rule (names.py).
    check_name(name, "arch name", "tiny_k5")

    def wrap(fn: Callable[[], ArchSpec]) -> Callable[[], ArchSpec]:
        if name in _ARCHS:
            raise ValueError(f"an arch named {name!r} is already registered")
        _ARCHS[name] = fn
        return fn

    return wrap


def register_spec(spec: ArchSpec) -> ArchSpec:
    """Register a ready-made spec under its own name."""
    register_arch(spec.name)(lambda: spec)
    return spec


def get_arch(name: str) -> ArchSpec:
    """Return the spec registered under ``name``; suggest close names when unknown."""
    try:
        return _ARCHS[name]()
    except KeyError:
        raise UsageError(f"unknown arch {name!r}; {suggest(name)}") from None


def suggest(name: str) -> str:
    """Return a hint for an unknown name: the closest registered names, case ignored, or the list command."""
    lower = {n.lower(): n for n in _ARCHS}
    exact = [n for n in _ARCHS if n.lower() == name.lower()]
    close = exact or [lower[n] for n in difflib.get_close_matches(name.lower(), lower, n=3, cutoff=0.5)]
    return f"did you mean {', '.join(close)}?" if close else "see `python -m bench list`"


def is_registered(name: str) -> bool:
    """Say whether ``name`` is a registered arch."""
    return name in _ARCHS


def list_archs(pattern: str = "*") -> list[str]:
    """List the registered names matching a glob pattern, sorted naturally."""
    return sorted((n for n in _ARCHS if fnmatch.fnmatchcase(n, pattern)), key=_natural_key)


def _natural_key(name: str) -> tuple:
    # vgg11 < vgg13 < vgg16 < vgg19, and a name sorts before its variants.
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name))
