"""The bridge from the database to the forecast engine: learned stage probabilities and the
period forecast (weighted pipeline and the Monte Carlo range)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from leadpact.common.errors import ApplicationError
from leadpact.pipeline import selectors
from leadpact.pipeline.engine.simulator import MonteCarloForecast
from leadpact.pipeline.engine.stage_probability import StageProbabilityLearner
from leadpact.pipeline.engine.weighted import weighted_pipeline
from leadpact.pipeline.engine.win_model import WinProbabilityModel
from leadpact.pipeline.models import Pipeline, Stage

MIN_HISTORY = 20  # closed deals through a stage before its learned rate replaces the setting
MAX_DEALS = 200_000


@dataclass
class StageRate:
    stage: Stage
    configured: float
    learned: float | None
    reached: int
    won: int


def stage_rates(*, pipeline: Pipeline) -> list[StageRate]:
    """Each stage's configured probability beside the one learned from closed deals."""
    stages = selectors.pipeline_stages(pipeline)
    _ids, reached_sets, won = selectors.stage_history(pipeline=pipeline)
    column = {s.pk: i for i, s in enumerate(stages)}
    reached = np.zeros((len(reached_sets), len(stages)), dtype=bool)
    for row, stage_ids in enumerate(reached_sets):
        for stage_id in stage_ids:
            if stage_id in column:
                reached[row, column[stage_id]] = True
    learner = StageProbabilityLearner().fit(reached, np.asarray(won, dtype=bool))
    return [
        StageRate(
            stage=s,
            configured=s.probability / 100,
            learned=None if learner.reached_[i] == 0 else float(learner.probabilities_[i]),
            reached=int(learner.reached_[i]),
            won=int(learner.won_[i]),
        )
        for i, s in enumerate(stages)
    ]


@dataclass
class Forecast:
    start: date
    end: date
    currency: str
    deals: int
    closed_won: Decimal
    weighted: float
    p10: float
    p50: float
    p90: float
    expected: float
    quota: Decimal | None
    attainment: float | None
    by_category: dict[str, float] = field(default_factory=dict)


def forecast_period(
    *,
    user: Any,
    start: date,
    end: date,
    quota: Decimal | None = None,
    currency: str | None = None,
    slip_probability: float = 0.2,
    n_trials: int = 10_000,
    random_state: int | None = 0,
) -> Forecast:
    """Revenue expected to close won in ``start``..``end`` from the open deals ``user`` sees.

    Win probability per deal: its stage's learned rate where at least ``MIN_HISTORY`` closed
    deals passed through the stage, else the configured one. Deals already won in the period
    are added to every trial. ``quota`` is compared with won + simulated revenue.
    """
    if end < start:
        raise ApplicationError("The period ends before it starts.")
    if not 0 <= slip_probability <= 1:
        raise ApplicationError("The slip probability is between 0 and 1.")
    currency = currency or next(iter(selectors.currencies_in_use(user=user)), "EUR")
    rows = list(
        selectors.forecast_deals(user=user, period_end=end, currency=currency).values_list(
            "amount", "stage_id", "stage__probability", "forecast_category", "pipeline_id"
        )[: MAX_DEALS + 1]
    )
    if len(rows) > MAX_DEALS:
        raise ApplicationError(f"More than {MAX_DEALS} open deals: narrow the forecast.")
    learned: dict[int, float] = {}
    for pipeline in Pipeline.objects.filter(pk__in={r[4] for r in rows}):
        for rate in stage_rates(pipeline=pipeline):
            if rate.learned is not None and rate.reached >= MIN_HISTORY:
                learned[rate.stage.pk] = rate.learned
    amounts = np.array([float(r[0]) for r in rows], dtype=np.float64)
    probs = np.array([learned.get(r[1], r[2] / 100) for r in rows], dtype=np.float64)
    won = selectors.won_in_period(user=user, start=start, end=end, currency=currency)
    sim = MonteCarloForecast(n_trials=n_trials, random_state=random_state)
    sim.fit(amounts, probs, slip_probability)
    p10, p50, p90 = (float(v) + float(won) for v in sim.percentiles([10, 50, 90]))
    attainment = None
    if quota is not None:
        attainment = sim.attainment_probability(float(quota) - float(won))
    categories: dict[str, float] = {}
    for amount, _stage, _probability, category, _pipeline in rows:
        categories[category] = categories.get(category, 0.0) + float(amount)
    return Forecast(
        start=start,
        end=end,
        currency=currency,
        deals=len(rows),
        closed_won=won,
        weighted=float(won) + weighted_pipeline(amounts, probs * (1 - slip_probability)),
        p10=p10,
        p50=p50,
        p90=p90,
        expected=float(won) + sim.expected_revenue_,
        quota=quota,
        attainment=attainment,
        by_category=categories,
    )


MIN_MODEL_ROWS = 30


def win_model_fit(*, pipeline: Pipeline) -> WinProbabilityModel | None:
    """The win-probability model learned from the pipeline's closed deals, with its
    calibration; None while the history is too thin (fewer than ``MIN_MODEL_ROWS`` stage
    snapshots, or no win or no loss yet)."""
    rows = selectors.closed_stage_spells(pipeline=pipeline)
    if len(rows) < MIN_MODEL_ROWS:
        return None
    frame = pd.DataFrame(rows)
    won = frame.pop("won").to_numpy()
    if won.all() or not won.any():
        return None
    return WinProbabilityModel(random_state=0).fit(frame, won)
