"""Backtesting forecasts of monthly won deals on a lead funnel's history.

For each month, every method sees only what was known at the start of the month:

* ``naive``: last month's wins;
* ``trailing``: the mean of the last three months' wins;
* ``weighted``: open leads x the learned chance that a lead of their age (months since first
  contact) is won in the coming month (a discrete-time hazard learned from earlier months
  only), plus the leads expected to arrive x the same-month win rate;
* ``monte_carlo``: the P50 of the simulator over the same per-lead probabilities.

Errors are WAPE (sum of absolute errors over the sum of actuals), which unlike MAPE does not
explode on a month with few wins.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadpact.pipeline.engine.simulator import MonteCarloForecast

METHODS = ("naive", "trailing", "weighted", "monte_carlo")


class FunnelBacktest:
    """Parameters: the months to forecast (``start``..``end``), ``max_age`` (months; older
    leads share one pooled hazard), ``window`` (learn the hazard from only the last ``window``
    months: a ramping sales team converts faster each month), ``n_trials`` and
    ``random_state`` of the simulator.

    ``fit(contacted, won, cohort_end=None)``: ``contacted`` the first-contact dates of every
    lead, ``won`` the won date or NaT. ``cohort_end``: the last day leads enter the data (for a
    closed cohort, no arrivals are expected after it). Learned: ``results_`` (one row per month:
    actual and each method's forecast), ``wape_`` (per method).
    """

    def __init__(
        self,
        start: str,
        end: str,
        max_age: int = 6,
        window: int | None = 1,
        n_trials: int = 2000,
        random_state: int | None = 0,
    ) -> None:
        self.start = start
        self.end = end
        self.max_age = max_age
        self.window = window
        self.n_trials = n_trials
        self.random_state = random_state

    def fit(
        self, contacted: pd.Series, won: pd.Series, cohort_end: pd.Timestamp | None = None
    ) -> FunnelBacktest:
        c = pd.to_datetime(contacted).dt.to_period("M")
        w = pd.to_datetime(won).dt.to_period("M")
        first = c.min()
        last = max(w.max(), pd.Period(self.end, "M"))
        n_months = (last - first).n + 1
        ci = (c - first).map(lambda d: d.n).to_numpy()
        wi = np.full(len(w), -1)
        known = w.notna().to_numpy()
        wi[known] = (w[known] - first).map(lambda d: d.n).to_numpy()
        # A deal won before its recorded first contact is counted in the contact month.
        wi[known] = np.maximum(wi[known], ci[known])
        size = np.bincount(ci, minlength=n_months)  # leads per contact month
        wins = np.zeros((n_months, n_months))  # [cohort, month won]
        np.add.at(wins, (ci[known], wi[known]), 1)
        survivors = size[:, None] - np.cumsum(wins, axis=1) + wins  # open at the month's start
        cohort_last = None if cohort_end is None else (pd.Period(cohort_end, "M") - first).n
        monthly_wins = wins.sum(axis=0)
        rows = []
        months = pd.period_range(self.start, self.end, freq="M")
        for month in months:
            m = (month - first).n
            hazard = self._hazard(wins, survivors, size, m)
            cohorts = np.arange(m)
            open_now = survivors[cohorts, m].astype(int)
            ages = np.minimum(m - cohorts, self.max_age)
            arrivals = 0 if cohort_last is not None and m > cohort_last else size[m - 1]
            p = np.repeat(hazard[ages], open_now)
            p = np.concatenate([p, np.full(int(arrivals), hazard[0])])
            sim = MonteCarloForecast(n_trials=self.n_trials, random_state=self.random_state)
            sim.fit(np.ones(p.size), p)
            rows.append(
                {
                    "month": str(month),
                    "actual": float(monthly_wins[m]),
                    "naive": float(monthly_wins[m - 1]),
                    "trailing": float(monthly_wins[max(0, m - 3) : m].mean()),
                    "weighted": float(p.sum()),
                    "monte_carlo": float(sim.percentiles([50])[0]),
                    "open_leads": int(open_now.sum()),
                }
            )
        self.results_ = pd.DataFrame(rows)
        total = self.results_["actual"].sum()
        self.wape_ = {
            method: float((self.results_[method] - self.results_["actual"]).abs().sum() / total)
            for method in METHODS
        }
        return self

    def _hazard(
        self, wins: np.ndarray, survivors: np.ndarray, size: np.ndarray, m: int
    ) -> np.ndarray:
        """P(won in a month | open at its start), by age, from months before ``m`` only.

        Age 0 is the contact month itself: wins in it over the leads that arrived in it.
        """
        won_by_age = np.zeros(self.max_age + 1)
        at_risk = np.zeros(self.max_age + 1)
        cohort, month = np.nonzero(np.tri(m, m, dtype=bool).T)  # cohort <= month < m
        age = np.minimum(month - cohort, self.max_age)
        if self.window is not None:  # the funnel's conversion drifts: learn from recent months
            recent = month >= m - self.window
            cohort, month, age = cohort[recent], month[recent], age[recent]
        np.add.at(won_by_age, age, wins[cohort, month])
        np.add.at(at_risk, age, np.where(age == 0, size[cohort], survivors[cohort, month]))
        with np.errstate(invalid="ignore", divide="ignore"):
            hazard = won_by_age / at_risk
        # An age not seen yet borrows the nearest younger age's rate (else 0).
        hazard = pd.Series(hazard).ffill().fillna(0.0).to_numpy()
        return np.clip(hazard, 0.0, 1.0)
