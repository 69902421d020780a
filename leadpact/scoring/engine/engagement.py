"""Engagement points: what a lead *did* (form fills, clicks, visits), decaying with age.

Each touch kind has points, a half-life and a cap per period, kept in a rules table people can
edit. ``engagement_points`` scores one lead from arrays of (kind, age in days);
``engagement_points_batch`` scores many leads at once. ``EngagementWeights`` learns points per
kind from history (logistic regression on decayed touch counts) to seed the table.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from leadpact.scoring.engine.logistic import NonNegativeLogisticRegression


@dataclass(frozen=True)
class EngagementRule:
    """``points`` for a fresh touch, halved every ``half_life_days``; at most ``cap`` points
    per kind in each ``period_days`` window of age (``None``: no cap)."""

    kind: str
    points: float
    half_life_days: float = 30.0
    cap: float | None = None
    period_days: float = 30.0

    def __post_init__(self) -> None:
        if self.half_life_days <= 0 or self.period_days <= 0:
            raise ValueError(f"{self.kind}: half-life and period must be positive")
        if self.cap is not None and self.cap < 0:
            raise ValueError(f"{self.kind}: cap must not be negative")


DEFAULT_RULES: tuple[EngagementRule, ...] = (
    EngagementRule("form_fill", 15, half_life_days=60, cap=30),
    EngagementRule("webinar", 12, half_life_days=60, cap=24),
    EngagementRule("event", 10, half_life_days=60, cap=20),
    EngagementRule("email_click", 4, half_life_days=21, cap=12),
    EngagementRule("page_view", 1, half_life_days=14, cap=10),
)


class EngagementRules:
    """A rules table compiled to arrays (one row per kind); unknown kinds earn nothing."""

    def __init__(self, rules: Iterable[EngagementRule] = DEFAULT_RULES) -> None:
        self.rules = list(rules)
        kinds = [r.kind for r in self.rules]
        if len(set(kinds)) != len(kinds):
            raise ValueError("each touch kind may appear only once in the rules table")
        self.index = {kind: i for i, kind in enumerate(kinds)}
        self.points = np.array([r.points for r in self.rules], dtype=np.float64)
        self.half_life = np.array([r.half_life_days for r in self.rules], dtype=np.float64)
        self.cap = np.array(
            [np.inf if r.cap is None else r.cap for r in self.rules], dtype=np.float64
        )
        self.period = np.array([r.period_days for r in self.rules], dtype=np.float64)

    def kind_codes(self, kinds: Sequence[str] | np.ndarray) -> np.ndarray:
        """Row of each touch kind; ``-1`` for kinds the table does not know."""
        return np.fromiter(
            (self.index.get(str(k), -1) for k in kinds), dtype=np.int64, count=len(kinds)
        )


def _touch_arrays(kinds: Any, ages: Any, rules: EngagementRules) -> tuple[np.ndarray, ...]:
    ages = np.asarray(ages, dtype=np.float64)
    if len(kinds) != len(ages):
        raise ValueError("kinds and ages must have the same length")
    codes = rules.kind_codes(kinds)
    valid = (codes >= 0) & np.isfinite(ages)
    ages = np.maximum(ages, 0.0)  # a touch dated in the future counts as fresh
    return codes, ages, valid


def engagement_points_batch(
    lead_index: Any, kinds: Any, ages_days: Any, n_leads: int, rules: EngagementRules
) -> np.ndarray:
    """Engagement points of ``n_leads`` leads from flat touch arrays (``lead_index`` per touch)."""
    lead_index = np.asarray(lead_index, dtype=np.int64)
    codes, ages, valid = _touch_arrays(kinds, ages_days, rules)
    lead_index, codes, ages = lead_index[valid], codes[valid], ages[valid]
    if len(codes) == 0:
        return np.zeros(n_leads)
    decayed = rules.points[codes] * np.exp2(-ages / rules.half_life[codes])
    period = np.floor(ages / rules.period[codes]).astype(np.int64)
    n_kinds = len(rules.rules)
    # One bucket per (lead, kind, period): sum the decayed points, then cap each bucket.
    bucket_key = (lead_index * n_kinds + codes) * (int(period.max()) + 1) + period
    keys, inverse = np.unique(bucket_key, return_inverse=True)
    sums = np.bincount(inverse, weights=decayed)
    bucket_kind = (keys // (int(period.max()) + 1)) % n_kinds
    capped = np.minimum(sums, rules.cap[bucket_kind])
    bucket_lead = keys // ((int(period.max()) + 1) * n_kinds)
    return np.bincount(bucket_lead, weights=capped, minlength=n_leads)


def engagement_points(kinds: Any, ages_days: Any, rules: EngagementRules | None = None) -> float:
    """One lead's engagement points from its touches' kinds and ages in days."""
    rules = rules or EngagementRules()
    return float(
        engagement_points_batch(np.zeros(len(kinds), dtype=np.int64), kinds, ages_days, 1, rules)[0]
    )


def decayed_counts(
    lead_index: Any, kinds: Any, ages_days: Any, n_leads: int, rules: EngagementRules
) -> np.ndarray:
    """Leads x kinds matrix of touch counts, each touch weighted by its half-life decay."""
    lead_index = np.asarray(lead_index, dtype=np.int64)
    codes, ages, valid = _touch_arrays(kinds, ages_days, rules)
    out = np.zeros((n_leads, len(rules.rules)))
    decay = np.exp2(-ages[valid] / rules.half_life[codes[valid]])
    np.add.at(out, (lead_index[valid], codes[valid]), decay)
    return out


class EngagementWeights:
    """Learn points per touch kind from history (non-negative logistic regression).

    ``X`` is the leads x kinds matrix from ``decayed_counts``; points per touch are the
    weights on the scorecard's scale (``pdo`` points double the odds), so engagement points
    add to fit points. ``rules(base)`` returns the table with learned points, for people to edit.
    """

    def __init__(self, *, C: float = 1.0, pdo: float = 20.0, random_state: int | None = None):
        self.C = C
        self.pdo = pdo
        self.random_state = random_state

    def fit(self, X: np.ndarray, y: Any) -> EngagementWeights:
        model = NonNegativeLogisticRegression(C=self.C).fit(X, np.asarray(y))
        self.coef_ = model.coef_
        self.intercept_ = model.intercept_
        self.points_ = self.coef_ * self.pdo / np.log(2.0)
        return self

    def rules(self, base: EngagementRules) -> list[EngagementRule]:
        return [
            replace(rule, points=round(float(p), 1))
            for rule, p in zip(base.rules, self.points_, strict=True)
        ]


#: Leads of each outcome that must have had a touch of a kind before its points are learned.
MIN_LEADS_EACH = 10


def learn_engagement_rules(
    lead_index: Any,
    kinds: Any,
    ages_days: Any,
    y: Any,
    fit_points: Any,
    base: EngagementRules,
    *,
    pdo: float = 20.0,
    min_leads_each: int = MIN_LEADS_EACH,
    C: float = 1.0,
) -> tuple[list[EngagementRule], list[dict[str, Any]]]:
    """Points per touch kind learned from won (``y`` = 1) and lost leads, where history allows.

    The fit points of each lead enter as an offset-like feature (on the log-odds scale), so a
    touch kind earns only what it adds *beyond* the attributes; weights may not go negative.
    A kind learns its points when at least ``min_leads_each`` won and as many lost leads had
    one; otherwise the ``base`` rule is kept (and a kind the base table lacks is not added).
    Half-lives, caps per point and periods come from the base rule (30 days, no cap for a new
    kind). Returns the new rules table and, per kind, the evidence and the reason.
    """
    y = np.asarray(y, dtype=np.int64)
    n = len(y)
    lead_index = np.asarray(lead_index, dtype=np.int64)
    kinds = [str(k) for k in kinds]
    by_kind = {r.kind: r for r in base.rules}
    universe = [*by_kind, *sorted({k for k in kinds if k not in by_kind})]
    table = EngagementRules(by_kind.get(k) or EngagementRule(k, 0.0) for k in universe)
    X = decayed_counts(lead_index, kinds, ages_days, n, table)
    has = np.zeros((n, len(universe)), dtype=bool)
    codes = table.kind_codes(kinds)
    known = codes >= 0
    has[lead_index[known], codes[known]] = True
    touches = np.bincount(codes[known], minlength=len(universe))
    won_with = has[y == 1].sum(axis=0)
    lost_with = has[y == 0].sum(axis=0)
    won_total, lost_total = int((y == 1).sum()), int((y == 0).sum())
    eligible = (won_with >= min_leads_each) & (lost_with >= min_leads_each)
    learned = np.full(len(universe), np.nan)
    if eligible.any():
        scale = np.log(2.0) / pdo
        features = np.column_stack(
            [np.asarray(fit_points, dtype=np.float64) * scale, X[:, eligible]]
        )
        model = NonNegativeLogisticRegression(C=C).fit(features, y)
        fit_weight = model.coef_[0] if model.coef_[0] > 1e-6 else 1.0
        learned[eligible] = model.coef_[1:] / fit_weight / scale
    rules: list[EngagementRule] = []
    evidence: list[dict[str, Any]] = []
    for j, kind in enumerate(universe):
        rule = by_kind.get(kind)
        counts = f"{int(won_with[j])} won and {int(lost_with[j])} lost leads had one"
        row: dict[str, Any] = {
            "kind": kind,
            "won_with": int(won_with[j]),
            "lost_with": int(lost_with[j]),
            "won_rate": float(won_with[j] / won_total) if won_total else None,
            "lost_rate": float(lost_with[j] / lost_total) if lost_total else None,
            "touches": int(touches[j]),
            "learned_points": None,
            "learned": bool(eligible[j]),
        }
        if eligible[j]:
            points = float(round(learned[j]))
            row["learned_points"] = points
            if rule is None:
                rule = EngagementRule(kind, points)
            elif rule.cap is not None and rule.points > 0:
                rule = replace(
                    rule, points=points, cap=float(round(points * rule.cap / rule.points))
                )
            else:
                rule = replace(rule, points=points)
            row["reason"] = (
                f"learned: {counts}"
                if points > 0
                else f"learned: {counts}, and it adds nothing beyond the attributes (0 points)"
            )
        elif rule is not None:
            row["reason"] = (
                f"kept {rule.points:g}: too little history ({counts}; "
                f"{min_leads_each} of each are needed)"
            )
        else:
            row["reason"] = f"not added: too little history ({counts})"
        if rule is not None:
            rules.append(rule)
            row["points"] = rule.points
        else:
            row["points"] = None
        evidence.append(row)
    return rules, evidence
