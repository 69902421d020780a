"""Backfill the stored business hours of clocks met/breached and offers answered before 0002.

Those rows were closed before the hours were stored at the moment of closing, and the
calendars valid at that moment were not recorded, so the backfill counts them on the
calendars as they are when the migration runs (the policy's calendar, else the team's, else
Monday-Friday 9-17 UTC) — the same numbers the compliance report showed until now. Every row
closed from 0002 on keeps the hours counted on the calendar of its own day.

Self-contained (historical models and the pure ``business_time`` module), batched, and safe
to run again: it only fills rows whose hours are still empty.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.db import migrations

from leadpact.routing import business_time

BATCH = 2000
DEFAULT = business_time.BusinessCalendar()


class _Calendars:
    def __init__(self, apps: Any) -> None:
        Policy = apps.get_model("routing", "SlaPolicy")
        Calendar = apps.get_model("routing", "BusinessCalendar")
        self.policies = {p.pk: p for p in Policy.objects.all().order_by("id")}
        self.rows = {c.pk: c for c in Calendar.objects.all()}
        self.by_team = {c.team_id: c.pk for c in self.rows.values() if c.team_id is not None}
        self._built: dict[int, business_time.BusinessCalendar] = {}

    def _build(self, pk: int | None) -> business_time.BusinessCalendar:
        if pk is None or pk not in self.rows:
            return DEFAULT
        if pk not in self._built:
            row = self.rows[pk]
            try:
                kwargs: dict[str, Any] = {
                    "tz": row.time_zone,
                    "country": row.holiday_country or None,
                    "subdiv": row.holiday_subdivision or None,
                    "closed_dates": frozenset(date.fromisoformat(d) for d in row.closed_dates or []),
                }
                if row.hours:
                    kwargs["hours"] = business_time.parse_hours(row.hours)
                self._built[pk] = business_time.BusinessCalendar(**kwargs)
            except (business_time.CalendarError, ValueError):
                self._built[pk] = DEFAULT
        return self._built[pk]

    def for_policy(self, policy_id: int | None, team_id: int | None) -> business_time.BusinessCalendar:
        policy = self.policies.get(policy_id) if policy_id is not None else None
        if policy is not None and policy.calendar_id is not None:
            return self._build(policy.calendar_id)
        return self._build(self.by_team.get(team_id))

    def response_policy(self, team_id: int | None) -> int | None:
        """The active offer-response policy of the team, else the company-wide one."""
        fallback = None
        for policy in self.policies.values():
            if policy.kind != "offer_response" or not policy.is_active:
                continue
            if policy.team_id is not None and policy.team_id == team_id:
                return policy.pk
            if policy.team_id is None and fallback is None:
                fallback = policy.pk
        return fallback


def _hours(calendar: business_time.BusinessCalendar, start: Any, end: Any) -> float:
    if start is None or end is None or end <= start:
        return 0.0
    return round(calendar.between(start, end) / timedelta(hours=1), 4)


def backfill(apps: Any, schema_editor: Any) -> None:
    Clock = apps.get_model("routing", "SlaClock")
    Offer = apps.get_model("routing", "Offer")
    calendars = _Calendars(apps)
    last = 0
    while True:
        rows = list(
            Clock.objects.filter(
                pk__gt=last, status__in=["met", "breached"], business_hours__isnull=True
            )
            .exclude(policy__kind="mql_delivery")
            .order_by("pk")
            .values("pk", "policy_id", "team_id", "status", "started_at", "met_at", "breached_at")[
                :BATCH
            ]
        )
        if not rows:
            break
        changed = []
        for row in rows:
            end = row["met_at"] if row["status"] == "met" else row["breached_at"]
            calendar = calendars.for_policy(row["policy_id"], row["team_id"])
            changed.append(Clock(pk=row["pk"], business_hours=_hours(calendar, row["started_at"], end)))
        Clock.objects.bulk_update(changed, ["business_hours"], batch_size=BATCH)
        last = rows[-1]["pk"]
    last = 0
    while True:
        rows = list(
            Offer.objects.filter(
                pk__gt=last,
                status__in=["accepted", "rejected"],
                answered_at__isnull=False,
                answer_business_hours__isnull=True,
            )
            .order_by("pk")
            .values("pk", "team_id", "offered_at", "answered_at")[:BATCH]
        )
        if not rows:
            break
        changed = []
        for row in rows:
            policy_id = calendars.response_policy(row["team_id"])
            calendar = calendars.for_policy(policy_id, row["team_id"])
            hours = _hours(calendar, row["offered_at"], row["answered_at"])
            changed.append(Offer(pk=row["pk"], answer_business_hours=hours))
        Offer.objects.bulk_update(changed, ["answer_business_hours"], batch_size=BATCH)
        last = rows[-1]["pk"]


class Migration(migrations.Migration):
    dependencies = [("routing", "0002_clock_pause_business_hours")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
