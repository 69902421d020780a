"""A win-probability model for open deals, learned from closed ones: logistic regression on
stage, age in stage, amount band, source channel and lead score, with its calibration.

Calibration is measured out of sample (k-fold predictions), so the report says how far a
predicted 30% is from the 30% it should mean on deals the model has not seen.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

CATEGORICAL = ["stage", "amount_band", "source_channel"]
NUMERIC = ["age_in_stage_days", "lead_score"]
AMOUNT_BANDS = np.array([1_000, 5_000, 20_000, 100_000])


def amount_band(amounts: np.ndarray) -> np.ndarray:
    """Bands instead of raw amounts: win rates move in steps with deal size, not linearly."""
    labels = np.array(["<1k", "1k-5k", "5k-20k", "20k-100k", "100k+"])
    return labels[np.searchsorted(AMOUNT_BANDS, np.asarray(amounts, dtype=float), side="right")]


def features(frame: pd.DataFrame) -> pd.DataFrame:
    """The model's input from columns stage, age_in_stage_days, amount, source_channel,
    lead_score."""
    return pd.DataFrame(
        {
            "stage": frame["stage"].astype(str),
            "amount_band": amount_band(frame["amount"].to_numpy()),
            "source_channel": frame["source_channel"].fillna("unknown").astype(str),
            "age_in_stage_days": np.log1p(frame["age_in_stage_days"].clip(lower=0)),
            "lead_score": frame["lead_score"].astype(float),
        }
    )


def expected_calibration_error(y: np.ndarray, p: np.ndarray, n_bins: int = 10) -> float:
    """ECE: over equal-width bins of the predicted probability, the mean |predicted - observed|
    weighted by the share of rows in the bin. 0 is perfectly calibrated."""
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    if y.size == 0:
        return float("nan")
    edges = np.linspace(0, 1, n_bins + 1)
    which = np.clip(np.digitize(p, edges[1:-1]), 0, n_bins - 1)
    predicted = np.bincount(which, weights=p, minlength=n_bins)
    observed = np.bincount(which, weights=y, minlength=n_bins)
    return float(np.abs(predicted - observed).sum() / y.size)


class WinProbabilityModel:
    """Learned: ``model_`` (the fitted scikit-learn pipeline), ``calibration_`` (per bin: mean
    predicted, observed win rate, count: the reliability table), ``ece_`` (expected calibration
    error: the count-weighted mean gap between predicted and observed over the bins),
    ``brier_``, ``auc_`` (NaN with one class), ``base_rate_``, ``n_rows_``, ``folds_`` (the
    cross-validation folds the out-of-sample predictions came from; 0 when the history was too
    thin to cross-validate and the base rate stood in)."""

    def __init__(self, C: float = 1.0, n_bins: int = 10, cv: int = 5, random_state: int = 0):
        self.C = C
        self.n_bins = n_bins
        self.cv = cv
        self.random_state = random_state

    def _pipeline(self):  # type: ignore[no-untyped-def]
        encode = ColumnTransformer(
            [
                ("cat", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL),
                ("num", StandardScaler(), NUMERIC),
            ]
        )
        return make_pipeline(
            encode, LogisticRegression(C=self.C, max_iter=1000, random_state=self.random_state)
        )

    def fit(
        self, frame: pd.DataFrame, won: np.ndarray, groups: np.ndarray | None = None
    ) -> WinProbabilityModel:
        """``groups`` (one id per row, e.g. the deal) keeps the rows of one group in the same
        fold: a deal seen at several stages and ages must not be scored by a model that
        learned its own outcome, or the reported calibration flatters the model."""
        X = features(frame)
        y = np.asarray(won, dtype=int)
        if len(np.unique(y)) < 2:
            raise ValueError("the history needs both won and lost deals")
        self.base_rate_ = float(y.mean())
        if groups is None:
            folds = min(self.cv, int(np.bincount(y).min()))
            split: Any = StratifiedKFold(folds, shuffle=True, random_state=self.random_state)
        else:
            groups = np.asarray(groups)
            # every fold needs a won and a lost group: count each group once, by its outcome
            first = pd.Series(y).groupby(groups).first().to_numpy()
            folds = min(self.cv, int(np.bincount(first, minlength=2).min()))
            split = StratifiedGroupKFold(folds, shuffle=True, random_state=self.random_state)
        if folds >= 2:
            oof = cross_val_predict(
                self._pipeline(), X, y, cv=split, groups=groups, method="predict_proba"
            )[:, 1]
        else:
            oof = np.full(len(y), self.base_rate_)
        self.n_rows_ = len(y)
        self.folds_ = int(folds) if folds >= 2 else 0
        self.brier_ = float(brier_score_loss(y, oof))
        self.auc_ = float(roc_auc_score(y, oof))
        edges = np.linspace(0, 1, self.n_bins + 1)
        which = np.clip(np.digitize(oof, edges[1:-1]), 0, self.n_bins - 1)
        self.calibration_ = [
            {
                "bin": f"{edges[b]:.1f}-{edges[b + 1]:.1f}",
                "predicted": float(oof[which == b].mean()),
                "observed": float(y[which == b].mean()),
                "count": int((which == b).sum()),
            }
            for b in range(self.n_bins)
            if (which == b).any()
        ]
        self.ece_ = expected_calibration_error(y, oof, n_bins=self.n_bins)
        self.model_ = self._pipeline().fit(X, y)
        return self

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        """Win probability of each row."""
        return self.model_.predict_proba(features(frame))[:, 1]
