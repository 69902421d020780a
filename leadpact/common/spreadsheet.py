"""Spreadsheet formula injection: detect it on the way in, neutralise it on the way out."""

from __future__ import annotations

import re

_FORMULA_START = ("=", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?[\d\s()./-]+$")


def looks_like_formula(value: str) -> bool:
    """True for a cell a spreadsheet would run as a formula (``=cmd|...``, ``@SUM(..)``, ``+A1``).

    A signed number or a phone number such as ``+44 20 7946 0958`` is data, not a formula.
    """
    if not value:
        return False
    if value.startswith(_FORMULA_START):
        return True
    if value[0] in "+-":
        return not _NUMBER.match(value)
    return False


def neutralise(value: object) -> object:
    """Prefix a formula-like text cell with a quote so a spreadsheet shows it as text."""
    if isinstance(value, str) and looks_like_formula(value):
        return "'" + value
    return value
