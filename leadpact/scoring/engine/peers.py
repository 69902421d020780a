"""The models the scorecard is measured against, so people see what transparency costs.

* ``FrequencyNaiveBayes``: Odoo CRM's predictive lead scoring — for every attribute the
  frequency of each value among won and among lost leads, multiplied (naive Bayes on
  frequency tables). Numbers are cut into quantile bands first, since a frequency table
  needs values that repeat.
* ``LightGBMPeer``: gradient-boosted trees, the accurate but opaque end of the range.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from leadpact.scoring.engine.binning import NUMERIC
from leadpact.scoring.engine.scorecard import attribute_kind

MISSING = "\x00missing"


class FrequencyNaiveBayes:
    """Naive Bayes on per-attribute value frequencies among won vs lost (Laplace ``alpha``)."""

    def __init__(self, *, alpha: float = 1.0, numeric_bands: int = 10) -> None:
        self.alpha = alpha
        self.numeric_bands = numeric_bands

    def _values(self, name: str, column: pd.Series) -> pd.Series:
        if name in self.band_edges_:
            x = pd.to_numeric(column, errors="coerce").to_numpy(np.float64)
            bands = np.searchsorted(self.band_edges_[name], x, side="right").astype(str)
            return pd.Series(np.where(np.isfinite(x), bands, MISSING), index=column.index)
        return column.astype(object).where(column.notna(), MISSING).astype(str)

    def fit(self, X: pd.DataFrame, y: Any) -> FrequencyNaiveBayes:
        y = np.asarray(y, dtype=np.int64)
        self.band_edges_: dict[str, np.ndarray] = {}
        for name in X.columns:
            if attribute_kind(X[name]) == NUMERIC:
                x = X[name].to_numpy(np.float64)
                x = x[np.isfinite(x)]
                qs = np.linspace(0, 1, self.numeric_bands + 1)[1:-1]
                self.band_edges_[name] = np.unique(np.quantile(x, qs)) if len(x) else np.empty(0)
        self.prior_ = np.array([(y == 0).sum(), (y == 1).sum()], dtype=np.float64)
        self.log_prior_ = np.log(self.prior_ / self.prior_.sum())
        self.tables_: dict[str, pd.DataFrame] = {}
        for name in X.columns:
            values = self._values(name, X[name])
            counts = pd.crosstab(values, y).reindex(columns=[0, 1], fill_value=0)
            k = len(counts)
            self.tables_[name] = np.log(
                (counts + self.alpha) / (self.prior_ + self.alpha * k)
            )  # log P(value | outcome)
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        log_odds = np.full(len(X), self.log_prior_[1] - self.log_prior_[0])
        for name, table in self.tables_.items():
            delta = (table[1] - table[0]).to_dict()
            values = self._values(name, X[name])
            # a value never seen in training says nothing either way (as Odoo skips it)
            log_odds += values.map(delta).fillna(0.0).to_numpy(np.float64)
        p = 1.0 / (1.0 + np.exp(-log_odds))
        return np.column_stack([1 - p, p])


class LightGBMPeer:
    """LightGBM on the raw attributes (text as pandas categories, missing left to the trees)."""

    def __init__(
        self,
        *,
        n_estimators: int = 300,
        learning_rate: float = 0.03,
        num_leaves: int = 15,
        min_child_samples: int = 20,
        random_state: int | None = 42,
        n_jobs: int = 1,
    ) -> None:
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _frame(self, X: pd.DataFrame) -> pd.DataFrame:
        out = {}
        for name in X.columns:
            if name in self.categories_:
                categories = self.categories_[name]
                lookup = {value: i for i, value in enumerate(categories)}
                codes = X[name].map(lambda v, lookup=lookup: lookup.get(str(v), -1))
                out[name] = pd.Categorical.from_codes(
                    codes.fillna(-1).to_numpy(np.int64), categories=categories
                )
            else:
                out[name] = pd.to_numeric(X[name], errors="coerce").replace(
                    [np.inf, -np.inf], np.nan
                )
        return pd.DataFrame(out, index=X.index)

    def fit(self, X: pd.DataFrame, y: Any) -> LightGBMPeer:
        from lightgbm import LGBMClassifier

        self.categories_ = {
            name: pd.Index(sorted(X[name].dropna().astype(str).unique()))
            for name in X.columns
            if attribute_kind(X[name]) != NUMERIC
        }
        self.model_ = LGBMClassifier(
            n_estimators=self.n_estimators,
            learning_rate=self.learning_rate,
            num_leaves=self.num_leaves,
            min_child_samples=self.min_child_samples,
            subsample=0.8,
            subsample_freq=1,
            colsample_bytree=0.8,
            random_state=self.random_state,
            n_jobs=self.n_jobs,
            verbose=-1,
        )
        self.model_.fit(self._frame(X), np.asarray(y, dtype=np.int64))
        return self

    def prepare(self, X: pd.DataFrame) -> pd.DataFrame:
        """The frame LightGBM reads (categories coded as in training; unseen ones missing)."""
        return self._frame(X)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return self.model_.predict_proba(self._frame(X))
