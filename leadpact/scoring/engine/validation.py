"""How good a fitted model is, measured the same way for the scorecard and its peers.

Stratified k-fold cross-validation refits the whole model (binning, selection, weights) inside
every fold, so nothing learned from a test fold leaks into its own prediction. The pooled
out-of-fold probabilities give log loss, Brier score, calibration (ECE with a reliability
table) and lift by top share; an optional out-of-time check trains on the oldest leads and
tests on the newest.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import numpy as np
import pandas as pd
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score
from sklearn.model_selection import StratifiedKFold

TOP_SHARES = (0.1, 0.2, 0.3, 0.5)


class Classifier(Protocol):
    def fit(self, X: pd.DataFrame, y: np.ndarray) -> Any: ...
    def predict_proba(self, X: pd.DataFrame) -> np.ndarray: ...


def calibration(y: np.ndarray, p: np.ndarray, n_bins: int = 10) -> tuple[float, list[dict]]:
    """Expected calibration error over equal-width probability bins, and the table behind it."""
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    index = np.clip(np.digitize(p, edges[1:-1], right=False), 0, n_bins - 1)
    table = []
    ece = 0.0
    for b in range(n_bins):
        mask = index == b
        n = int(mask.sum())
        row = {"bin": f"{edges[b]:.1f}-{edges[b + 1]:.1f}", "count": n}
        if n:
            predicted, observed = float(p[mask].mean()), float(y[mask].mean())
            ece += n / len(y) * abs(predicted - observed)
            row.update(predicted=predicted, observed=observed)
        else:
            row.update(predicted=None, observed=None)
        table.append(row)
    return float(ece), table


def lift_table(y: np.ndarray, p: np.ndarray, shares: tuple[float, ...] = TOP_SHARES) -> list[dict]:
    """For the top share of leads by score: conversion rate, lift and share of conversions."""
    order = np.argsort(-p, kind="stable")
    base = y.mean()
    total = y.sum()
    rows = []
    for share in shares:
        top = y[order[: max(1, round(share * len(y)))]]
        rows.append(
            {
                "top_share": share,
                "conversion_rate": float(top.mean()),
                "lift": float(top.mean() / base) if base else None,
                "conversions_captured": float(top.sum() / total) if total else None,
            }
        )
    return rows


def metrics(y: np.ndarray, p: np.ndarray) -> dict[str, Any]:
    p = np.clip(p, 1e-9, 1 - 1e-9)
    ece, reliability = calibration(y, p)
    return {
        "auc": float(roc_auc_score(y, p)),
        "log_loss": float(log_loss(y, p, labels=[0, 1])),
        "brier": float(brier_score_loss(y, p)),
        "ece": ece,
        "reliability": reliability,
        "lift": lift_table(y, p),
    }


def cross_validate(
    make_model: Callable[[], Classifier],
    X: pd.DataFrame,
    y: np.ndarray,
    *,
    n_splits: int = 5,
    random_state: int = 42,
) -> dict[str, Any]:
    """Stratified k-fold: AUC per fold (mean, std) plus pooled out-of-fold metrics."""
    y = np.asarray(y, dtype=np.int64)
    oof = np.zeros(len(y))
    aucs = []
    folds = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=random_state)
    for train, test in folds.split(np.zeros(len(y)), y):
        model = make_model().fit(X.iloc[train], y[train])
        oof[test] = model.predict_proba(X.iloc[test])[:, 1]
        aucs.append(float(roc_auc_score(y[test], oof[test])))
    pooled = metrics(y, oof)
    return {
        "folds": n_splits,
        "auc_mean": float(np.mean(aucs)),
        "auc_std": float(np.std(aucs)),
        "auc_folds": aucs,
        "oof_auc": pooled.pop("auc"),
        **pooled,
    }


def out_of_time(
    make_model: Callable[[], Classifier],
    X: pd.DataFrame,
    y: np.ndarray,
    dates: pd.Series,
    *,
    test_share: float = 0.2,
) -> dict[str, Any]:
    """Train on the oldest leads, test on the newest ``test_share`` (no shuffling across time)."""
    y = np.asarray(y, dtype=np.int64)
    order = np.argsort(dates.to_numpy(), kind="stable")
    cut = round(len(y) * (1 - test_share))
    train, test = order[:cut], order[cut:]
    result: dict[str, Any] = {
        "train_rows": len(train),
        "test_rows": len(test),
        "train_until": str(dates.iloc[train[-1]]),
        "test_from": str(dates.iloc[test[0]]),
    }
    if len(np.unique(y[test])) < 2 or len(np.unique(y[train])) < 2:
        result["error"] = "the newest leads hold only one outcome; cannot measure AUC"
        return result
    model = make_model().fit(X.iloc[train], y[train])
    p = model.predict_proba(X.iloc[test])[:, 1]
    m = metrics(y[test], p)
    result.update(auc=m["auc"], log_loss=m["log_loss"], brier=m["brier"], ece=m["ece"])
    return result
