import pytest

from leadpact.common.spreadsheet import looks_like_formula, neutralise


@pytest.mark.parametrize(
    "value",
    ["=cmd|' /C calc'!A0", "@SUM(A1:A2)", "+A1", "-A1+B2", "=1+1", "\t=1", "\r=1", "+cmd|x"],
)
def test_formulas_are_detected_and_neutralised(value):
    assert looks_like_formula(value)
    assert neutralise(value) == "'" + value


@pytest.mark.parametrize("value", ["", "Acme", "+44 20 7946 0958", "-12.5", "+1 (202) 555-0143"])
def test_data_is_left_alone(value):
    assert not looks_like_formula(value)
    assert neutralise(value) == value


def test_non_text_passes_through():
    assert neutralise(42) == 42
    assert neutralise(None) is None
