"""Routing MQLs to reps in bulk: selector → DataFrame → engine → set-based writes.

1. Claim the MQLs under ``SELECT … FOR UPDATE SKIP LOCKED`` (two routers never see the same
   lead; on SQLite the write transaction is serialised anyway).
2. Evaluate the ordered rules over a DataFrame (``engine/rules.py``), allocate in memory with
   weighted round-robin (``engine/allocate.py``): highest score first.
3. Write: a conditional ``UPDATE … WHERE state='mql'`` per rep, Offer rows, SLA clocks and
   timeline events in bulk; leads nobody can take go to the fallback queue with the reason.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q, Value
from django.utils import timezone

from leadpact.accounts.models import Role, Team, User
from leadpact.common.errors import ApplicationError, PermissionDeniedError
from leadpact.leads.models import Lead, LeadState, TimelineEvent
from leadpact.leads.policies import manages
from leadpact.leads.services.lifecycle import (
    BulkOffer,
    lead_assign,
    lead_offer,
    leads_offer_bulk,
    leads_unoffer_bulk,
)
from leadpact.leads.services.timeline import timeline_events_bulk
from leadpact.notifications.services import NotificationInput, notify
from leadpact.routing.engine.allocate import Allocator, Choice, RepSlot
from leadpact.routing.engine.rules import (
    ATTRIBUTE_PREFIX,
    Rule,
    first_matching_rule,
    needed_fields,
)
from leadpact.routing.models import FallbackItem, Offer, SlaClock
from leadpact.routing.roles import can_manage_routing
from leadpact.routing.services.clocks import PolicyBook
from leadpact.routing.services.offers import NewOffer, offers_create, offers_withdraw
from leadpact.routing.setup import SALES_ROLES, RoutingSetup, routing_setup

# A rep's open leads count against their cap; round-robin counts offers of the last 30 days.
OPEN_STATES = (LeadState.OFFERED, LeadState.ACCEPTED, LeadState.SQL)
ROUND_ROBIN_WINDOW = timedelta(days=30)

_COLUMNS = {
    "id": "id",
    "first_name": "first_name",
    "last_name": "last_name",
    "email": "email",
    "country": "country",
    "city": "city",
    "title": "title",
    "source_channel": "source_channel",
    "source_campaign__code": "campaign",
    "score": "score",
    "company__industry": "company.industry",
    "company__country": "company.country",
    "company__domain": "company.domain",
    "attributes": "attributes",
}


@dataclass
class RoutingResult:
    offered: dict[int, int] = field(default_factory=dict)  # lead id → rep id
    fallback: dict[int, str] = field(default_factory=dict)  # lead id → reason
    handed_over: dict[int, int] = field(default_factory=dict)  # worked lead id → new owner id

    def as_dict(self) -> dict[str, Any]:
        return {"offered": len(self.offered), "fallback": len(self.fallback)}


def rep_slots(now: datetime, setup: RoutingSetup | None = None) -> list[RepSlot]:
    """Every active salesperson with weight, cap, out-of-office (from the set-up) and current
    load (one query).

    Only sales reps take part in their team's round-robin; a manager gets leads when a rule
    names them.
    """
    people = (setup or routing_setup()).people
    ids = [p.rep_id for p in people]
    received_rows = (
        Offer.objects.filter(rep_id__in=ids, offered_at__gte=now - ROUND_ROBIN_WINDOW)
        .values("rep_id")
        .annotate(n=Count("id"), open=Value(False))
        .order_by()
        .values_list("open", "rep_id", "n")
    )
    open_rows = (
        Lead.objects.filter(owner_id__in=ids, state__in=OPEN_STATES)
        .values("owner_id")
        .annotate(n=Count("id"), open=Value(True))
        .order_by()
        .values_list("open", "owner_id", "n")
    )
    received: dict[int, int] = {}
    open_leads: dict[int, int] = {}
    for is_open, rep_id, n in received_rows.union(open_rows, all=True):  # one query
        (open_leads if is_open else received)[rep_id] = n
    slots = []
    for person in people:
        away = ""
        if person.out_of_office_until and person.out_of_office_until > now:
            away = f"out of office until {person.out_of_office_until:%Y-%m-%d %H:%M} UTC"
        slots.append(
            RepSlot(
                rep_id=person.rep_id,
                name=person.name,
                team_id=person.team_id,
                weight=person.weight,
                received=received.get(person.rep_id, 0),
                open_leads=open_leads.get(person.rep_id, 0),
                cap=person.cap,
                away=away,
            )
        )
    return slots


def _frame(rows: list[dict[str, Any]], fields: set[str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(_COLUMNS)).rename(columns=_COLUMNS)
    for name in fields:
        if name.startswith(ATTRIBUTE_PREFIX):
            key = name[len(ATTRIBUTE_PREFIX) :]
            frame[name] = [
                (a or {}).get(key) if isinstance(a, dict) else None for a in frame["attributes"]
            ]
    return frame


def _lead_name(row: Mapping[str, Any]) -> str:
    name = f"{row['first_name']} {row['last_name']}".strip()
    return name or row["email"] or f"Lead #{row['id']}"


@transaction.atomic
def leads_route(
    *,
    lead_ids: Sequence[int] | None = None,
    actor: Any = None,
    exclude: Mapping[int, set[int]] | None = None,
    now: datetime | None = None,
    include_fallback: bool = True,
    and_waiting: bool = False,
) -> RoutingResult:
    """Route MQLs (all of them, or ``lead_ids``); each is offered once or lands in fallback.

    ``exclude`` maps a lead to reps who must not get it again (they let the offer expire, or
    were deactivated). ``include_fallback=False`` leaves leads already waiting in the
    fallback queue alone (the periodic run; managers handle those). ``and_waiting``: route
    ``lead_ids`` and, in the same pass, every other MQL waiting outside the fallback queue.
    """
    now = now or timezone.now()
    exclude = exclude or {}
    waiting_in_fallback = FallbackItem.objects.filter(resolved_at__isnull=True)
    qs = Lead.objects.filter(state=LeadState.MQL, merged_into__isnull=True)
    if lead_ids is not None:
        chosen = Q(pk__in=list(lead_ids))
        if and_waiting:
            chosen |= ~Q(pk__in=waiting_in_fallback.values("lead_id"))
        qs = qs.filter(chosen)
    if not include_fallback:
        qs = qs.exclude(pk__in=waiting_in_fallback.values("lead_id"))
    # FOR NO KEY UPDATE: a duplicate pair saved at the same moment holds a key-share lock on
    # its leads, which a plain FOR UPDATE conflicts with (SKIP LOCKED would skip the lead).
    rows = list(
        qs.select_for_update(skip_locked=True, of=("self",), no_key=True)
        .annotate(in_fallback=Exists(waiting_in_fallback.filter(lead_id=OuterRef("pk"))))
        .order_by("-score", "captured_at", "id")
        .values(*_COLUMNS, "in_fallback")
    )
    result = RoutingResult()
    if not rows:
        return result
    setup = routing_setup()
    rules = setup.rules
    frame = _frame(rows, needed_fields(rules))
    matches = first_matching_rule(frame, rules)
    allocator = Allocator.of(rep_slots(now, setup))

    assignments: list[BulkOffer] = []
    new_offers: list[NewOffer] = []
    for row, match in zip(rows, matches.tolist(), strict=True):
        lead_id = row["id"]
        banned = frozenset(exclude.get(lead_id, ()))
        if match < 0:
            result.fallback[lead_id] = "no routing rule matched"
            continue
        rule = rules[match]
        if rule.team_id is not None:
            choice = allocator.to_team(rule.team_id, setup.teams.get(rule.team_id, "?"), banned)
        else:
            choice = allocator.to_rep(rule.rep_id or 0, banned)
        if choice.rep_id is None:
            result.fallback[lead_id] = f"rule “{rule.name}”: {choice.explanation}"
            continue
        result.offered[lead_id] = choice.rep_id
        why = f"rule “{rule.name}” fired ({_describe(rule)}); {choice.explanation}"
        rep = allocator.reps[choice.rep_id]
        assignments.append(
            BulkOffer(
                lead_id=lead_id,
                rep_id=choice.rep_id,
                rep_name=rep.name,
                reason=why,
                rule=rule.name,
                data={"rule_id": rule.id, "team": rule.team_id, "routed": True},
            )
        )
        new_offers.append(
            NewOffer(
                lead_id=lead_id,
                rep_id=choice.rep_id,
                team_id=rule.team_id or rep.team_id,
                rule_id=rule.id,
                rule_name=rule.name,
                explanation=why,
            )
        )
    leads_offer_bulk(assignments, actor=actor, now=now)
    names = {row["id"]: _lead_name(row) for row in rows}
    offers_create(new_offers, now=now, book=PolicyBook(setup), lead_names=names)
    resolved = [row["id"] for row in rows if row["in_fallback"] and row["id"] in result.offered]
    if resolved:
        FallbackItem.objects.filter(lead_id__in=resolved, resolved_at__isnull=True).update(
            resolved_at=now
        )
    _to_fallback(result.fallback, actor=actor, now=now)
    return result


def _describe(rule: Rule) -> str:
    if not rule.conditions:
        return "no conditions: catch-all"
    return " and ".join(c.describe() for c in rule.conditions)


def _to_fallback(reasons: Mapping[int, str], *, actor: Any, now: datetime) -> None:
    """Park unroutable leads in the fallback queue, once each, with the reason on the timeline.

    Managers hear about new arrivals in one notification per run.
    """
    if not reasons:
        return
    waiting = dict(
        FallbackItem.objects.filter(
            lead_id__in=list(reasons), resolved_at__isnull=True
        ).values_list("lead_id", "reason")
    )
    new = {lead_id: why for lead_id, why in reasons.items() if lead_id not in waiting}
    changed = [
        lead_id
        for lead_id, why in reasons.items()
        if lead_id in waiting and waiting[lead_id] != why
    ]
    FallbackItem.objects.bulk_create(
        [FallbackItem(lead_id=lead_id, reason=why[:300]) for lead_id, why in new.items()],
        batch_size=2000,
        ignore_conflicts=True,
    )
    for lead_id in changed:  # rare: the reason changed since the last run
        FallbackItem.objects.filter(lead_id=lead_id, resolved_at__isnull=True).update(
            reason=reasons[lead_id][:300]
        )
    timeline_events_bulk(
        {
            "lead_id": lead_id,
            "kind": TimelineEvent.Kind.ROUTING,
            "summary": f"Routing: {why} → fallback queue",
            "actor": actor,
            "occurred_at": now,
            "data": {"routing": "fallback", "reason": why},
        }
        for lead_id, why in new.items()
    )
    if new:
        managers = User.objects.filter(is_active=True, role=Role.SALES_MANAGER).values_list(
            "pk", flat=True
        )
        notify(
            [
                NotificationInput(
                    user_id=pk,
                    kind="fallback",
                    title=f"{len(new)} lead(s) could not be routed and wait in the fallback queue",
                    url="/routing/fallback/",
                )
                for pk in managers
            ],
            email=False,
        )


@transaction.atomic
def lead_reassign(*, lead: Lead, rep: User, actor: User, reason: str = "") -> Lead:
    """A manager hands a lead to ``rep`` by hand: offered leads are re-offered, worked leads
    change owner; a waiting fallback item is resolved."""
    _ensure_may_assign(actor, rep)
    why = f"assigned by hand by {actor}" + (f": {reason.strip()}" if reason.strip() else "")
    current = Lead.objects.get(pk=lead.pk)
    if current.state in (LeadState.MQL, LeadState.OFFERED):
        result = lead_offer(lead=current, rep=rep, actor=actor, reason=why)
    elif current.state in (LeadState.ACCEPTED, LeadState.SQL, LeadState.OPPORTUNITY):
        result = lead_assign(lead=current, owner=rep, actor=actor)
    else:
        raise ApplicationError(
            f"A lead that is {current.get_state_display().lower()} is not assigned to sales."
        )
    FallbackItem.objects.filter(lead_id=lead.pk, resolved_at__isnull=True).update(
        resolved_at=timezone.now()
    )
    return result


def _ensure_may_assign(actor: User, rep: User) -> None:
    if not can_manage_routing(actor):
        raise PermissionDeniedError("Only an admin or a sales manager assigns leads by hand.")
    if not rep.is_active or rep.role not in SALES_ROLES:
        raise ApplicationError(f"{rep} is not an active salesperson.")
    if actor.role == Role.SALES_MANAGER and rep.pk != actor.pk and not manages(actor, rep):
        raise PermissionDeniedError(f"{rep} is not in a team you manage.")


@transaction.atomic
def leads_assign_bulk(*, lead_ids: Sequence[int], rep: User, actor: User) -> int:
    """The fallback queue's bulk assign: MQLs → ``rep`` in set-based writes."""
    _ensure_may_assign(actor, rep)
    now = timezone.now()
    ids = list(
        Lead.objects.filter(pk__in=list(lead_ids), state=LeadState.MQL)
        .select_for_update(of=("self",))
        .values_list("pk", flat=True)
    )
    missing = len(set(lead_ids)) - len(ids)
    if missing:
        raise ApplicationError(
            f"{missing} of the chosen leads are no longer waiting to be routed; reload the page."
        )
    why = f"assigned by hand by {actor} from the fallback queue"
    leads_offer_bulk(
        [BulkOffer(pk, rep.pk, str(rep), why, data={"manual": True}) for pk in ids],
        actor=actor,
        now=now,
    )
    names = dict(Lead.objects.filter(pk__in=ids).values_list("pk", "last_name"))
    offers_create(
        [NewOffer(pk, rep.pk, rep.team_id, explanation=why) for pk in ids],
        now=now,
        lead_names={pk: name or f"lead #{pk}" for pk, name in names.items()},
    )
    FallbackItem.objects.filter(lead_id__in=ids, resolved_at__isnull=True).update(resolved_at=now)
    return len(ids)


@transaction.atomic
def rep_offers_reroute(*, rep: User, actor: Any = None) -> RoutingResult:
    """A rep leaves (deactivated): nothing they held is left with nobody.

    Their pending offers are withdrawn and routed again (never back to them); the leads they
    were working (accepted, SQL, opportunity) go to the next rep of their team by the same
    weighted round-robin, else to the team's manager, with the reason on each timeline; their
    open SLA clocks follow the lead to its new owner.
    ``accounts.services.user_deactivate`` must call this after it deactivates a salesperson.
    """
    now = timezone.now()
    lead_ids = list(
        Offer.objects.filter(rep=rep, status=Offer.Status.PENDING).values_list("lead_id", flat=True)
    )
    result = RoutingResult()
    if lead_ids:
        offers_withdraw(lead_ids=lead_ids, actor=actor, now=now)
        back = leads_unoffer_bulk(
            lead_ids, actor=actor, reason=f"{rep} is no longer active", now=now
        )
        result = leads_route(
            lead_ids=back, actor=actor, exclude={pk: {rep.pk} for pk in back}, now=now
        )
    result.handed_over = _worked_leads_hand_over(rep=rep, actor=actor, now=now)
    return result


WORKED_STATES = (LeadState.ACCEPTED, LeadState.SQL, LeadState.OPPORTUNITY)


def _worked_leads_hand_over(*, rep: User, actor: Any, now: datetime) -> dict[int, int]:
    """The leads ``rep`` was working → the next available rep of the team (or its manager)."""
    leads = list(
        Lead.objects.filter(owner=rep, state__in=WORKED_STATES)
        .select_for_update(of=("self",))
        .order_by("-score", "id")
    )
    if not leads:
        return {}
    team = Team.objects.select_related("manager").filter(pk=rep.team_id).first()
    manager = team.manager if team is not None else None
    if manager is not None and (not manager.is_active or manager.pk == rep.pk):
        manager = None
    allocator = Allocator.of(rep_slots(now))
    people = {u.pk: u for u in User.objects.filter(pk__in=list(allocator.reps))}
    moved: dict[int, int] = {}
    events = []
    for lead in leads:
        if team is not None:
            choice = allocator.to_team(team.pk, team.name, frozenset({rep.pk}))
        else:
            choice = Choice(None, f"{rep} belongs to no team")
        new = people.get(choice.rep_id) if choice.rep_id is not None else manager
        if new is None:
            why = f"{rep} is no longer active and nobody can take the lead over: "
            events.append(_handover_event(lead.pk, actor, now, why + choice.explanation))
            continue
        lead_assign(lead=lead, owner=new, actor=actor)
        how = choice.explanation if choice.rep_id is not None else "their manager takes it over"
        events.append(
            _handover_event(
                lead.pk, actor, now, f"{rep} is no longer active: handed over to {new} ({how})"
            )
        )
        moved[lead.pk] = new.pk
    by_owner: dict[int, list[int]] = {}
    for lead_id, owner_id in moved.items():
        by_owner.setdefault(owner_id, []).append(lead_id)
    for owner_id, ids in by_owner.items():
        SlaClock.objects.filter(
            lead_id__in=ids, rep=rep, status__in=[SlaClock.Status.RUNNING, SlaClock.Status.PAUSED]
        ).update(rep_id=owner_id)
    timeline_events_bulk(events)
    return moved


def _handover_event(lead_id: int, actor: Any, now: datetime, summary: str) -> dict[str, Any]:
    return {
        "lead_id": lead_id,
        "kind": TimelineEvent.Kind.ROUTING,
        "summary": f"Routing: {summary}",
        "actor": actor,
        "occurred_at": now,
        "data": {"routing": "handover"},
    }
