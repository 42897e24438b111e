"""The wording of 'choose from ...' messages: every unknown-choice UsageError is spelled here."""

from __future__ import annotations

from collections.abc import Iterable

from vggablate.errors import UsageError


def or_list(allowed: Iterable[str]) -> str:
    """Spell choices for a message: 'a, b or c'."""
    items = list(allowed)
    return ", ".join(items[:-1]) + " or " + items[-1] if len(items) > 1 else "".join(items)


def check_choice(what: str, value: object, allowed: Iterable[str]) -> None:
    """Raise UsageError 'unknown WHAT VALUE; choose from ...' unless value is allowed."""
    allowed = tuple(allowed)
    if value not in allowed:
        raise UsageError(f"unknown {what} {value!r}; choose from {', '.join(allowed)}")


def check_choices(what: str, values: Iterable[str], allowed: Iterable[str], empty: str = "(none)") -> None:
    """Raise UsageError 'unknown WHAT a, b; choose from ...' unless there are values and each is allowed."""
    values, allowed = tuple(values), tuple(allowed)
    bad = [v for v in values if v not in allowed]
    if bad or not values:
        raise UsageError(f"unknown {what} {', '.join(bad) or empty}; choose from {', '.join(allowed)}")
