"""Whole numbers typed by people: ids and counts in forms, query strings and CSV cells."""

from __future__ import annotations

#: An id or count has at most this many digits: it still fits a 64-bit database integer.
MAX_DIGITS = 18


def is_whole_number(text: str) -> bool:
    """True for plain ASCII digits that fit a database integer. ``str.isdigit`` alone also
    accepts "²" and other Unicode digits, which ``int()`` refuses, and any length, which the
    database refuses: either was a 500."""
    return text.isascii() and text.isdigit() and len(text) <= MAX_DIGITS
