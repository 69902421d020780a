import numpy as np
import pandas as pd
import pytest

from leadpact.scoring.engine.errors import ScoringInputError
from leadpact.scoring.engine.history import detect_delimiter, prepare_history, read_history_csv


def frame(n: int = 60, **columns) -> pd.DataFrame:
    base = {
        "won": ["1", "0"] * (n // 2),
        "source": ["web", "ads", "fair"] * (n // 3),
        "visits": [str(i % 7) for i in range(n)],
    }
    base.update(columns)
    return pd.DataFrame(base)


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_delimiter_is_detected_and_missing_markers_become_empty(tmp_path, delimiter):
    path = tmp_path / "h.csv"
    path.write_text(
        delimiter.join(["won", "city", "visits"])
        + "\n"
        + delimiter.join(["1", "Select", "3"])
        + "\n"
        + delimiter.join(["0", "Pune", ""])
        + "\n"
    )
    assert detect_delimiter(path.read_text().splitlines()[0]) == delimiter
    read = read_history_csv(path, missing=["Select"])
    assert list(read.columns) == ["won", "city", "visits"]
    assert read["city"].isna().tolist() == [True, False]
    assert read["visits"].isna().tolist() == [False, True]


def test_prepared_history_types_and_drops_constant_columns():
    history = prepare_history(frame(flag=["x"] * 60), outcome="won")
    assert history.y.tolist()[:4] == [1, 0, 1, 0]
    assert history.X["visits"].dtype == np.float64
    assert history.dropped == {"flag": "constant: the same value in every row"}


@pytest.mark.parametrize(
    ("data", "kwargs", "message"),
    [
        (frame(won=["1"] * 60), {}, "no negative outcomes"),
        (frame(won=["0"] * 60), {}, "no positive outcomes"),
        (frame(won=["won", "lost", "maybe"] * 20), {}, "unexpected values ['maybe']"),
        (frame(won=["a", "b", "c"] * 20), {"positive": "a"}, "unexpected values ['b', 'c']"),
        (frame(12), {}, "too few rows to validate"),
        (frame(), {"exclude": ["nope"]}, "unknown column(s) ['nope']"),
        (frame(), {"outcome": "result"}, "unknown column(s) ['result']"),
        (frame(visits=["1", "inf"] * 30), {}, "infinite values"),
        (frame(won=["1", None] * 30), {}, "is empty in 30 row(s)"),
        (frame(), {"exclude": ["source", "visits"]}, "empty attribute set"),
        (frame(flag=["x"] * 60), {"keep": ["flag"]}, "'flag' is constant"),
        (frame(day=["2024-01-01", "soon"] * 30), {"date_column": "day"}, "unreadable"),
    ],
)
def test_bad_history_is_rejected_with_a_clear_message(data, kwargs, message):
    kwargs = {"outcome": "won", **kwargs}
    with pytest.raises(ScoringInputError) as error:
        prepare_history(data, **kwargs)
    assert message in str(error.value)


def test_positive_value_names_the_winning_outcome():
    history = prepare_history(
        frame(won=["Closed Won", "Lost"] * 30), outcome="won", positive="Closed Won"
    )
    assert history.y.sum() == 30 and history.positive == "Closed Won"
