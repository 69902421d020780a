"""Choosing the qualification threshold by the sales capacity it consumes and the revenue
it finds, rather than by a round number."""

from __future__ import annotations

from typing import Any

import numpy as np


def threshold_by_capacity(
    scores: Any,
    conversion: Any,
    *,
    weeks: float,
    capacity_per_week: float,
    deal_value: float,
    cost_per_lead: float,
) -> dict[str, Any]:
    """For every candidate threshold: leads/week reaching sales, share of conversions they
    hold, expected revenue/week (deal value * conversions - cost of working the leads).

    ``scores``: the scores of a recent sample of ``weeks`` weeks of leads; ``conversion``: each
    lead's outcome (0/1) or its predicted probability. Recommends the threshold with the
    highest expected revenue whose lead flow fits within capacity (``None`` if none does).
    """
    scores = np.asarray(scores, dtype=np.float64)
    conversion = np.asarray(conversion, dtype=np.float64)
    if scores.shape != conversion.shape or scores.ndim != 1:
        raise ValueError("scores and conversion must be 1-D arrays of the same length")
    if weeks <= 0 or capacity_per_week < 0:
        raise ValueError("weeks must be positive and capacity not negative")
    if not (np.isfinite(scores).all() and np.isfinite(conversion).all()):
        raise ValueError("scores and conversion must be finite")
    order = np.argsort(-scores, kind="stable")
    s, c = scores[order], conversion[order]
    thresholds = np.unique(s)[::-1]
    # Leads at or above each threshold: the count of sorted scores >= t.
    reach = np.searchsorted(-s, -thresholds, side="right")
    cum = np.concatenate([[0.0], np.cumsum(c)])
    conversions = cum[reach]
    total = cum[-1]
    rows = []
    for t, n, conv in zip(thresholds, reach, conversions, strict=True):
        revenue = (conv * deal_value - n * cost_per_lead) / weeks
        rows.append(
            {
                "threshold": float(t),
                "leads_per_week": float(n / weeks),
                "conversion_share": float(conv / total) if total else 0.0,
                "expected_revenue_per_week": float(revenue),
                "within_capacity": bool(n / weeks <= capacity_per_week),
            }
        )
    fitting = [r for r in rows if r["within_capacity"]]
    best = max(fitting, key=lambda r: r["expected_revenue_per_week"], default=None)
    return {"rows": rows, "recommended": best}
