"""How far each forecasting method was from what was actually won, once a period closed.

Input: one row per weekly snapshot of a closed period (``period``, ``method``, ``week``,
``value`` forecast, ``actual`` won revenue). Per period and method: the number of weekly
snapshots, the first week's forecast and its error, and the mean absolute percentage error
over the weeks; per method over all periods: WAPE (sum of absolute errors over the sum of
actuals, which a period with little revenue cannot blow up) and the bias (mean signed error
over the mean actual: positive means the method forecast too much).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

COLUMNS = ("period", "method", "week", "value", "actual")
PERIOD_COLUMNS = (
    "period",
    "method",
    "weeks",
    "first",
    "actual",
    "first_error",
    "first_ape",
    "mape",
)


def accuracy_by_period(snapshots: pd.DataFrame) -> pd.DataFrame:
    """One row per (period, method): ``weeks``, ``first``, ``actual``, ``first_error``,
    ``first_ape``, ``mape`` (NaN where nothing was won: a percentage of 0 is undefined)."""
    missing = set(COLUMNS) - set(snapshots.columns)
    if missing:
        raise ValueError(f"snapshots lack columns: {sorted(missing)}")
    if snapshots.empty:
        return pd.DataFrame(columns=list(PERIOD_COLUMNS))
    frame = snapshots.sort_values(["period", "method", "week"]).copy()
    frame["value"] = frame["value"].astype(float)
    frame["actual"] = frame["actual"].astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        frame["ape"] = np.where(
            frame["actual"] > 0, (frame["value"] - frame["actual"]).abs() / frame["actual"], np.nan
        )
    grouped = frame.groupby(["period", "method"], sort=True)
    out = grouped.agg(
        weeks=("value", "size"),
        first=("value", "first"),
        actual=("actual", "first"),
        mape=("ape", "mean"),
    ).reset_index()
    out["first_error"] = out["first"] - out["actual"]
    with np.errstate(divide="ignore", invalid="ignore"):
        out["first_ape"] = np.where(
            out["actual"] > 0, out["first_error"].abs() / out["actual"], np.nan
        )
    return out[list(PERIOD_COLUMNS)]


def accuracy_by_method(snapshots: pd.DataFrame) -> pd.DataFrame:
    """One row per method over every snapshot: ``snapshots``, ``periods``, ``wape``, ``bias``."""
    if snapshots.empty:
        return pd.DataFrame(columns=["method", "snapshots", "periods", "wape", "bias"])
    frame = snapshots.assign(
        value=snapshots["value"].astype(float), actual=snapshots["actual"].astype(float)
    )
    frame["abs_error"] = (frame["value"] - frame["actual"]).abs()
    frame["error"] = frame["value"] - frame["actual"]
    grouped = frame.groupby("method", sort=True)
    out = grouped.agg(
        snapshots=("value", "size"),
        periods=("period", "nunique"),
        abs_error=("abs_error", "sum"),
        error=("error", "mean"),
        actual_sum=("actual", "sum"),
        actual_mean=("actual", "mean"),
    ).reset_index()
    with np.errstate(divide="ignore", invalid="ignore"):
        out["wape"] = np.where(out["actual_sum"] > 0, out["abs_error"] / out["actual_sum"], np.nan)
        out["bias"] = np.where(out["actual_mean"] > 0, out["error"] / out["actual_mean"], np.nan)
    return out[["method", "snapshots", "periods", "wape", "bias"]]
