"""The rows' ``timestamp`` text: when a trial started, in UTC."""

from __future__ import annotations

import datetime


def utc_timestamp() -> str:
    """Return the current UTC time as the rows' ``timestamp`` text (ISO 8601, seconds)."""
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
