"""Learned inputs of the forecast: stage probabilities from history, the per-deal win model
(fitted per pipeline and kept while the closed history is unchanged) and the slip of close
dates."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from django.db.models import Count, Max
from django.utils import timezone

from leadpact.pipeline import selectors
from leadpact.pipeline.engine.slip import SlipLearner
from leadpact.pipeline.engine.stage_probability import StageProbabilityLearner
from leadpact.pipeline.engine.win_model import WinProbabilityModel
from leadpact.pipeline.models import (
    Deal,
    DealEvent,
    Pipeline,
    Stage,
)

MIN_HISTORY = 20  # closed deals through a stage before its learned rate replaces the setting
MIN_SLIP_HISTORY = 20  # won deals before the slip is called learned
DEFAULT_SLIP = 0.2


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


MIN_MODEL_ROWS = 30
# Ages (days in the stage) at which a closed deal's stay in a stage is looked at.
SNAPSHOT_AGES = (0, 7, 14, 30, 60, 90, 180)


def stage_snapshots(spells: pd.DataFrame) -> pd.DataFrame:
    """Each closed stay in a stage seen as an open deal would have been: at every age in
    ``SNAPSHOT_AGES`` it reached, "in this stage for this long so far, later won or lost".

    An open deal's age in stage is the time *so far*; a closed stay's full length would teach
    the model that long stays are lost (they are the ones that ended), which says nothing
    about a deal 10 days into its stay. A stay of 45 days gives snapshots at 0, 7, 14 and 30.
    """
    total = spells["age_in_stage_days"].to_numpy(dtype=float)
    parts = [spells.loc[total >= age].assign(age_in_stage_days=float(age)) for age in SNAPSHOT_AGES]
    return pd.concat(parts, ignore_index=True)


def win_model_fit(*, pipeline: Pipeline) -> WinProbabilityModel | None:
    """The win-probability model learned from the pipeline's closed deals (their stays in
    each open stage, seen at the ages an open deal is asked about: ``stage_snapshots``), with
    its calibration; None while the history is too thin (fewer than ``MIN_MODEL_ROWS`` stays
    in a stage, or no win or no loss yet)."""
    rows = selectors.closed_stage_spells(pipeline=pipeline)
    if len(rows) < MIN_MODEL_ROWS:
        return None
    frame = stage_snapshots(pd.DataFrame(rows))
    won = frame.pop("won").to_numpy()
    deal = frame.pop("deal").to_numpy()
    if won.all() or not won.any():
        return None
    return WinProbabilityModel(random_state=0).fit(frame, won, groups=deal)


_models: dict[int, tuple[tuple[Any, ...], WinProbabilityModel | None]] = {}
_models_lock = threading.Lock()


def win_model_for(*, pipeline: Pipeline) -> WinProbabilityModel | None:
    """``win_model_fit``, refitted only when the pipeline's closed history changed (one
    aggregate query otherwise): the forecast page and the snapshots ask for it often."""
    key = tuple(
        Deal.objects.filter(pipeline=pipeline, status__in=[Deal.Status.WON, Deal.Status.LOST])
        .aggregate(n=Count("id"), closed=Max("closed_at"), changed=Max("updated_at"))
        .values()
    )
    with _models_lock:
        cached = _models.get(pipeline.pk)
    if cached is not None and cached[0] == key:
        return cached[1]
    model = win_model_fit(pipeline=pipeline)
    with _models_lock:
        _models[pipeline.pk] = (key, model)
    return model


@dataclass
class Slip:
    probability: float
    learned: bool
    won_deals: int
    slipped: int
    mean_days_late: float | None

    @property
    def description(self) -> str:
        if self.learned:
            return (
                f"learned: {self.slipped} of {self.won_deals} won deals were won after their "
                "expected close date"
            )
        return (
            f"assumed {DEFAULT_SLIP:.0%} (only {self.won_deals} won deals so far; "
            f"{MIN_SLIP_HISTORY} needed to learn it)"
        )


def slip_learned() -> Slip:
    """The chance that a deal that will be won slips past its expected close date, learned
    from every won deal: its first expected close date (the ``from`` of its first close-date
    change on the timeline, else its close date) against the day it was won. Two queries."""
    won = pd.DataFrame.from_records(
        Deal.objects.filter(status=Deal.Status.WON, closed_at__isnull=False).values_list(
            "pk", "close_date", "closed_at"
        ),
        columns=["pk", "close_date", "closed_at"],
    )
    if won.empty:
        return Slip(DEFAULT_SLIP, False, 0, 0, None)
    changes = pd.DataFrame.from_records(
        DealEvent.objects.filter(
            kind=DealEvent.Kind.FIELD, data__field="close_date", deal__status=Deal.Status.WON
        )
        .order_by("deal_id", "occurred_at", "id")
        .values_list("deal_id", "data"),
        columns=["pk", "data"],
    )
    expected = pd.to_datetime(won["close_date"])
    if not changes.empty:
        first = changes.drop_duplicates("pk").set_index("pk")["data"].map(lambda d: d.get("from"))
        earlier = pd.to_datetime(won["pk"].map(first), errors="coerce")
        expected = earlier.fillna(expected)
    closed = pd.to_datetime(won["closed_at"], utc=True).dt.tz_convert(
        timezone.get_current_timezone()
    )
    learner = SlipLearner(prior=DEFAULT_SLIP).fit(
        expected.to_numpy(dtype="datetime64[D]"),
        closed.dt.tz_localize(None).to_numpy(dtype="datetime64[D]"),
    )
    learned = learner.n_ >= MIN_SLIP_HISTORY
    return Slip(
        probability=learner.slip_probability_ if learned else DEFAULT_SLIP,
        learned=learned,
        won_deals=learner.n_,
        slipped=learner.slipped_,
        mean_days_late=None if np.isnan(learner.mean_days_late_) else learner.mean_days_late_,
    )
