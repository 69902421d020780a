"""Whole numbers typed by people: ids and counts in forms, query strings and CSV cells."""

from __future__ import annotations

from typing import Any

from leadpact.common.errors import ApplicationError

#: An id or count has at most this many digits: it still fits a 64-bit database integer.
MAX_DIGITS = 18


def is_whole_number(text: str) -> bool:
    """True for plain ASCII digits that fit a database integer. ``str.isdigit`` alone also
    accepts "²" and other Unicode digits, which ``int()`` refuses, and any length, which the
    database refuses: either was a 500."""
    return text.isascii() and text.isdigit() and len(text) <= MAX_DIGITS


def parse_whole_number(raw: Any, label: str, *, required: bool = True) -> int | None:
    """A whole number from a form or query string (``None`` when empty and not required),
    refused with a message that names ``label``."""
    text = str(raw or "").strip()
    if not text:
        if required:
            raise ApplicationError(f"{label} is required.")
        return None
    if not is_whole_number(text):
        raise ApplicationError(f"{label} must be a whole number, got {text!r}.")
    return int(text)
