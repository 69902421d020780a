"""Whole numbers typed by people: a superscript digit or a 30-digit id is refused, not a 500."""

from __future__ import annotations

import pytest

from leadpact.common.numbers import is_whole_number


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("7", True),
        ("0042", True),
        ("9" * 18, True),
        ("9" * 19, False),
        ("²", False),
        ("١٢", False),
        ("-1", False),
        ("1.0", False),
        ("", False),
        (" 1", False),
    ],
)
def test_is_whole_number(text, ok):
    assert is_whole_number(text) is ok
