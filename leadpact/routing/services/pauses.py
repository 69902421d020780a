"""Pausing and resuming an SLA clock.

A rep waiting on the prospect ("call me after the 15th") or their manager pauses the
acceptance or first-contact clock with a reason. The business time left is kept; on resume
the deadline (and the warning) are computed again from it in business time on the clock's
calendar, so a pause that spans a weekend, a holiday or a change of the clocks costs nobody
anything. The sweep only acts on running clocks, so a paused clock neither warns nor breaches.

A rep who is out of office needs no pause: the router offers them nothing new while they are
away, and what they already hold runs and escalates as the SLA policy says.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from leadpact.accounts.models import Role
from leadpact.accounts.roles import has_role
from leadpact.common.errors import ApplicationError, ConflictError, PermissionDeniedError
from leadpact.leads.models import TimelineEvent
from leadpact.leads.policies import manages
from leadpact.leads.services.timeline import timeline_event
from leadpact.routing.models import Offer, SlaClock, SlaPolicy
from leadpact.routing.services.clocks import ElapsedCounter

PAUSABLE = (SlaPolicy.Kind.OFFER_RESPONSE, SlaPolicy.Kind.FIRST_CONTACT)
REASON_MAX = 300


def can_pause(actor: Any, clock: SlaClock) -> bool:
    """The clock's rep, a manager of that rep, or an admin."""
    if has_role(actor, Role.ADMIN):
        return True
    if (
        clock.rep_id is not None
        and has_role(actor, Role.SALES_REP, Role.SALES_MANAGER)
        and actor.pk == clock.rep_id
    ):
        return True
    return manages(actor, clock.rep)


def _hours(duration: timedelta) -> str:
    return f"{duration / timedelta(hours=1):.1f}"


def _locked(clock: SlaClock, actor: Any) -> SlaClock:
    current = (
        SlaClock.objects.select_for_update(of=("self",))
        .select_related("policy", "rep", "lead")
        .get(pk=clock.pk)
    )
    if not can_pause(actor, current):
        raise PermissionDeniedError(
            "Only the rep of this clock, their manager or an admin pauses or resumes it."
        )
    if current.policy.kind not in PAUSABLE:
        raise ApplicationError(
            "Only acceptance and first-contact clocks can be paused; "
            f"“{current.policy.name}” is a {current.policy.get_kind_display().lower()} promise.",
            code="not_pausable",
        )
    return current


@transaction.atomic
def clock_pause(
    *, clock: SlaClock, actor: Any, reason: str, now: datetime | None = None
) -> SlaClock:
    """Stop a running clock, keeping the business time it has left."""
    now = now or timezone.now()
    reason = " ".join(str(reason or "").split())
    if not reason:
        raise ApplicationError(
            "Say why the clock pauses (for example: waiting on the prospect until Monday).",
            code="reason_required",
            extra={"field": "reason"},
        )
    if len(reason) > REASON_MAX:
        raise ApplicationError(
            f"Keep the reason under {REASON_MAX} characters.", extra={"field": "reason"}
        )
    current = _locked(clock, actor)
    if current.status == SlaClock.Status.PAUSED:
        raise ConflictError(
            f"This clock is already paused since {current.paused_at:%Y-%m-%d %H:%M} UTC "
            f"({current.pause_reason}).",
            code="already_paused",
        )
    if current.status != SlaClock.Status.RUNNING:
        raise ConflictError(
            f"This clock is {current.get_status_display().lower()}: only a running clock can "
            "be paused.",
            code="not_running",
        )
    if current.deadline_at <= now:
        raise ConflictError(
            f"The deadline ({current.deadline_at:%Y-%m-%d %H:%M} UTC) has passed: a clock that "
            "is due cannot be paused.",
            code="overdue",
        )
    calendar = ElapsedCounter().calendar(current.policy_id, current.team_id)
    remaining = calendar.between(now, current.deadline_at)
    warn_remaining = None
    if current.warned_at is None and current.warn_at is not None:
        warn_remaining = calendar.between(now, current.warn_at)
    SlaClock.objects.filter(pk=current.pk, status=SlaClock.Status.RUNNING).update(
        status=SlaClock.Status.PAUSED,
        paused_at=now,
        pause_reason=reason,
        remaining=remaining,
        warn_remaining=warn_remaining,
    )
    if current.offer_id is not None and current.policy.kind == SlaPolicy.Kind.OFFER_RESPONSE:
        Offer.objects.filter(pk=current.offer_id, status=Offer.Status.PENDING).update(
            expires_at=None
        )
    if current.lead is not None:
        timeline_event(
            lead=current.lead,
            kind=TimelineEvent.Kind.ROUTING,
            summary=f"SLA clock paused: {current.policy.name} ({reason}); "
            f"{_hours(remaining)} business hours left",
            actor=actor,
            data={
                "clock": current.pk,
                "action": "sla_pause",
                "reason": reason,
                "remaining_hours": round(remaining / timedelta(hours=1), 4),
            },
            occurred_at=now,
        )
    current.refresh_from_db()
    return current


@transaction.atomic
def clock_resume(*, clock: SlaClock, actor: Any, now: datetime | None = None) -> SlaClock:
    """Start a paused clock again: the new deadline is the business time it had left, from now."""
    now = now or timezone.now()
    current = _locked(clock, actor)
    if current.status != SlaClock.Status.PAUSED:
        raise ConflictError(
            f"This clock is {current.get_status_display().lower()}, not paused: there is "
            "nothing to resume.",
            code="not_paused",
        )
    calendar = ElapsedCounter().calendar(current.policy_id, current.team_id)
    paused_at = current.paused_at or now
    paused_for = calendar.between(paused_at, now) if now > paused_at else timedelta(0)
    remaining = current.remaining or timedelta(0)
    deadline = calendar.add(now, remaining)
    warn_at = current.warn_at
    if current.warn_remaining is not None:
        warn_at = calendar.add(now, current.warn_remaining)
    SlaClock.objects.filter(pk=current.pk, status=SlaClock.Status.PAUSED).update(
        status=SlaClock.Status.RUNNING,
        deadline_at=deadline,
        warn_at=warn_at,
        paused_at=None,
        pause_reason="",
        remaining=None,
        warn_remaining=None,
        paused_total=(current.paused_total or timedelta(0)) + paused_for,
    )
    if current.offer_id is not None and current.policy.kind == SlaPolicy.Kind.OFFER_RESPONSE:
        Offer.objects.filter(pk=current.offer_id, status=Offer.Status.PENDING).update(
            expires_at=deadline
        )
    if current.lead is not None:
        timeline_event(
            lead=current.lead,
            kind=TimelineEvent.Kind.ROUTING,
            summary=f"SLA clock resumed: {current.policy.name}; due {deadline:%Y-%m-%d %H:%M} "
            f"UTC (paused {_hours(paused_for)} business hours)",
            actor=actor,
            data={
                "clock": current.pk,
                "action": "sla_resume",
                "deadline": deadline.isoformat(),
                "paused_hours": round(paused_for / timedelta(hours=1), 4),
            },
            occurred_at=now,
        )
    current.refresh_from_db()
    return current
