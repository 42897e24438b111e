"""The one rule for numbers a user gives (flags, sweep files, arch files): finite, in range, ASCII.

``nan`` and ``inf`` are refused where they are read, not discovered one trial at a time later
(``nan`` epochs once failed every trial of a sweep; an ``inf`` latency budget never returned).
The upper bounds keep a typo from asking for days of work or a list that cannot be held; each
is far above any sensible value, so none refuses a real run.
"""

from __future__ import annotations

import math
import re

from vggablate.errors import UsageError

MAX_SECONDS = 7 * 24 * 3600.0  # a trial timeout or a latency budget: a week
MAX_EPOCHS = 100_000.0
MAX_SEEDS = 1000  # seeds x archs trials are planned up front, one object each
MAX_INT = 10**12  # batch sizes, steps, sizes: the memory check refuses what cannot be allocated
MAX_FLOAT = 1e12

# ASCII only: int() and float() also accept '٣', '1_000' and 'nan', which a flag should not.
_INT_RE = re.compile(r"[+-]?[0-9]{1,15}", re.ASCII)
_FLOAT_RE = re.compile(r"[+-]?([0-9]{1,15}(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]{1,3})?", re.ASCII)


def parse_int(text: str) -> int:
    """Parse ASCII digits into an int; raise ValueError with a phrase otherwise."""
    if not _INT_RE.fullmatch(text.strip()):
        raise ValueError(f"expected a whole number, got {text!r}")
    return int(text)


def parse_float(text: str) -> float:
    """Parse an ASCII decimal number into a finite float; raise ValueError with a phrase otherwise."""
    if not _FLOAT_RE.fullmatch(text.strip()):
        raise ValueError(f"expected a finite number, got {text!r}")
    value = float(text)
    if not math.isfinite(value):  # 1e999
        raise ValueError(f"expected a finite number, got {text!r}")
    return value


def range_problem(value: float, minimum: float | None, maximum: float | None, exclusive_min: bool) -> str | None:
    """Say why a finite number is out of range (a phrase), or None."""
    if minimum is not None and (value <= minimum if exclusive_min else value < minimum):
        return f"must be {'>' if exclusive_min else '>='} {minimum:g}, got {value:g}"
    if maximum is not None and value > maximum:
        return f"must be <= {maximum:g}, got {value:g}"
    return None


def check_number(
    value: object,
    what: str,
    integer: bool = False,
    minimum: float | None = 0,
    maximum: float | None = None,
    exclusive_min: bool = True,
) -> float:
    """Return a value that is a finite (whole, when asked) number in range; raise UsageError otherwise."""
    ok_type = isinstance(value, int) if integer else isinstance(value, (int, float))
    if isinstance(value, bool) or not ok_type:
        raise UsageError(f"{what} must be {'a whole number' if integer else 'a number'}, got {value!r}")
    if not math.isfinite(value):
        raise UsageError(f"{what} must be a finite number, got {value!r}")
    problem = range_problem(value, minimum, maximum, exclusive_min)
    if problem:
        raise UsageError(f"{what} {problem}")
    return value
