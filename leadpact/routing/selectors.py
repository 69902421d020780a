"""Reads of the hand-off: queues, rules, policies, the fallback queue. Fixed query counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any
from zoneinfo import available_timezones

from django.db.models import QuerySet

from leadpact.accounts.models import Role, Team, User
from leadpact.routing.models import (
    BusinessCalendar,
    FallbackItem,
    Offer,
    QualificationItem,
    RejectionReason,
    RepAvailability,
    RoutingChange,
    RoutingRule,
    SlaClock,
    SlaPolicy,
)
from leadpact.routing.services.clocks import PolicyBook


def rep_queue(*, rep: Any, limit: int = 200) -> list[Offer]:
    """The leads offered to ``rep`` and waiting for an answer: best score, nearest deadline."""
    return list(
        Offer.objects.filter(rep=rep, status=Offer.Status.PENDING)
        .select_related("lead", "lead__company", "lead__source_campaign", "rule")
        .order_by("-lead__score", "expires_at", "id")[:limit]
    )


def accepted_to_qualify(*, rep: Any, limit: int = 100) -> list[Offer]:
    """Accepted leads still owned by ``rep`` and not yet qualified (the checklist is next)."""
    return list(
        Offer.objects.filter(
            rep=rep, status=Offer.Status.ACCEPTED, lead__state="accepted", lead__owner=rep
        )
        .select_related("lead")
        .order_by("-answered_at")[:limit]
    )


def rejection_reasons() -> list[RejectionReason]:
    return list(RejectionReason.objects.filter(is_active=True).order_by("position", "label"))


def qualification_items() -> list[QualificationItem]:
    return list(QualificationItem.objects.filter(is_active=True).order_by("position", "id"))


def rejection_reasons_all() -> list[RejectionReason]:
    """Active and deactivated, in the order reps see them (for the managers' page)."""
    return list(RejectionReason.objects.order_by("position", "label"))


def qualification_items_all() -> list[QualificationItem]:
    return list(QualificationItem.objects.order_by("position", "id"))


def calendar_list() -> list[BusinessCalendar]:
    return list(BusinessCalendar.objects.select_related("team").order_by("name"))


def routing_changes(*, subjects: tuple[str, ...], limit: int = 30) -> list[RoutingChange]:
    """The latest changes to rules, availability, rejection reasons or the checklist."""
    return list(RoutingChange.objects.filter(subject__in=subjects).select_related("actor")[:limit])


def calendar_changes(
    *, calendar: BusinessCalendar | None = None, limit: int = 50
) -> list[RoutingChange]:
    changes = RoutingChange.objects.filter(subject=RoutingChange.Subject.CALENDAR)
    if calendar is not None:
        changes = changes.filter(object_id=calendar.pk)
    return list(changes.select_related("actor")[:limit])


@cache
def time_zones() -> list[str]:
    return sorted(available_timezones() - {"localtime", "Factory"})


_DAY_NAMES = {
    "mon": "Monday",
    "tue": "Tuesday",
    "wed": "Wednesday",
    "thu": "Thursday",
    "fri": "Friday",
    "sat": "Saturday",
    "sun": "Sunday",
}


def calendar_form(calendar: BusinessCalendar | None, posted: Any = None) -> dict[str, Any]:
    """The calendar's values as the form shows them (what was posted, after an error)."""
    if posted is not None:
        values = {
            k: posted.get(k, "")
            for k in (
                "name",
                "time_zone",
                "holiday_country",
                "holiday_subdivision",
                "closed_dates",
                "team",
            )
        }
        days = [(d, _DAY_NAMES[d], posted.get(f"hours_{d}", "")) for d in _DAY_NAMES]
        return values | {"days": days}
    if calendar is None:
        week = {d: ["09:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")}
        return {
            "name": "",
            "time_zone": "UTC",
            "holiday_country": "",
            "holiday_subdivision": "",
            "closed_dates": "",
            "team": "",
            "days": [(d, _DAY_NAMES[d], ", ".join(week.get(d, []))) for d in _DAY_NAMES],
        }
    hours = calendar.hours or {d: ["09:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")}
    return {
        "name": calendar.name,
        "time_zone": calendar.time_zone,
        "holiday_country": calendar.holiday_country,
        "holiday_subdivision": calendar.holiday_subdivision,
        "closed_dates": "\n".join(calendar.closed_dates or []),
        "team": str(calendar.team_id or ""),
        "days": [(d, _DAY_NAMES[d], ", ".join(hours.get(d, []))) for d in _DAY_NAMES],
    }


def rule_list() -> QuerySet[RoutingRule]:
    return RoutingRule.objects.select_related("team", "rep").order_by("position", "id")


def fallback_list(*, limit: int = 200) -> list[FallbackItem]:
    return list(
        FallbackItem.objects.filter(resolved_at__isnull=True)
        .select_related("lead", "lead__company")
        .order_by("created_at", "id")[:limit]
    )


def fallback_count() -> int:
    return FallbackItem.objects.filter(resolved_at__isnull=True).count()


def policy_list() -> QuerySet[SlaPolicy]:
    return SlaPolicy.objects.select_related("team", "calendar").order_by("kind", "name")


def policy_changes(*, limit: int = 50) -> list[RoutingChange]:
    return routing_changes(subjects=(RoutingChange.Subject.POLICY,), limit=limit)


def availability_rows() -> list[tuple[User, RepAvailability | None]]:
    reps = list(
        User.objects.filter(is_active=True, role__in=[Role.SALES_REP, Role.SALES_MANAGER])
        .select_related("team", "availability")
        .order_by("team__name", "first_name", "username")
    )
    return [(rep, getattr(rep, "availability", None)) for rep in reps]


def open_clocks_attach(offers: list[Offer]) -> list[Offer]:
    """Set ``offer.clock`` to the offer's open (running or paused) clock, in one query: the
    response clock of a pending offer, the first-contact clock of an accepted one."""
    by_offer: dict[int, SlaClock] = {}
    for clock in SlaClock.objects.filter(
        offer_id__in=[o.pk for o in offers],
        status__in=[SlaClock.Status.RUNNING, SlaClock.Status.PAUSED],
        policy__kind__in=[SlaPolicy.Kind.OFFER_RESPONSE, SlaPolicy.Kind.FIRST_CONTACT],
    ).select_related("policy"):
        by_offer.setdefault(clock.offer_id, clock)
    for offer in offers:
        offer.clock = by_offer.get(offer.pk)  # type: ignore[attr-defined]
    return offers


def clocks_open_for(*, lead_ids: list[int]) -> dict[int, SlaClock]:
    """The nearest open clock per lead (one query), for deadlines shown next to leads."""
    result: dict[int, SlaClock] = {}
    for clock in (
        SlaClock.objects.filter(lead_id__in=lead_ids, status="running")
        .select_related("policy")
        .order_by("deadline_at")
    ):
        result.setdefault(clock.lead_id, clock)
    return result


# --- the SLA compliance report -----------------------------------------------------------------
_REP_FIELDS = ("rep_id", "rep__username", "rep__first_name", "rep__last_name", "rep__team_id")


@dataclass(frozen=True)
class ComplianceRows:
    """Everything the monthly compliance report needs, read in a fixed number of queries."""

    offers: list[dict[str, Any]]
    clocks: list[dict[str, Any]]
    teams: dict[int, dict[str, Any]]
    book: PolicyBook


def compliance_rows(*, start: datetime, end: datetime) -> ComplianceRows:
    """Offers made and offer/contact clocks started in ``[start, end)``; six queries in all.

    Only closed clocks (met or breached) are read: a running clock has not yet kept or broken
    its promise. Rows are plain dicts so ``routing/compliance.py`` stays free of the ORM.
    """
    offers = list(
        Offer.objects.filter(offered_at__gte=start, offered_at__lt=end)
        .order_by("offered_at", "id")
        .values(
            "id",
            "lead_id",
            "team_id",
            "status",
            "offered_at",
            "answered_at",
            "answer_business_hours",
            "reason__label",
            "lead__source_campaign_id",
            "lead__source_campaign__name",
            *_REP_FIELDS,
        )
    )
    clocks = list(
        SlaClock.objects.filter(
            started_at__gte=start,
            started_at__lt=end,
            policy__kind__in=[SlaPolicy.Kind.OFFER_RESPONSE, SlaPolicy.Kind.FIRST_CONTACT],
            status__in=[SlaClock.Status.MET, SlaClock.Status.BREACHED],
        )
        .order_by("started_at", "id")
        .values(
            "id",
            "team_id",
            "status",
            "started_at",
            "met_at",
            "business_hours",
            "policy__kind",
            *_REP_FIELDS,
        )
    )
    teams = {t["pk"]: t for t in Team.objects.values("pk", "name", "kind")}
    return ComplianceRows(offers=offers, clocks=clocks, teams=teams, book=PolicyBook())
