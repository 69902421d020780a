"""Periodic jobs without a broker: the beat schedule, run by a thread inside the web process.

With ``CELERY_BROKER_URL`` set, ``celery beat`` reads ``CELERY_BEAT_SCHEDULE`` and workers run
the tasks. Without one, ``leadpact serve`` starts this thread, which runs the *same* tasks on
the same schedule in-process. Every periodic task claims its rows, so two runners (two web
processes, or a thread and a worker) never act twice.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from celery import current_app
from django.conf import settings
from django.db import close_old_connections

logger = logging.getLogger(__name__)


@dataclass
class PeriodicJob:
    name: str
    task: str
    every: float
    due: float = 0.0


def periodic_jobs() -> list[PeriodicJob]:
    """The numeric-interval entries of ``CELERY_BEAT_SCHEDULE`` (crontab entries need beat).

    Loads every app's ``tasks`` module first, as a Celery worker does at start: a web process
    has not imported them all."""
    current_app.loader.import_default_modules()
    jobs = []
    for name, entry in getattr(settings, "CELERY_BEAT_SCHEDULE", {}).items():
        schedule = entry.get("schedule")
        if isinstance(schedule, int | float) and schedule > 0:
            jobs.append(PeriodicJob(name=name, task=entry["task"], every=float(schedule)))
        else:
            logger.warning("periodic job %s has no fixed interval; it runs only under beat", name)
    return jobs


def run_due(jobs: list[PeriodicJob], now: float) -> list[str]:
    """Run every job whose time has come; returns the names run."""
    ran = []
    for job in jobs:
        if now < job.due:
            continue
        job.due = now + job.every
        try:
            current_app.tasks[job.task].apply(throw=True)
            ran.append(job.name)
        except Exception:
            logger.exception("periodic job %s failed", job.name)
    return ran


class Scheduler(threading.Thread):
    def __init__(self, jobs: list[PeriodicJob], *, tick: float = 1.0) -> None:
        super().__init__(name="leadpact-scheduler", daemon=True)
        self.jobs = jobs
        self.tick = tick
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            close_old_connections()
            run_due(self.jobs, time.monotonic())
            close_old_connections()
            self.stopped.wait(self.tick)

    def stop(self) -> None:
        self.stopped.set()


def start_in_process_scheduler() -> Scheduler | None:
    """Start the thread unless a broker is configured (then beat does the work)."""
    if settings.CELERY_BROKER_URL:
        return None
    jobs = periodic_jobs()
    if not jobs:
        return None
    scheduler = Scheduler(jobs)
    scheduler.start()
    return scheduler
