"""Drift: has the population being scored moved away from the one the scorecard learned on?

Population stability index (PSI) of the score and of each attribute between a reference and a
current sample; above 0.2 is flagged (a common rule of thumb for a shift worth a refit).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from leadpact.scoring.engine.scorecard import attribute_kind

PSI_FLAG = 0.2
EPS = 1e-4


def psi_from_shares(reference: np.ndarray, current: np.ndarray) -> float:
    r = np.maximum(reference, EPS)
    c = np.maximum(current, EPS)
    return float(np.sum((c - r) * np.log(c / r)))


def psi(reference: Any, current: Any, *, bins: int = 10) -> float:
    """PSI of one variable: quantile bands of the reference for numbers, values otherwise;
    missing is a band of its own."""
    ref, cur = pd.Series(reference), pd.Series(current)
    if attribute_kind(ref) == "numeric":
        r = pd.to_numeric(ref, errors="coerce").to_numpy(np.float64)
        c = pd.to_numeric(cur, errors="coerce").to_numpy(np.float64)
        finite = r[np.isfinite(r)]
        edges = (
            np.unique(np.quantile(finite, np.linspace(0, 1, bins + 1)[1:-1]))
            if len(finite)
            else np.empty(0)
        )

        def bands(x: np.ndarray) -> np.ndarray:
            out = np.searchsorted(edges, x, side="right")
            out[~np.isfinite(x)] = len(edges) + 1
            return out

        n = len(edges) + 2
        rs = np.bincount(bands(r), minlength=n) / max(len(r), 1)
        cs = np.bincount(bands(c), minlength=n) / max(len(c), 1)
        return psi_from_shares(rs, cs)
    rs = ref.astype(object).where(ref.notna(), "\x00missing").value_counts(normalize=True)
    cs = cur.astype(object).where(cur.notna(), "\x00missing").value_counts(normalize=True)
    index = rs.index.union(cs.index)
    return psi_from_shares(
        rs.reindex(index, fill_value=0).to_numpy(), cs.reindex(index, fill_value=0).to_numpy()
    )


def drift_report(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    *,
    reference_scores: Any,
    current_scores: Any,
    threshold: float = PSI_FLAG,
) -> dict[str, Any]:
    """PSI of the score and of each attribute both samples hold, flagged above ``threshold``."""
    score_psi = psi(np.asarray(reference_scores, float), np.asarray(current_scores, float))
    attributes = {
        name: psi(reference[name], current[name])
        for name in reference.columns
        if name in current.columns
    }
    return {
        "score": {"psi": score_psi, "flagged": score_psi > threshold},
        "attributes": {
            name: {"psi": value, "flagged": value > threshold} for name, value in attributes.items()
        },
        "flagged": [name for name, value in attributes.items() if value > threshold],
        "threshold": threshold,
    }
