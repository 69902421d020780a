"""The weighted pipeline: each open deal counts for its amount times its win probability."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def weighted_pipeline(amounts: ArrayLike, probabilities: ArrayLike) -> float:
    a = np.asarray(amounts, dtype=np.float64)
    p = np.asarray(probabilities, dtype=np.float64)
    if a.shape != p.shape:
        raise ValueError("amounts and probabilities must have the same length")
    if p.size and (p.min() < 0 or p.max() > 1):
        raise ValueError("probabilities must lie in [0, 1]")
    return float(a @ p)
