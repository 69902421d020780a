"""Section ``baseline``: how fast this machine and database answer the simplest things.

A yardstick for reading the other sections (and the smallest section, used by the harness's
own test): a primary-key read and a one-row insert in their own transaction, on SQLite and
on PostgreSQL.
"""

from __future__ import annotations

from typing import Any

from bench.harness import in_database, scaled
from bench.measure import percentiles, timed_ms


def run() -> dict[str, Any]:
    repeat = scaled(300, minimum=20)
    return {
        "what": "one-row insert (own transaction) and primary-key read, ms per operation",
        "sqlite": in_database("bench.baseline:measure", "sqlite", label="baseline", repeat=repeat),
        "postgresql": in_database(
            "bench.baseline:measure", "postgresql", label="baseline", repeat=repeat
        ),
    }


def measure(repeat: int) -> dict[str, Any]:
    from django.db import connection, transaction
    from django.utils import timezone

    from leadpact.campaigns.models import Campaign

    counter = iter(range(10**9))

    def insert() -> None:
        with transaction.atomic():
            Campaign.objects.create(name="baseline", code=f"baseline-{next(counter)}", channel="x")

    insert_ms = timed_ms(insert, repeat=repeat)
    first = Campaign.objects.order_by("id").values_list("id", flat=True).first()
    read_ms = timed_ms(lambda: Campaign.objects.get(pk=first), repeat=repeat)
    return {
        "vendor": connection.vendor,
        "insert_ms": percentiles(insert_ms, ndigits=3),
        "read_ms": percentiles(read_ms, ndigits=3),
        "measured_at": timezone.now().isoformat(timespec="seconds"),
    }
