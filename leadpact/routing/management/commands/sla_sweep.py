"""``leadpact sla_sweep [--loop] [--interval 60]``: run the SLA sweep (and routing of waiting
MQLs) once, or every ``--interval`` seconds in the foreground, for installations without a
Celery broker. It calls the very task Celery beat schedules."""

from __future__ import annotations

import json
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import close_old_connections

from leadpact.routing.tasks import sla_sweep_task


class Command(BaseCommand):
    help = "Run the SLA sweep once, or in a loop (--loop) when no Celery broker is configured."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--loop", action="store_true", help="Keep running.")
        parser.add_argument("--interval", type=int, default=60, help="Seconds between sweeps.")

    def handle(self, *args: Any, loop: bool, interval: int, **options: Any) -> None:
        if interval < 1 or interval > 3600:
            raise CommandError("--interval must be between 1 and 3600 seconds.")
        while True:
            started = time.monotonic()
            try:
                result = sla_sweep_task.apply(throw=True).get()
                self.stdout.write(json.dumps(result))
            except Exception as exc:  # keep the loop alive; a single run reports the failure
                if not loop:
                    raise CommandError(f"The sweep failed: {exc}") from exc
                self.stderr.write(f"sweep failed: {exc}")
            if not loop:
                return
            time.sleep(max(0.0, interval - (time.monotonic() - started)))
            close_old_connections()  # a long-running loop must not keep a dead connection
