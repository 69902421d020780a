"""SLA policies and business calendars, with an audit trail of every policy change."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone

from leadpact.accounts.models import Team
from leadpact.common.errors import ApplicationError, PermissionDeniedError
from leadpact.routing.business_time import CalendarError
from leadpact.routing.models import BusinessCalendar, SlaPolicy, SlaPolicyChange
from leadpact.routing.roles import can_manage_routing

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


def _shown(value: Any) -> Any:
    if hasattr(value, "pk"):
        return str(value)
    return value


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
    SlaPolicyChange.objects.create(
        policy=policy,
        actor=actor,
        changed_at=timezone.now(),
        changes={f: [None, _shown(getattr(policy, f))] for f in AUDITED},
    )
    return policy


@transaction.atomic
def policy_update(*, policy: SlaPolicy, actor: Any, **values: Any) -> SlaPolicy:
    """Change a policy; the audit trail records each changed field as [old, new].

    Running clocks keep the deadline they were started with: a policy change applies to the
    hand-offs that follow it.
    """
    _ensure_manager(actor)
    current = SlaPolicy.objects.select_for_update().get(pk=policy.pk)
    merged = {f: getattr(current, f) for f in AUDITED} | values
    clean = _validate(merged)
    changes = {}
    for field in AUDITED:
        old, new = getattr(current, field), clean[field]
        if (old.pk if hasattr(old, "pk") else old) != (new.pk if hasattr(new, "pk") else new):
            changes[field] = [_shown(old), _shown(new)]
            setattr(current, field, new)
    if changes:
        current.save()
        SlaPolicyChange.objects.create(
            policy=current, actor=actor, changed_at=timezone.now(), changes=changes
        )
    return current


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
    """Create or change a business calendar; it must be usable before it is saved."""
    _ensure_manager(actor)
    name = (name or "").strip()
    if not name:
        raise ApplicationError("Give the calendar a name.", extra={"field": "name"})
    try:
        dates = sorted({date.fromisoformat(str(d).strip()).isoformat() for d in closed_dates or []})
    except ValueError:
        raise ApplicationError(
            "Closed dates are ISO dates like 2026-12-24.", extra={"field": "closed_dates"}
        ) from None
    row = calendar or BusinessCalendar()
    row.name, row.time_zone, row.hours = name, time_zone.strip(), hours or {}
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
    row.save()
    return row
