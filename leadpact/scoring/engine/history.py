"""Reading won/lost history from a CSV file and checking it can be learned from.

Every problem is reported as a ``ScoringInputError`` whose message names the column, the
values or the rows at fault, so the person who exported the file can fix it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from leadpact.scoring.engine.errors import ScoringInputError

DELIMITERS = (",", ";", "\t")
POSITIVE_WORDS = {"1", "1.0", "true", "yes", "y", "won", "converted", "positive"}
NEGATIVE_WORDS = {"0", "0.0", "false", "no", "n", "lost", "not converted", "negative"}
#: Fewer rows than this (or fewer of either outcome) cannot fill five validation folds.
MIN_ROWS = 50
MIN_PER_OUTCOME = 10


@dataclass
class History:
    """Attributes (``X``), 0/1 outcome (``y``) and optional dates, ready for the engine."""

    X: pd.DataFrame
    y: np.ndarray
    dates: pd.Series | None = None
    positive: str = ""
    dropped: dict[str, str] = field(default_factory=dict)


def detect_delimiter(header_line: str) -> str:
    """The candidate (``,`` ``;`` tab) that splits the header into the most fields."""
    counts = {d: len(next(csv.reader([header_line], delimiter=d))) for d in DELIMITERS}
    return max(DELIMITERS, key=lambda d: (counts[d], -DELIMITERS.index(d)))


def read_history_csv(path: str | Path, *, missing: Iterable[str] = ()) -> pd.DataFrame:
    """Read every cell as text (``missing`` values and blanks become NaN), delimiter detected."""
    path = Path(path)
    if not path.is_file():
        raise ScoringInputError(f"history file not found: {path}")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        text = path.read_text(encoding="latin-1")
    header = text.split("\n", 1)[0].strip("\r")
    if not header.strip():
        raise ScoringInputError(f"{path} is empty or has no header line")
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=detect_delimiter(header),
            dtype=str,
            keep_default_na=False,
            skipinitialspace=True,
        )
    except (pd.errors.ParserError, ValueError) as exc:
        raise ScoringInputError(f"cannot read {path} as CSV: {exc}") from exc
    tokens = {"", *missing}
    return frame.apply(lambda c: c.str.strip()).replace(list(tokens), np.nan)


def _numeric_or_text(column: pd.Series) -> pd.Series:
    """A column whose every present value is a number becomes float; others stay text."""
    present = column.dropna()
    if present.empty:
        return column
    numbers = pd.to_numeric(present, errors="coerce")
    if numbers.notna().all():
        return pd.to_numeric(column, errors="coerce").astype(np.float64)
    return column


def _outcome(column: pd.Series, name: str, positive: str | None) -> tuple[np.ndarray, str]:
    if column.isna().any():
        rows = (np.flatnonzero(column.isna().to_numpy()) + 2)[:5].tolist()
        raise ScoringInputError(
            f"outcome column {name!r} is empty in {int(column.isna().sum())} row(s) "
            f"(file lines {rows}); every lead in the history needs an outcome"
        )
    values = column.astype(str)
    distinct = sorted(values.unique())
    if positive is not None:
        others = [v for v in distinct if v != positive]
        if len(others) > 1:
            raise ScoringInputError(
                f"outcome column {name!r} has unexpected values {others}: with "
                f"--positive {positive!r} every other row must share one negative value"
            )
        y = (values == positive).to_numpy().astype(np.int64)
        pos = positive
    else:
        lowered = {v: v.lower() for v in distinct}
        unexpected = [v for v in distinct if lowered[v] not in POSITIVE_WORDS | NEGATIVE_WORDS]
        if unexpected:
            raise ScoringInputError(
                f"outcome column {name!r} has unexpected values {unexpected[:10]}; expected "
                "0/1, yes/no, true/false or won/lost, or name the winning value with --positive"
            )
        y = values.str.lower().isin(POSITIVE_WORDS).to_numpy().astype(np.int64)
        pos = next((v for v in distinct if lowered[v] in POSITIVE_WORDS), "1")
    n_pos, n_neg = int(y.sum()), int(len(y) - y.sum())
    if n_pos == 0:
        raise ScoringInputError(f"outcome column {name!r} has no positive outcomes ({pos!r})")
    if n_neg == 0:
        raise ScoringInputError(f"outcome column {name!r} has no negative outcomes")
    if len(y) < MIN_ROWS or min(n_pos, n_neg) < MIN_PER_OUTCOME:
        raise ScoringInputError(
            f"too few rows to validate: {len(y)} rows, {n_pos} positive, {n_neg} negative; "
            f"need at least {MIN_ROWS} rows and {MIN_PER_OUTCOME} of each outcome"
        )
    return y, pos


def prepare_history(
    frame: pd.DataFrame,
    *,
    outcome: str,
    positive: str | None = None,
    exclude: Iterable[str] = (),
    keep: Iterable[str] = (),
    date_column: str | None = None,
) -> History:
    """Split a raw frame into attributes and outcome, rejecting what cannot be learned from."""
    exclude, keep = list(exclude), list(keep)
    named = [outcome, *exclude, *keep] + ([date_column] if date_column else [])
    unknown = [c for c in dict.fromkeys(named) if c not in frame.columns]
    if unknown:
        raise ScoringInputError(f"unknown column(s) {unknown}; the file has {list(frame.columns)}")
    if frame.empty:
        raise ScoringInputError("the history file has a header but no rows")
    y, pos = _outcome(frame[outcome], outcome, positive)
    dates = None
    if date_column:
        dates = pd.to_datetime(frame[date_column], errors="coerce", format="mixed", dayfirst=False)
        bad = dates.isna()
        if bad.any():
            rows = (np.flatnonzero(bad.to_numpy()) + 2)[:5].tolist()
            raise ScoringInputError(
                f"date column {date_column!r} has {int(bad.sum())} empty or unreadable "
                f"value(s) (file lines {rows})"
            )
    drop = {outcome, *exclude} | ({date_column} if date_column else set())
    attributes = [c for c in frame.columns if c not in drop]
    if not attributes:
        raise ScoringInputError(
            "no attributes left to learn from once the outcome and "
            "excluded columns are removed (empty attribute set)"
        )
    X = pd.DataFrame({c: _numeric_or_text(frame[c]) for c in attributes}, index=frame.index)
    for name in attributes:
        if pd.api.types.is_float_dtype(X[name]):
            infinite = np.isinf(X[name].to_numpy())
            if infinite.any():
                rows = (np.flatnonzero(infinite) + 2)[:5].tolist()
                raise ScoringInputError(
                    f"column {name!r} holds infinite values (file lines {rows}); fix them or "
                    "declare them empty with --missing inf"
                )
    dropped = {}
    for name in attributes:
        if X[name].nunique(dropna=False) <= 1:
            if name in keep:
                raise ScoringInputError(
                    f"column {name!r} is constant (one value in every row): it cannot be kept"
                )
            dropped[name] = "constant: the same value in every row"
    X = X.drop(columns=list(dropped))
    if X.shape[1] == 0:
        raise ScoringInputError(
            f"every attribute is constant ({list(dropped)}): empty attribute set"
        )
    return History(X=X, y=y, dates=dates, positive=pos, dropped=dropped)
