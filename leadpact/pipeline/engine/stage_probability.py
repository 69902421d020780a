"""Stage probabilities learned from history: of the closed deals that reached a stage, the
share that was won. Shown beside the configured probabilities so the team sees where its
guesses are off."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


class StageProbabilityLearner:
    """``prior_strength`` pseudo-deals pull a stage with little history toward
    ``prior`` (the configured probability), so three deals do not make a 0% or 100% stage.

    Learned: ``reached_`` and ``won_`` (counts per stage), ``probabilities_`` (per stage, NaN
    where no closed deal reached the stage and no prior was given).
    """

    def __init__(self, prior_strength: float = 0.0) -> None:
        self.prior_strength = prior_strength

    def fit(
        self, reached: ArrayLike, won: ArrayLike, prior: ArrayLike | None = None
    ) -> StageProbabilityLearner:
        r = np.asarray(reached, dtype=bool)
        w = np.asarray(won, dtype=bool)
        if r.ndim != 2 or w.shape != (r.shape[0],):
            raise ValueError("reached is (deals, stages) and won is (deals,)")
        self.reached_ = r.sum(axis=0).astype(np.int64)
        self.won_ = (r & w[:, None]).sum(axis=0).astype(np.int64)
        k = float(self.prior_strength)
        p0 = np.zeros(r.shape[1]) if prior is None else np.asarray(prior, dtype=np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            self.probabilities_ = (self.won_ + k * p0) / (self.reached_ + k)
        return self
