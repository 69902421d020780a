"""Background jobs of the pipeline. Safe to run twice (the services claim their rows)."""

from __future__ import annotations

from celery import shared_task

from leadpact.pipeline.review_selectors import review_flows_refresh
from leadpact.pipeline.services.activities import next_steps_remind
from leadpact.pipeline.services.forecast.snapshots import (
    forecast_snapshots_score,
    forecast_snapshots_take,
)


@shared_task(name="leadpact.pipeline.next_step_reminders")
def next_step_reminders_task() -> int:
    """Every few minutes: remind owners of next steps that have come due."""
    return next_steps_remind()


@shared_task(name="leadpact.pipeline.forecast_snapshots")
def forecast_snapshots_task() -> dict[str, int]:
    """Daily (the first run of a week stands): this week's forecast per method, period and
    scope; then the error of every snapshot whose period has closed. Running it again in the
    same week writes and scores nothing new."""
    return {"taken": forecast_snapshots_take(), "scored": forecast_snapshots_score()}


@shared_task(name="leadpact.pipeline.review_flows_refresh")
def review_flows_refresh_task() -> int:
    """Every few minutes: recompute the stage conversion and days-in-stage figures of the
    reviews opened in the last day before their cache entry expires."""
    return review_flows_refresh()
