"""Small synthetic lead histories for fast tests (a few hundred rows, fixed seed)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def leads(n: int = 800, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Visits and minutes raise conversion, the source matters, 10% of answers are missing,
    and ``status_after_call`` leaks the outcome (it is filled in after contact)."""
    rng = np.random.default_rng(seed)
    minutes = rng.exponential(10, n)
    source = rng.choice(["referral", "search", "ads", "social"], n, p=[0.2, 0.3, 0.3, 0.2])
    occupation = rng.choice(["working", "student", "other"], n)
    logit = (
        -1.0
        + 0.12 * minutes
        + np.select([source == "referral", source == "ads"], [1.5, -0.7], 0.0)
        + np.where(occupation == "working", 0.8, 0.0)
    )
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    X = pd.DataFrame(
        {
            "minutes": np.where(rng.random(n) < 0.1, np.nan, minutes.round(1)),
            "source": pd.Series(source, dtype=object).where(rng.random(n) > 0.1, None),
            "occupation": occupation,
            "noise": rng.normal(size=n),
            "status_after_call": np.where(
                rng.random(n) < 0.95, np.where(y == 1, "qualified", "junk"), "open"
            ),
        }
    )
    return X, y
