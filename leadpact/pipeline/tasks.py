"""Background jobs of the pipeline. Safe to run twice (the service claims its rows)."""

from __future__ import annotations

from celery import shared_task

from leadpact.pipeline.services.activities import next_steps_remind


@shared_task(name="leadpact.pipeline.next_step_reminders")
def next_step_reminders_task() -> int:
    """Every few minutes: remind owners of next steps that have come due."""
    return next_steps_remind()
