"""The one rule for names that become folder names or patterns: run names, arch names, file stems.

A name is letters (any script), ASCII digits and ``- _ . + = @``, at most ``NAME_MAX`` characters, never
starts with ``.`` or ``-`` (hidden files, flags), never holds ``..``, and is not a cfg token (``64``,
``M``, ``512k5x2``), which ``--archs`` would read as a cfg. Glob characters (``* ? [ ]``), ``/``, backslash,
``,`` and spaces are outside the allowed set, so a name can neither leave its folder nor act as a
pattern. The CLI and the library (``register_arch``, ``load_arch_file``) both apply it.
"""

from __future__ import annotations

import string

from vggablate.arch.spec import is_cfg_token
from vggablate.errors import UsageError

NAME_CHARS = "-_.+=@"
NAME_MAX = 100
_ALLOWED = frozenset(string.digits + NAME_CHARS)


def _allowed(ch: str) -> bool:
    # Letters of any script ('größe'), but only ASCII digits: '²' or '٣' would pass isalnum().
    return ch in _ALLOWED or ch.isalpha()


def name_problem(name: object) -> str | None:
    """Return what is wrong with a name (a phrase), or None when it follows the rule."""
    if not isinstance(name, str):
        return f"is a {type(name).__name__}, not text"
    if not name:
        return "is empty"
    if len(name) > NAME_MAX:
        return f"is over {NAME_MAX} characters long"
    bad = sorted({ch for ch in name if not _allowed(ch)}) + ([".."] if ".." in name else [])
    if bad:
        return f"contains {', '.join(map(repr, bad))}"
    if name[0] in ".-":
        return f"starts with {name[0]!r}"
    if is_cfg_token(name):
        return "is a cfg token (it would be read as a layer)"
    return None


def check_name(name: object, what: str = "name", example: str = "kernels_bs8") -> str:
    """Return the name when it follows the rule; else raise UsageError saying what to use."""
    problem = name_problem(name)
    if problem:
        shown = repr(name) if len(repr(name)) <= 60 else repr(name)[:57] + "..."  # one readable line
        raise UsageError(f"{what} {shown} {problem}; it becomes a folder name: use letters, digits and "
                         f"{' '.join(NAME_CHARS)}, not starting with . or -, e.g. {example}")  # fmt: skip
    return name  # type: ignore[return-value]  # name_problem checked it is a str


def safe_stem(text: str, fallback: str = "run") -> str:
    """Turn free text (a cfg string, a glob) into a folder-name stem that follows the rule."""
    stem = "".join(ch if _allowed(ch) else "-" for ch in text)
    while ".." in stem:
        stem = stem.replace("..", ".")
    stem = stem[:40].strip("-_.")
    for candidate in (stem, f"cfg-{stem}"):  # a bare cfg token ('64') is no name; 'cfg-64' is
        if stem and name_problem(candidate) is None:
            return candidate
    return fallback


def check_spec_name(name: str, cfg_str: str) -> str:
    """Check a spec's name: the rule, or the spec's own cfg spelled out (a cfg given as the arch), '@w..' allowed."""
    base, _, label = name.partition("@")
    if base == cfg_str and name_problem(f"x@{label}" if label else "x") is None:
        return name  # 'custom cfg' specs are named by their canonical cfg, which the rule itself refuses
    return check_name(name, "arch name", "tiny_k5")
