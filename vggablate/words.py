"""Counts in words for messages and reports; import-light, so every command can use it."""

from __future__ import annotations


def plural(n: int | float, word: str, words: str | None = None) -> str:
    """Return '1 seed', '3 seeds', '1.5 epochs' (the count and the word that agrees with it)."""
    many = words or word + "s"
    return f"{n:g} {word if n == 1 else many}"
