"""SLA policies and business calendars, with an audit trail of every policy change."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction

from leadpact.accounts.models import Team
from leadpact.common.errors import ApplicationError, PermissionDeniedError
from leadpact.routing.business_time import CalendarError
from leadpact.routing.models import (
    BusinessCalendar,
    RoutingChange,
    SlaPolicy,
)
from leadpact.routing.roles import can_manage_routing
from leadpact.routing.services.audit import field_changes, routing_change_log, snapshot

POLICY = RoutingChange.Subject.POLICY
CREATED, UPDATED = RoutingChange.Action.CREATED, RoutingChange.Action.UPDATED
AUDITED = (
    "name",
    "kind",
    "team",
    "calendar",
    "amount",
    "warn_before_minutes",
    "escalation",
    "is_active",
)


def _ensure_manager(actor: Any) -> None:
    if not can_manage_routing(actor):
        raise PermissionDeniedError("Only an admin or a sales manager changes SLA policies.")


def _validate(values: dict[str, Any]) -> dict[str, Any]:
    name = str(values.get("name") or "").strip()
    if not name or len(name) > 120:
        raise ApplicationError(
            "Give the policy a name of at most 120 characters.", extra={"field": "name"}
        )
    if values.get("kind") not in SlaPolicy.Kind.values:
        raise ApplicationError(
            f"Kind must be one of {', '.join(SlaPolicy.Kind.values)}.", extra={"field": "kind"}
        )
    if values.get("escalation", SlaPolicy.Escalation.NOTIFY_MANAGER) not in (
        SlaPolicy.Escalation.values
    ):
        raise ApplicationError(
            f"Escalation must be one of {', '.join(SlaPolicy.Escalation.values)}.",
            extra={"field": "escalation"},
        )
    amount = values.get("amount")
    if not isinstance(amount, int) or isinstance(amount, bool) or not 1 <= amount <= 10_000:
        raise ApplicationError(
            "Amount is a whole number from 1 to 10000.", extra={"field": "amount"}
        )
    warn = values.get("warn_before_minutes", 60)
    if not isinstance(warn, int) or isinstance(warn, bool) or not 0 <= warn <= 100_000:
        raise ApplicationError(
            "The warning lead time is a whole number of minutes (0 or more).",
            extra={"field": "warn_before_minutes"},
        )
    team = values.get("team")
    if team is not None and team.kind != Team.Kind.SALES:
        raise ApplicationError(f"{team} is not a sales team.", extra={"field": "team"})
    return values | {"name": name, "warn_before_minutes": warn}


@transaction.atomic
def policy_create(*, actor: Any, **values: Any) -> SlaPolicy:
    _ensure_manager(actor)
    clean = _validate(values)
    policy = SlaPolicy.objects.create(**{k: v for k, v in clean.items() if k in AUDITED})
    routing_change_log(subject=POLICY, row=policy, action=CREATED, actor=actor, fields=AUDITED)
    return policy


@transaction.atomic
def policy_update(*, policy: SlaPolicy, actor: Any, **values: Any) -> SlaPolicy:
    """Change a policy; the audit trail records each changed field as [old, new].

    Running clocks keep the deadline they were started with: a policy change applies to the
    hand-offs that follow it.
    """
    _ensure_manager(actor)
    current = SlaPolicy.objects.select_for_update().get(pk=policy.pk)
    before = snapshot(current, AUDITED)
    clean = _validate({f: getattr(current, f) for f in AUDITED} | values)
    for field in AUDITED:
        setattr(current, field, clean[field])
    if field_changes(before, snapshot(current, AUDITED) or {}):
        current.save()
        routing_change_log(
            subject=POLICY, row=current, action=UPDATED, actor=actor, before=before, fields=AUDITED
        )
    return current


CALENDAR_AUDITED = (
    "name",
    "team",
    "time_zone",
    "hours",
    "holiday_country",
    "holiday_subdivision",
    "closed_dates",
)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _hours_clean(hours: dict[str, list[str]] | None) -> dict[str, list[str]]:
    """Weekday → periods, in weekday order, closed days left out.

    ``None`` keeps the default week (Monday-Friday 9-17); a week given with no working period
    at all is refused: deadlines on such a calendar could never fall.
    """
    if hours is None:
        return {}
    clean: dict[str, list[str]] = {}
    for day, periods in hours.items():
        key = str(day).strip().lower()[:3]
        if key not in WEEKDAYS:
            raise ApplicationError(
                f"{day!r} is not a weekday (mon … sun).", extra={"field": "hours"}
            )
        listed = [str(p).strip() for p in periods or [] if str(p).strip()]
        if listed:
            clean[key] = clean.get(key, []) + listed
    if not clean:
        raise ApplicationError(
            "A calendar needs at least one working period in the week: with no working hours "
            "no SLA deadline could ever fall. Give at least one day hours like 09:00-17:00.",
            code="no_working_hours",
            extra={"field": "hours"},
        )
    return {day: clean[day] for day in WEEKDAYS if day in clean}


@transaction.atomic
def calendar_save(
    *,
    actor: Any,
    name: str,
    time_zone: str = "UTC",
    hours: dict[str, list[str]] | None = None,
    holiday_country: str = "",
    holiday_subdivision: str = "",
    closed_dates: list[str] | None = None,
    team: Team | None = None,
    calendar: BusinessCalendar | None = None,
) -> BusinessCalendar:
    """Create or change a business calendar; it must be usable before it is saved.

    Every change is recorded (field: [old, new]) in the set-up's audit trail, as SLA policy
    changes are: a calendar moves the deadline of every clock counted in it. Running clocks
    keep the deadline they have; clocks started (or resumed) afterwards use the new calendar.
    """
    _ensure_manager(actor)
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ApplicationError(
            "Give the calendar a name of at most 100 characters.", extra={"field": "name"}
        )
    try:
        dates = sorted({date.fromisoformat(str(d).strip()).isoformat() for d in closed_dates or []})
    except ValueError:
        raise ApplicationError(
            "Closed dates are ISO dates like 2026-12-24.", extra={"field": "closed_dates"}
        ) from None
    row = (
        BusinessCalendar.objects.select_for_update().get(pk=calendar.pk)
        if calendar is not None
        else BusinessCalendar()
    )
    before = snapshot(row, CALENDAR_AUDITED) if calendar is not None else None
    row.name, row.time_zone, row.hours = name, time_zone.strip(), _hours_clean(hours)
    row.holiday_country = holiday_country.strip().upper()
    row.holiday_subdivision = holiday_subdivision.strip().upper()
    row.closed_dates, row.team = dates, team
    try:
        row.to_calendar()
    except CalendarError as exc:
        raise ApplicationError(str(exc), extra={"field": "calendar"}) from None
    if BusinessCalendar.objects.filter(name__iexact=name).exclude(pk=row.pk).exists():
        raise ApplicationError(f"A calendar named {name!r} exists.", extra={"field": "name"})
    if team is not None and BusinessCalendar.objects.filter(team=team).exclude(pk=row.pk).exists():
        raise ApplicationError(f"{team} already has a calendar.", extra={"field": "team"})
    if field_changes(before, snapshot(row, CALENDAR_AUDITED) or {}):
        row.save()
        routing_change_log(
            subject=RoutingChange.Subject.CALENDAR,
            row=row,
            action=CREATED if before is None else UPDATED,
            actor=actor,
            before=before,
            fields=CALENDAR_AUDITED,
        )
    return row
