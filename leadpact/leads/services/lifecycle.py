"""The lead lifecycle: one service per transition, each recorded on the timeline.

new → MQL → offered → accepted (SAL) → SQL → opportunity → won / lost,
and from most states: recycled (back to marketing) or disqualified.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from leadpact.accounts.models import Role, User
from leadpact.common.errors import ApplicationError, ConflictError
from leadpact.leads.models import Lead, LeadState, TimelineEvent
from leadpact.leads.policies import LeadAction, ensure_can_act
from leadpact.leads.services.timeline import timeline_event

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
    return Lead.objects.select_for_update().select_related("owner").get(pk=lead.pk)


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


@transaction.atomic
def lead_offer(
    *, lead: Lead, rep: User, actor: User | None = None, reason: str = "", rule: str = ""
) -> Lead:
    """Offer an MQL to a sales rep, who then accepts or rejects it."""
    if not rep.is_active or rep.role not in SALES_ROLES:
        raise ApplicationError(f"{rep} is not an active salesperson; a lead can't be offered.")
    data = {"rep": rep.pk}
    if rule:
        data["rule"] = rule
    return _transition(
        lead,
        S.OFFERED,
        actor=actor,
        action=LeadAction.ASSIGN,
        reason=reason or f"offered to {rep}",
        data=data,
        owner=rep,
    )


def _ensure_offered_to(lead: Lead, actor: User | None) -> None:
    current = Lead.objects.select_related("owner").get(pk=lead.pk)
    if current.state != S.OFFERED:
        raise ConflictError(
            f"This lead is {current.get_state_display().lower()}, not waiting for an answer."
        )
    if actor is not None and actor.role == Role.SALES_REP and current.owner_id != actor.pk:
        raise ConflictError("This lead was offered to someone else.")


@transaction.atomic
def lead_accept(*, lead: Lead, actor: User | None) -> Lead:
    """The offered rep (or their manager) takes the lead into the funnel: SAL."""
    _locked(lead)
    _ensure_offered_to(lead, actor)
    return _transition(lead, S.ACCEPTED, actor=actor, action=LeadAction.ACCEPT)


@transaction.atomic
def lead_reject(*, lead: Lead, actor: User | None, reason: str, note: str = "") -> Lead:
    """Sales turns the lead down with a reason; it goes back to marketing, reason visible."""
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError("Say why you reject the lead: marketing learns from the reason.")
    _locked(lead)
    _ensure_offered_to(lead, actor)
    return _transition(
        lead,
        S.RECYCLED,
        actor=actor,
        action=LeadAction.REJECT,
        reason=reason,
        note=note,
        data={"rejected": True},
        owner=None,
    )


@transaction.atomic
def lead_qualify(*, lead: Lead, actor: User | None, note: str = "") -> Lead:
    return _transition(lead, S.SQL, actor=actor, action=LeadAction.WORK, note=note)


@transaction.atomic
def lead_convert(*, lead: Lead, actor: User | None, note: str = "") -> Lead:
    return _transition(lead, S.OPPORTUNITY, actor=actor, action=LeadAction.WORK, note=note)


@transaction.atomic
def lead_close_won(*, lead: Lead, actor: User | None, note: str = "") -> Lead:
    return _transition(lead, S.WON, actor=actor, action=LeadAction.WORK, note=note)


@transaction.atomic
def lead_close_lost(*, lead: Lead, actor: User | None, reason: str, note: str = "") -> Lead:
    if not (reason or "").strip():
        raise ApplicationError("Say why the lead was lost.")
    return _transition(
        lead, S.LOST, actor=actor, action=LeadAction.WORK, reason=reason.strip(), note=note
    )


@transaction.atomic
def lead_recycle(*, lead: Lead, actor: User | None, reason: str, note: str = "") -> Lead:
    if not (reason or "").strip():
        raise ApplicationError("Say why the lead goes back to marketing.")
    return _transition(
        lead,
        S.RECYCLED,
        actor=actor,
        action=LeadAction.RECYCLE,
        reason=reason.strip(),
        note=note,
        owner=None,
    )


@transaction.atomic
def lead_disqualify(*, lead: Lead, actor: User | None, reason: str, note: str = "") -> Lead:
    if not (reason or "").strip():
        raise ApplicationError("Say why the lead is disqualified.")
    return _transition(
        lead,
        S.DISQUALIFIED,
        actor=actor,
        action=LeadAction.DISQUALIFY,
        reason=reason.strip(),
        note=note,
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
