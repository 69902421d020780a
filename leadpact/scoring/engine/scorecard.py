"""The points scorecard learned from won/lost history.

Each attribute is binned (missing is a bin of its own), each bin gets a weight of evidence,
a logistic regression with non-negative weights combines them, and the log-odds are scaled to
integer points: ``pdo`` points double the odds and ``base_score`` stands for odds of
``base_odds``. A lead's score is ``base_points`` plus one number per attribute, so every score
explains itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from leadpact.scoring.engine.binning import CATEGORICAL, NUMERIC, AttributeBins, bin_attribute
from leadpact.scoring.engine.compiled import CompiledAttribute, CompiledScorecard
from leadpact.scoring.engine.logistic import NonNegativeLogisticRegression


def attribute_kind(series: pd.Series) -> str:
    """Numbers are binned by range; everything else (text, yes/no, booleans) by value."""
    if pd.api.types.is_bool_dtype(series) or not pd.api.types.is_numeric_dtype(series):
        return CATEGORICAL
    return NUMERIC


class Scorecard:
    """Weight-of-evidence logistic scorecard with integer points (scikit-learn shape).

    Attributes whose single-attribute information value exceeds ``leakage_iv`` or whose
    single-attribute AUC exceeds ``leakage_auc`` are flagged as likely leaks (filled in after
    the outcome was known) and left out unless named in ``keep``. Attributes below ``min_iv``
    are dropped, then weights are fitted with a non-negativity bound (an attribute whose
    weight hits zero is redundant and dropped) and the weakest are removed until at most
    ``max_attributes`` remain.
    """

    def __init__(
        self,
        *,
        max_attributes: int = 12,
        min_iv: float = 0.02,
        min_bin_size: float = 0.02,
        cat_cutoff: float = 0.01,
        monotonic_trend: str | None = "auto",
        C: float = 0.1,
        leakage_iv: float = 1.5,
        leakage_auc: float = 0.9,
        keep: Iterable[str] = (),
        pdo: float = 20.0,
        base_score: float = 600.0,
        base_odds: float = 1.0,
        random_state: int | None = None,
    ) -> None:
        self.max_attributes = max_attributes
        self.min_iv = min_iv
        self.min_bin_size = min_bin_size
        self.cat_cutoff = cat_cutoff
        self.monotonic_trend = monotonic_trend
        self.C = C
        self.leakage_iv = leakage_iv
        self.leakage_auc = leakage_auc
        self.keep = keep
        self.pdo = pdo
        self.base_score = base_score
        self.base_odds = base_odds
        self.random_state = random_state

    # ------------------------------------------------------------------ fitting
    def fit(self, X: pd.DataFrame, y: Any) -> Scorecard:
        y = np.asarray(y, dtype=np.int64)
        keep = set(self.keep)
        self.bins_: dict[str, AttributeBins] = {}
        self.screening_: list[dict[str, Any]] = []
        woe_columns: dict[str, np.ndarray] = {}
        for name in X.columns:
            column = X[name]
            bins = bin_attribute(
                name,
                column,
                y,
                kind=attribute_kind(column),
                min_bin_size=self.min_bin_size,
                cat_cutoff=self.cat_cutoff,
                monotonic_trend=self.monotonic_trend,
            )
            woe = bins.woe[bins.codes(column)]
            auc = _single_auc(y, woe)
            leak = bins.iv > self.leakage_iv or auc > self.leakage_auc
            if leak and name not in keep:
                status = "excluded: suspected leakage"
            elif bins.iv < self.min_iv and name not in keep:
                status = f"dropped: weak (information value below {self.min_iv:.2f})"
            else:
                status = "candidate"
                woe_columns[name] = woe
            self.bins_[name] = bins
            self.screening_.append(
                {"attribute": name, "iv": bins.iv, "auc": auc, "leak": leak, "status": status}
            )
        self.leakage_flags_ = [row["attribute"] for row in self.screening_ if row["leak"]]
        selected, model = self._select(woe_columns, y)
        statuses = {row["attribute"]: row for row in self.screening_}
        for name in woe_columns:
            if name not in selected:
                statuses[name]["status"] = "dropped: redundant or beyond the attribute limit"
        for name in selected:
            statuses[name]["status"] = "selected"
        self.attributes_ = selected
        self.coef_ = model.coef_ if model is not None else np.zeros(0)
        self.intercept_ = model.intercept_ if model is not None else _log_odds(y.mean())
        self._scale()
        return self

    def _select(
        self, woe_columns: dict[str, np.ndarray], y: np.ndarray
    ) -> tuple[list[str], NonNegativeLogisticRegression | None]:
        names = list(woe_columns)
        model = None
        while names:
            W = np.column_stack([woe_columns[n] for n in names])
            model = NonNegativeLogisticRegression(C=self.C).fit(W, y)
            contribution = model.coef_ * W.std(axis=0)
            zero = contribution <= 1e-6
            if zero.any():
                names = [n for n, z in zip(names, zero, strict=True) if not z]
                continue
            if len(names) > self.max_attributes:
                names.pop(int(np.argmin(contribution)))
                continue
            break
        if not names:
            return [], None
        return names, model

    def _scale(self) -> None:
        self.factor_ = self.pdo / np.log(2.0)
        self.offset_ = self.base_score - self.factor_ * np.log(self.base_odds)
        self.base_points_ = round(self.offset_ + self.factor_ * self.intercept_)
        self.points_ = {
            name: np.rint(self.factor_ * coef * self.bins_[name].woe).astype(np.int32)
            for name, coef in zip(self.attributes_, self.coef_, strict=True)
        }

    # ------------------------------------------------------------------ scoring
    def compile(self) -> CompiledScorecard:
        """Flatten to arrays for fast batch and single-lead scoring."""
        attributes = []
        for name in self.attributes_:
            bins = self.bins_[name]
            points = np.append(self.points_[name], 0).astype(np.int32)  # last: unknown → 0
            attributes.append(
                CompiledAttribute(
                    name=name,
                    kind=bins.kind,
                    edges=bins.edges,
                    categories=dict(bins.categories),
                    points=points,
                )
            )
        return CompiledScorecard(
            attributes, base_points=int(self.base_points_), offset=self.offset_, factor=self.factor_
        )

    def scores(self, X: pd.DataFrame) -> np.ndarray:
        return self.compile().score(X)[0]

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        compiled = self.compile()
        p = compiled.probability(compiled.score(X)[0])
        return np.column_stack([1 - p, p])

    # ------------------------------------------------------------------ reading
    def table(self) -> dict[str, Any]:
        """The scorecard as plain data: scaling, base points, attributes, bins and points."""
        attributes = []
        for name, coef in zip(self.attributes_, self.coef_, strict=True):
            bins = self.bins_[name]
            rows = []
            for i, label in enumerate(bins.labels):
                count = int(bins.counts[i])
                rows.append(
                    {
                        "bin": label,
                        "count": count,
                        "conversions": int(bins.events[i]),
                        "conversion_rate": None if count == 0 else float(bins.events[i] / count),
                        "woe": float(bins.woe[i]),
                        "points": int(self.points_[name][i]),
                    }
                )
            attributes.append(
                {
                    "attribute": name,
                    "kind": bins.kind,
                    "weight": float(coef),
                    "iv": float(bins.iv),
                    "bins": rows,
                    "unknown_points": 0,
                }
            )
        return {
            "scaling": {
                "points_to_double_odds": self.pdo,
                "base_score": self.base_score,
                "base_odds": self.base_odds,
            },
            "base_points": int(self.base_points_),
            "attributes": attributes,
        }


def _single_auc(y: np.ndarray, woe: np.ndarray) -> float:
    if len(np.unique(y)) < 2 or np.ptp(woe) == 0:
        return 0.5
    return float(roc_auc_score(y, woe))


def _log_odds(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return float(np.log(p / (1 - p)))


def sign_conflicts(table: dict[str, Any]) -> list[dict[str, Any]]:
    """Pairs of bins of one attribute whose points contradict their conversion rates.

    A bin that converts better than another must not earn fewer points. Empty bins (and a
    missing bin scored as another bin) carry no rate of their own and are skipped. The fitted
    scorecard is built so this list is empty; pages and tests check it.
    """
    conflicts = []
    for attribute in table["attributes"]:
        rows = [r for r in attribute["bins"] if r["count"] > 0]
        for a in rows:
            for b in rows:
                if a["conversion_rate"] > b["conversion_rate"] and a["points"] < b["points"]:
                    conflicts.append(
                        {"attribute": attribute["attribute"], "better": a["bin"], "worse": b["bin"]}
                    )
    return conflicts
