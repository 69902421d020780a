"""Who may act on a lead. Everyone signed in may read the common lead view; acting depends on
the role and on whose lead it is: the owner rep, their manager, marketing, and admins."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from leadpact.accounts.models import Role
from leadpact.accounts.roles import has_role
from leadpact.common.errors import PermissionDeniedError
from leadpact.leads.models import Lead


class LeadAction(StrEnum):
    NOTE = "note"
    EDIT = "edit"
    MARK_MQL = "mark_mql"
    ASSIGN = "assign"
    ACCEPT = "accept"
    REJECT = "reject"
    WORK = "work"  # qualify, convert, close won/lost
    RECYCLE = "recycle"
    DISQUALIFY = "disqualify"
    MERGE = "merge"


_MARKETING_ACTIONS = {
    LeadAction.NOTE,
    LeadAction.EDIT,
    LeadAction.MARK_MQL,
    LeadAction.RECYCLE,
    LeadAction.DISQUALIFY,
    LeadAction.MERGE,
}
_OWNER_ACTIONS = {
    LeadAction.NOTE,
    LeadAction.EDIT,
    LeadAction.ACCEPT,
    LeadAction.REJECT,
    LeadAction.WORK,
    LeadAction.RECYCLE,
    LeadAction.DISQUALIFY,
}
_MANAGER_ACTIONS = _OWNER_ACTIONS | {LeadAction.ASSIGN, LeadAction.MERGE}


def manages(manager: Any, rep: Any) -> bool:
    """A sales manager manages the reps of the teams they lead or belong to."""
    if rep is None or not has_role(manager, Role.SALES_MANAGER):
        return False
    team_id = getattr(rep, "team_id", None)
    if team_id is None:
        return False
    if team_id == manager.team_id:
        return True
    return any(team.pk == team_id for team in manager.managed_teams.all())


def can_act(user: Any, lead: Lead, action: str) -> bool:
    if not has_role(user, *Role.values):
        return False
    if user.role == Role.ADMIN:
        return True
    if user.role == Role.MARKETING:
        return action in _MARKETING_ACTIONS
    owner = lead.owner
    if user.role == Role.SALES_MANAGER:
        if owner is None:
            return action in _MANAGER_ACTIONS
        return (owner.pk == user.pk or manages(user, owner)) and action in _MANAGER_ACTIONS
    # sales rep: only their own leads
    return owner is not None and owner.pk == user.pk and action in _OWNER_ACTIONS


def ensure_can_act(user: Any, lead: Lead, action: str) -> None:
    """Raise ``PermissionDeniedError`` unless ``user`` may do ``action``; ``None`` is the system."""
    if user is None:
        return
    if not can_act(user, lead, action):
        raise PermissionDeniedError(
            f"You may not {action.replace('_', ' ')} this lead: "
            "only its owner, their manager and marketing may act on it as their role allows."
        )
