"""Slip learned from history: of the deals that were won, the share won after the close date
that was expected for them. The simulator then lets an open deal that would be won slip out
of the period with this probability.

A deal's expected close date is the first one on record (later revisions are themselves
slips), so a deal pushed twice and won late counts once, as slipped.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


class SlipLearner:
    """Parameters: ``prior`` (the slip assumed without history) and ``prior_strength``
    (pseudo-deals pulling a thin history toward ``prior``).

    ``fit(expected, closed)``: the expected close date and the date each won deal was won
    (anything ``numpy.datetime64`` accepts). Learned: ``n_`` (won deals), ``slipped_`` (won
    after the expected date), ``slip_probability_`` (smoothed share), ``mean_days_late_``
    (average delay of the slipped ones; NaN when none slipped).
    """

    def __init__(self, prior: float = 0.2, prior_strength: float = 10.0) -> None:
        self.prior = prior
        self.prior_strength = prior_strength

    def fit(self, expected: ArrayLike, closed: ArrayLike) -> SlipLearner:
        e = np.asarray(expected, dtype="datetime64[D]")
        c = np.asarray(closed, dtype="datetime64[D]")
        if e.shape != c.shape or e.ndim != 1:
            raise ValueError("expected and closed are 1-d and of the same length")
        if not 0 <= self.prior <= 1 or self.prior_strength < 0:
            raise ValueError("prior lies in [0, 1] and prior_strength is not negative")
        late = (c - e).astype(np.int64)
        slipped = late > 0
        self.n_ = int(e.size)
        self.slipped_ = int(slipped.sum())
        k = float(self.prior_strength)
        denominator = self.n_ + k
        self.slip_probability_ = (
            float((self.slipped_ + k * self.prior) / denominator) if denominator else self.prior
        )
        self.mean_days_late_ = float(late[slipped].mean()) if self.slipped_ else float("nan")
        return self
