"""``leadpact serve``: the development server plus the in-process periodic jobs.

What ``make run`` starts. Without ``CELERY_BROKER_URL`` the beat schedule (SLA sweep, routing
of waiting MQLs, …) runs in a thread of this process, so no extra process is needed; with a
broker, run ``celery -A config worker`` and ``celery -A config beat`` beside it instead.
"""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from leadpact.common.scheduler import start_in_process_scheduler


class Command(BaseCommand):
    help = "Serve leadpact (development server) with the periodic jobs running in-process."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")

    def handle(self, *args: Any, **options: Any) -> None:
        scheduler = start_in_process_scheduler()
        if scheduler is not None:
            names = ", ".join(job.name for job in scheduler.jobs)
            self.stdout.write(f"Periodic jobs run in this process: {names}")
        call_command("runserver", options["addrport"], use_reloader=False, use_threading=True)
