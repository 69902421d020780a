"""The lead lifecycle: one service per transition, each recorded on the timeline.

new → MQL → offered → accepted (SAL) → SQL → opportunity → won / lost,
and from most states: recycled (back to marketing) or disqualified.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from leadpact.accounts.models import Role, User
from leadpact.common.errors import ApplicationError, ConflictError
from leadpact.leads.models import Lead, LeadState, TimelineEvent
from leadpact.leads.policies import LeadAction, ensure_can_act
from leadpact.leads.services.timeline import timeline_event, timeline_events_bulk
from leadpact.routing.services import offers

S = LeadState

ALLOWED: dict[str, set[str]] = {
    S.NEW: {S.MQL, S.RECYCLED, S.DISQUALIFIED},
    S.MQL: {S.OFFERED, S.RECYCLED, S.DISQUALIFIED},
    S.OFFERED: {S.OFFERED, S.ACCEPTED, S.RECYCLED, S.MQL, S.DISQUALIFIED},
    S.ACCEPTED: {S.SQL, S.RECYCLED, S.DISQUALIFIED},
    S.SQL: {S.OPPORTUNITY, S.RECYCLED, S.DISQUALIFIED},
    S.OPPORTUNITY: {S.WON, S.LOST},
    S.WON: set(),
    S.LOST: {S.RECYCLED},
    S.RECYCLED: {S.MQL, S.DISQUALIFIED},
    S.DISQUALIFIED: {S.RECYCLED},
}

SALES_ROLES = (Role.SALES_REP, Role.SALES_MANAGER)


def _locked(lead: Lead) -> Lead:
    return Lead.objects.select_for_update(of=("self",)).select_related("owner").get(pk=lead.pk)


def _transition(
    lead: Lead,
    to: str,
    *,
    actor: User | None,
    action: LeadAction,
    reason: str = "",
    note: str = "",
    data: dict[str, Any] | None = None,
    owner: User | bool | None = False,
) -> Lead:
    """Move ``lead`` to state ``to`` under a row lock. ``owner=False`` leaves the owner as is."""
    current = _locked(lead)
    ensure_can_act(actor, current, action)
    if to not in ALLOWED[current.state]:
        raise ConflictError(
            f"A lead that is {current.get_state_display().lower()} cannot become "
            f"{LeadState(to).label.lower()}."
        )
    before_state = current.state
    before_owner = current.owner
    now = timezone.now()
    current.state = to
    current.state_changed_at = now
    current.version += 1
    fields = ["state", "state_changed_at", "version", "updated_at"]
    if owner is not False:
        current.owner = owner or None
        fields.append("owner")
    current.save(update_fields=fields)
    payload = {"from": before_state, "to": to, **(data or {})}
    if reason:
        payload["reason"] = reason
    summary = f"{LeadState(before_state).label} → {LeadState(to).label}"
    if reason:
        summary += f" ({reason})"
    timeline_event(
        lead=current,
        kind=TimelineEvent.Kind.STATE_CHANGE,
        summary=summary,
        actor=actor,
        data=payload,
        body=note,
        occurred_at=now,
    )
    if owner is not False and (before_owner.pk if before_owner else None) != (
        current.owner.pk if current.owner else None
    ):
        timeline_event(
            lead=current,
            kind=TimelineEvent.Kind.OWNER_CHANGE,
            summary=_owner_summary(before_owner, current.owner),
            actor=actor,
            data={
                "from": before_owner.pk if before_owner else None,
                "to": current.owner.pk if current.owner else None,
            },
            occurred_at=now,
        )
    lead.__dict__.update({f: getattr(current, f) for f in ("state", "state_changed_at", "version")})
    lead.owner = current.owner
    return current


def _owner_summary(before: User | None, after: User | None) -> str:
    if after is None:
        return f"Unassigned from {before}" if before else "Unassigned"
    return f"Assigned to {after}" + (f" (was {before})" if before else "")


@transaction.atomic
def lead_mark_mql(*, lead: Lead, actor: User | None = None, reason: str = "") -> Lead:
    return _transition(lead, S.MQL, actor=actor, action=LeadAction.MARK_MQL, reason=reason)


def leads_mark_mql_bulk(
    lead_ids: Sequence[int],
    *,
    reason: str,
    now: datetime,
    states: Mapping[int, str] | None = None,
) -> list[int]:
    """New/recycled → MQL for many leads at once (scoring), the bulk twin of ``lead_mark_mql``.

    The system acts (no user, so no policy check): each lead is moved with a conditional
    ``UPDATE … WHERE state = <the state it was read in>``, so a lead another request moved
    meanwhile is left alone rather than overwritten. ``states``: the leads' states as the
    caller just read them (not read again; the conditional update still guards). Returns the
    ids that became MQL; the timeline gets the same state-change event as ``lead_mark_mql``.
    """
    sources = [state for state, targets in ALLOWED.items() if S.MQL in targets and state != S.MQL]
    sources = [s for s in sources if s != S.OFFERED]  # an offer is withdrawn, not re-marked
    moved: list[tuple[int, str]] = []
    ids = list(dict.fromkeys(lead_ids))
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        if states is not None:
            found = [(pk, states[pk]) for pk in chunk if states.get(pk) in sources]
        else:
            found = list(
                Lead.objects.filter(pk__in=chunk, state__in=sources).values_list("pk", "state")
            )
        by_state: dict[str, list[int]] = {}
        for pk, state in found:
            by_state.setdefault(state, []).append(pk)
        claimed = 0
        for state, pks in by_state.items():
            claimed += Lead.objects.filter(pk__in=pks, state=state).update(
                state=S.MQL, state_changed_at=now, version=F("version") + 1, updated_at=now
            )
        if claimed == len(found):  # every lead was still in the state read
            moved.extend(found)
        else:  # only the rows still in the state read were claimed; re-read which ones moved
            now_mql = set(
                Lead.objects.filter(
                    pk__in=[pk for pk, _ in found], state=S.MQL, state_changed_at=now
                ).values_list("pk", flat=True)
            )
            moved.extend((pk, state) for pk, state in found if pk in now_mql)
    after = LeadState(S.MQL).label
    timeline_events_bulk(
        {
            "lead_id": pk,
            "kind": TimelineEvent.Kind.STATE_CHANGE,
            "summary": f"{LeadState(state).label} → {after}" + (f" ({reason})" if reason else ""),
            "data": {"from": state, "to": S.MQL, **({"reason": reason} if reason else {})},
            "occurred_at": now,
        }
        for pk, state in moved
    )
    return [pk for pk, _ in moved]


@transaction.atomic
def lead_offer(
    *,
    lead: Lead,
    rep: User,
    actor: User | None = None,
    reason: str = "",
    rule: str = "",
    routing_rule: Any = None,
    team: Any = None,
) -> Lead:
    """Offer an MQL to a sales rep, who then accepts or rejects it.

    Records the Offer (withdrawing a pending one: a re-offer) and starts its SLA clock.
    ``reason`` says why this rep; ``routing_rule`` is the RoutingRule that fired, if any.
    """
    if not rep.is_active or rep.role not in SALES_ROLES:
        raise ApplicationError(f"{rep} is not an active salesperson; a lead can't be offered.")
    rule = rule or (routing_rule.name if routing_rule is not None else "")
    data: dict[str, Any] = {"rep": rep.pk}
    if rule:
        data["rule"] = rule
    current = _transition(
        lead,
        S.OFFERED,
        actor=actor,
        action=LeadAction.ASSIGN,
        reason=reason or f"offered to {rep}",
        data=data,
        owner=rep,
    )
    offers.offer_open(
        lead=current,
        rep=rep,
        actor=actor,
        rule=routing_rule,
        rule_name=rule,
        team=team,
        explanation=reason,
    )
    return current


def _ensure_offered_to(lead: Lead, actor: User | None) -> Any:
    """Check, under the lead's row lock, that ``actor`` may answer its offer; return the Offer."""
    current = Lead.objects.select_related("owner").get(pk=lead.pk)
    if current.state != S.OFFERED:
        # Tell the loser of a race who answered, not just the state.
        raise ConflictError(
            f"This lead is {current.get_state_display().lower()}, not waiting for an answer"
            f"{offers.offer_last_answer(lead_id=current.pk)}.",
            code="already_answered",
        )
    if actor is not None and actor.role == Role.SALES_REP and current.owner_id != actor.pk:
        raise ConflictError("This lead was offered to someone else.", code="not_yours")
    return offers.offer_pending_check(lead=current, actor=actor)


@transaction.atomic
def lead_accept(*, lead: Lead, actor: User | None) -> Lead:
    """The offered rep (or their manager) takes the lead into the funnel: SAL.

    Of two people accepting at the same instant exactly one wins: the lead row is locked and
    the offer is answered with a conditional update; the other gets a ConflictError.
    """
    _locked(lead)
    offer = _ensure_offered_to(lead, actor)
    current = _transition(lead, S.ACCEPTED, actor=actor, action=LeadAction.ACCEPT)
    offers.offer_settle(offer=offer, actor=actor, status="accepted")
    return current


@transaction.atomic
def lead_reject(*, lead: Lead, actor: User | None, reason: Any, note: str = "") -> Lead:
    """Sales turns the lead down with a reason; it goes back to marketing, reason visible.

    ``reason`` is a configured RejectionReason (or its code or label) or free text.
    """
    rejection, label = offers.rejection_reason_resolve(reason)
    _locked(lead)
    offer = _ensure_offered_to(lead, actor)
    data: dict[str, Any] = {"rejected": True}
    if rejection is not None:
        data["reason_code"] = rejection.code
    current = _transition(
        lead,
        S.RECYCLED,
        actor=actor,
        action=LeadAction.REJECT,
        reason=label,
        note=note,
        data=data,
        owner=None,
    )
    offers.offer_settle(
        offer=offer, actor=actor, status="rejected", reason=rejection, reason_text=note or label
    )
    return current


@dataclass(frozen=True)
class BulkOffer:
    """One lead of a bulk hand-off: to whom, by which rule, and why that rep."""

    lead_id: int
    rep_id: int
    rep_name: str
    reason: str
    rule: str = ""
    data: dict[str, Any] = field(default_factory=dict)


def leads_offer_bulk(
    assignments: Sequence[BulkOffer], *, actor: User | None, now: datetime
) -> None:
    """MQL → offered for many leads at once (routing), in a few set-based statements.

    Each lead is claimed with ``UPDATE … WHERE state = 'mql'``, so a lead is never handed out
    twice; if any lead was changed meanwhile the whole batch fails (the caller's transaction
    rolls back and nothing is half-routed). The timeline gets the same two events as
    ``lead_offer``. The caller (``routing.services.router``) writes the Offer rows.
    """
    by_rep: dict[int, list[int]] = {}
    for item in assignments:
        by_rep.setdefault(item.rep_id, []).append(item.lead_id)
    for rep_id, ids in by_rep.items():
        for start in range(0, len(ids), 5000):
            chunk = ids[start : start + 5000]
            claimed = Lead.objects.filter(pk__in=chunk, state=S.MQL).update(
                state=S.OFFERED,
                owner_id=rep_id,
                state_changed_at=now,
                version=F("version") + 1,
                updated_at=now,
            )
            if claimed != len(chunk):
                raise ConflictError("Some leads changed while they were routed; route again.")
    events: list[dict[str, Any]] = []
    before, after = LeadState(S.MQL).label, LeadState(S.OFFERED).label
    for item in assignments:
        payload = {"from": S.MQL, "to": S.OFFERED, "rep": item.rep_id, "reason": item.reason}
        if item.rule:
            payload["rule"] = item.rule
        payload.update(item.data)
        common = {"lead_id": item.lead_id, "actor": actor, "occurred_at": now}
        events.append(
            common
            | {
                "kind": TimelineEvent.Kind.STATE_CHANGE,
                "summary": f"{before} → {after} ({item.reason})",
                "data": payload,
            }
        )
        events.append(
            common
            | {
                "kind": TimelineEvent.Kind.OWNER_CHANGE,
                "summary": f"Assigned to {item.rep_name}",
                "data": {"from": None, "to": item.rep_id},
            }
        )
    timeline_events_bulk(events)


def leads_unoffer_bulk(
    lead_ids: Sequence[int], *, actor: User | None, reason: str, now: datetime
) -> list[int]:
    """Offered → MQL (owner cleared) for leads whose offer expired or whose rep left, so routing
    can offer them again. Returns the ids that were still offered."""
    ids = list(
        Lead.objects.filter(pk__in=list(lead_ids), state=S.OFFERED).values_list("pk", "owner_id")
    )
    if not ids:
        return []
    Lead.objects.filter(pk__in=[pk for pk, _ in ids], state=S.OFFERED).update(
        state=S.MQL, owner=None, state_changed_at=now, version=F("version") + 1, updated_at=now
    )
    before, after = LeadState(S.OFFERED).label, LeadState(S.MQL).label
    events: list[dict[str, Any]] = []
    for pk, owner_id in ids:
        common = {"lead_id": pk, "actor": actor, "occurred_at": now}
        events.append(
            common
            | {
                "kind": TimelineEvent.Kind.STATE_CHANGE,
                "summary": f"{before} → {after} ({reason})",
                "data": {"from": S.OFFERED, "to": S.MQL, "reason": reason},
            }
        )
        if owner_id is not None:
            events.append(
                common
                | {
                    "kind": TimelineEvent.Kind.OWNER_CHANGE,
                    "summary": "Unassigned",
                    "data": {"from": owner_id, "to": None},
                }
            )
    timeline_events_bulk(events)
    return [pk for pk, _ in ids]


@transaction.atomic
def lead_qualify(*, lead: Lead, actor: User | None, note: str = "") -> Lead:
    return _transition(lead, S.SQL, actor=actor, action=LeadAction.WORK, note=note)


@transaction.atomic
def lead_convert(*, lead: Lead, actor: User | None, note: str = "") -> Lead:
    return _transition(lead, S.OPPORTUNITY, actor=actor, action=LeadAction.WORK, note=note)


@transaction.atomic
def lead_close_won(*, lead: Lead, actor: User | None, note: str = "") -> Lead:
    return _transition(lead, S.WON, actor=actor, action=LeadAction.WORK, note=note)


def _required(reason: str, why: str) -> str:
    """The reason, trimmed; a transition that needs one refuses to happen without it."""
    text = (reason or "").strip()
    if not text:
        raise ApplicationError(f"Say why {why}.")
    return text


@transaction.atomic
def lead_close_lost(*, lead: Lead, actor: User | None, reason: str, note: str = "") -> Lead:
    reason = _required(reason, "the lead was lost")
    return _transition(lead, S.LOST, actor=actor, action=LeadAction.WORK, reason=reason, note=note)


@transaction.atomic
def lead_recycle(*, lead: Lead, actor: User | None, reason: str, note: str = "") -> Lead:
    reason = _required(reason, "the lead goes back to marketing")
    return _transition(
        lead,
        S.RECYCLED,
        actor=actor,
        action=LeadAction.RECYCLE,
        reason=reason,
        note=note,
        owner=None,
    )


@transaction.atomic
def lead_disqualify(*, lead: Lead, actor: User | None, reason: str, note: str = "") -> Lead:
    reason = _required(reason, "the lead is disqualified")
    return _transition(
        lead, S.DISQUALIFIED, actor=actor, action=LeadAction.DISQUALIFY, reason=reason, note=note
    )


@transaction.atomic
def lead_assign(*, lead: Lead, owner: User | None, actor: User | None) -> Lead:
    """Change the owner without changing the state (a manager's reassignment)."""
    current = _locked(lead)
    ensure_can_act(actor, current, LeadAction.ASSIGN)
    if owner is not None and (not owner.is_active or owner.role not in SALES_ROLES):
        raise ApplicationError(f"{owner} is not an active salesperson.")
    before = current.owner
    if (before.pk if before else None) == (owner.pk if owner else None):
        return current
    current.owner = owner
    current.version += 1
    current.save(update_fields=["owner", "version", "updated_at"])
    timeline_event(
        lead=current,
        kind=TimelineEvent.Kind.OWNER_CHANGE,
        summary=_owner_summary(before, owner),
        actor=actor,
        data={"from": before.pk if before else None, "to": owner.pk if owner else None},
    )
    lead.owner = owner
    return current
