"""Maintaining routing rules and rep capacity (admins and sales managers); every change is
kept in the audit trail (``RoutingChange``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction

from leadpact.accounts.models import Role, Team, User
from leadpact.common.errors import ApplicationError, PermissionDeniedError
from leadpact.leads.policies import manages
from leadpact.routing.engine.rules import RuleError, parse_conditions
from leadpact.routing.models import RepAvailability, RoutingChange, RoutingRule
from leadpact.routing.roles import can_manage_routing
from leadpact.routing.services.audit import routing_change_log, snapshot
from leadpact.routing.services.ordering import position_next, position_swap

RULE_FIELDS = ("name", "conditions", "team", "rep", "is_active")
AVAILABILITY_FIELDS = ("weight", "max_open_leads", "out_of_office_until")
A = RoutingChange.Action


def _ensure_manager(actor: Any) -> None:
    if not can_manage_routing(actor):
        raise PermissionDeniedError("Only an admin or a sales manager changes routing.")


def _recorded(
    rule: RoutingRule,
    action: str,
    actor: Any,
    before: dict[str, Any] | None,
    *,
    fields: tuple[str, ...] = RULE_FIELDS,
) -> None:
    routing_change_log(
        subject=RoutingChange.Subject.RULE,
        row=rule,
        action=action,
        actor=actor,
        before=before,
        fields=fields,
    )


def _clean(
    *, name: str, conditions: Any, team: Team | None, rep: User | None
) -> tuple[str, list[dict[str, Any]]]:
    name = (name or "").strip()
    if not name:
        raise ApplicationError("Give the rule a name.", extra={"field": "name"})
    if len(name) > 120:
        raise ApplicationError("A rule name is at most 120 characters.", extra={"field": "name"})
    if (team is None) == (rep is None):
        raise ApplicationError(
            "A rule sends leads to a team or to one named rep: choose exactly one.",
            extra={"field": "target"},
        )
    if team is not None and team.kind != Team.Kind.SALES:
        raise ApplicationError(f"{team} is not a sales team.", extra={"field": "team"})
    if rep is not None and (
        not rep.is_active or rep.role not in (Role.SALES_REP, Role.SALES_MANAGER)
    ):
        raise ApplicationError(f"{rep} is not an active salesperson.", extra={"field": "rep"})
    try:
        parsed = parse_conditions(conditions)
    except RuleError as exc:
        raise ApplicationError(str(exc), extra={"field": "conditions"}) from None
    return name, [{"field": c.field, "op": c.op, "value": c.value} for c in parsed]


@transaction.atomic
def rule_create(
    *,
    actor: Any,
    name: str,
    conditions: Any,
    team: Team | None = None,
    rep: User | None = None,
    position: int | None = None,
    is_active: bool = True,
) -> RoutingRule:
    _ensure_manager(actor)
    name, clean = _clean(name=name, conditions=conditions, team=team, rep=rep)
    if position is None:
        position = position_next(RoutingRule)
    rule = RoutingRule.objects.create(
        name=name, conditions=clean, team=team, rep=rep, position=position, is_active=is_active
    )
    _recorded(rule, A.CREATED, actor, None)
    return rule


@transaction.atomic
def rule_update(
    *,
    rule: RoutingRule,
    actor: Any,
    name: str,
    conditions: Any,
    team: Team | None = None,
    rep: User | None = None,
    position: int | None = None,
    is_active: bool = True,
) -> RoutingRule:
    _ensure_manager(actor)
    name, clean = _clean(name=name, conditions=conditions, team=team, rep=rep)
    # Changed on the locked row (a move committed meanwhile keeps its position).
    current = RoutingRule.objects.select_for_update().get(pk=rule.pk)
    before = snapshot(current, RULE_FIELDS)
    current.name, current.conditions, current.team, current.rep = name, clean, team, rep
    current.is_active = is_active
    fields = ["name", "conditions", "team", "rep", "is_active", "updated_at"]
    if position is not None:
        current.position = position
        fields.append("position")
    current.save(update_fields=fields)
    for field in fields:  # the caller's copy says what was saved too
        setattr(rule, field, getattr(current, field))
    _recorded(current, A.UPDATED, actor, before)
    return current


@transaction.atomic
def rule_delete(*, rule: RoutingRule, actor: Any) -> None:
    """Offers keep the rule's name (``Offer.rule_name``) after it is gone."""
    _ensure_manager(actor)
    _recorded(rule, A.DELETED, actor, None, fields=())
    rule.delete()


@transaction.atomic
def rule_move(*, rule: RoutingRule, actor: Any, up: bool) -> bool:
    """Swap the rule with its neighbour; False when it was already at that end."""
    _ensure_manager(actor)
    moved = position_swap(RoutingRule, rule, up=up)
    if moved:
        _recorded(rule, A.MOVED, actor, None, fields=())
    return moved


@transaction.atomic
def availability_set(
    *,
    rep: User,
    actor: Any,
    weight: int = 1,
    max_open_leads: int | None = None,
    out_of_office_until: datetime | None = None,
) -> RepAvailability:
    """Weight, cap and out-of-office of a rep: the rep themself, their manager or an admin."""
    if not (
        getattr(actor, "role", None) == Role.ADMIN
        or getattr(actor, "pk", None) == rep.pk
        or manages(actor, rep)
    ):
        raise PermissionDeniedError("Only the rep, their manager or an admin sets availability.")
    if actor.pk == rep.pk and actor.role == Role.SALES_REP:
        # A rep may mark themself out of office; weight and cap are the manager's call.
        current = RepAvailability.objects.filter(rep=rep).first()
        weight = current.weight if current else 1
        max_open_leads = current.max_open_leads if current else None
    if not isinstance(weight, int) or weight < 1 or weight > 100:
        raise ApplicationError("Weight is a whole number from 1 to 100.", extra={"field": "weight"})
    if max_open_leads is not None and (not isinstance(max_open_leads, int) or max_open_leads < 0):
        raise ApplicationError(
            "The open-lead cap is a whole number (0 or more), or empty for no cap.",
            extra={"field": "max_open_leads"},
        )
    before = snapshot(
        RepAvailability.objects.select_for_update().filter(rep=rep).first(), AVAILABILITY_FIELDS
    )
    availability, _ = RepAvailability.objects.update_or_create(
        rep=rep,
        defaults={
            "weight": weight,
            "max_open_leads": max_open_leads,
            "out_of_office_until": out_of_office_until,
        },
    )
    routing_change_log(
        subject=RoutingChange.Subject.AVAILABILITY,
        row=rep,
        action=A.CREATED if before is None else A.UPDATED,
        actor=actor,
        before=before,
        after=snapshot(availability, AVAILABILITY_FIELDS),
    )
    return availability
