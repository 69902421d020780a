"""Monte Carlo forecast of the revenue that closes in a period.

Each open deal closes won inside the period with probability ``win * (1 - slip)`` (won, and
its close date does not slip out of the period; the two are drawn independently, so their
product is one Bernoulli draw). A trial's revenue is the sum of the amounts of the deals that
close in it; the distribution over trials gives P10/P50/P90 and the chance of reaching a quota.

Speed (100,000 deals x 10,000 trials = 10⁹ draws): trials are simulated in chunks so memory
stays bounded; per chunk one raw 64-bit generator call gives one random byte per (trial, deal),
a byte comparison against the deal's threshold writes a float32 0/1 matrix in place, and one
BLAS matrix-vector product sums the amounts. Thresholds are bytes too (a uint8 against uint8
comparison is twice as fast as widening to 16 bits), so they have 1/256 resolution; they are
rounded *stochastically* per chunk (floor(256·p + U)), so every deal's expected win rate is
exactly p, not p rounded (except p in (255/256, 1), capped at 255/256). Deals with p = 1 are
added to every trial and deals with p = 0 skipped, not drawn.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numpy.typing import ArrayLike


class MonteCarloForecast:
    """Parameters: ``n_trials``; ``chunk_size`` trials per block (memory ≈ chunk_size x deals x
    5 bytes per job); ``n_jobs`` threads (numpy releases the GIL); ``random_state``.

    Learned: ``revenue_`` (one total per trial), ``expected_revenue_``, ``n_deals_``.
    """

    def __init__(
        self,
        n_trials: int = 10_000,
        chunk_size: int = 250,
        n_jobs: int = 1,
        random_state: int | None = None,
    ) -> None:
        self.n_trials = n_trials
        self.chunk_size = chunk_size
        self.n_jobs = n_jobs
        self.random_state = random_state

    def fit(
        self, amounts: ArrayLike, win_probability: ArrayLike, slip_probability: ArrayLike = 0.0
    ) -> MonteCarloForecast:
        amount = np.ascontiguousarray(amounts, dtype=np.float32)
        win = np.asarray(win_probability, dtype=np.float64)
        slip = np.broadcast_to(np.asarray(slip_probability, dtype=np.float64), win.shape)
        if amount.ndim != 1 or amount.shape != win.shape:
            raise ValueError("amounts and win_probability must be 1-d and of the same length")
        for name, arr in (("win_probability", win), ("slip_probability", slip)):
            if arr.size and (np.nanmin(arr) < 0 or np.nanmax(arr) > 1 or np.isnan(arr).any()):
                raise ValueError(f"{name} must lie in [0, 1]")
        if self.n_trials < 1 or self.chunk_size < 1 or self.n_jobs < 1:
            raise ValueError("n_trials, chunk_size and n_jobs must be positive")
        p = win * (1.0 - slip)
        certain = p >= 1.0  # always in: added to every trial, not drawn
        sure_revenue = float(amount[certain].astype(np.float64).sum())
        draw = ~certain & (p > 0.0)
        seeds = np.random.SeedSequence(self.random_state).spawn(self.n_jobs)
        bounds = np.linspace(0, self.n_trials, self.n_jobs + 1).astype(int)
        revenue = np.zeros(self.n_trials, dtype=np.float64)
        jobs = [(seeds[j], revenue[bounds[j] : bounds[j + 1]]) for j in range(self.n_jobs)]
        if draw.any():
            a, q = np.ascontiguousarray(amount[draw]), p[draw]
            if self.n_jobs == 1:
                self._simulate(a, q, *jobs[0])
            else:
                with ThreadPoolExecutor(self.n_jobs) as pool:
                    list(pool.map(lambda job: self._simulate(a, q, *job), jobs))
        self.revenue_ = revenue + sure_revenue
        self.expected_revenue_ = float(amount.astype(np.float64) @ p)
        self.n_deals_ = int(amount.size)
        return self

    def _simulate(
        self, amount: np.ndarray, p: np.ndarray, seed: np.random.SeedSequence, out: np.ndarray
    ) -> None:
        n = amount.size
        bits = np.random.SFC64(seed)
        dither = np.random.Generator(np.random.SFC64(seed.spawn(1)[0]))
        scaled = p * 256.0
        chunk = min(self.chunk_size, max(out.size, 1))
        mask = np.empty((chunk, n), dtype=np.float32)
        threshold = np.empty(n, dtype=np.uint8)
        rounded = np.empty(n, dtype=np.float64)
        words = (chunk * n + 7) // 8
        for start in range(0, out.size, chunk):
            k = min(chunk, out.size - start)
            np.add(scaled, dither.random(n), out=rounded)
            np.floor(rounded, out=rounded)
            np.minimum(rounded, 255.0, out=rounded)
            threshold[:] = rounded
            raw = bits.random_raw(words).view(np.uint8)[: k * n].reshape(k, n)
            np.less(raw, threshold, out=mask[:k], casting="unsafe")
            out[start : start + k] = mask[:k] @ amount

    def percentiles(self, q: ArrayLike = (10, 50, 90)) -> np.ndarray:
        """Revenue at these percentiles of the trials (P10 = 10% of trials did worse)."""
        return np.percentile(self.revenue_, q)

    def attainment_probability(self, quota: float) -> float:
        """Share of trials whose revenue reaches ``quota``."""
        return float(np.mean(self.revenue_ >= quota))
