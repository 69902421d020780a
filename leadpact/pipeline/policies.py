"""Who may see and change deals: a rep works their own, a manager their team's, marketing and
admins read everything (admins may also change). Pipeline configuration: admins and managers."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from leadpact.accounts.models import Role
from leadpact.accounts.roles import has_role
from leadpact.common.errors import PermissionDeniedError
from leadpact.leads.policies import manages
from leadpact.pipeline.models import Deal


def can_use_pipeline(user: Any) -> bool:
    return has_role(user, *Role.values)


def can_configure(user: Any) -> bool:
    return has_role(user, Role.ADMIN, Role.SALES_MANAGER)


def can_create_deal(user: Any) -> bool:
    return has_role(user, Role.ADMIN, Role.SALES_REP, Role.SALES_MANAGER)


def can_view_forecast(user: Any) -> bool:
    return has_role(user, *Role.values)


def can_view_deal(user: Any, deal: Deal) -> bool:
    if has_role(user, Role.ADMIN, Role.MARKETING):
        return True
    return can_edit_deal(user, deal)


def can_edit_deal(user: Any, deal: Deal) -> bool:
    if has_role(user, Role.ADMIN):
        return True
    if not has_role(user, Role.SALES_REP, Role.SALES_MANAGER):
        return False
    if deal.owner_id == user.pk:
        return True
    return user.role == Role.SALES_MANAGER and manages(user, deal.owner)


def can_own_deals(user: Any) -> bool:
    return bool(
        user is not None and user.is_active and user.role in (Role.SALES_REP, Role.SALES_MANAGER)
    )


def ensure_can_edit(user: Any, deal: Deal) -> None:
    """``None`` is the system (a task); anyone else must own the deal or manage its owner."""
    if user is not None and not can_edit_deal(user, deal):
        raise PermissionDeniedError(
            "You may not change this deal: only its owner, their manager and admins may."
        )


def visible_deals(user: Any, qs: QuerySet[Deal] | None = None) -> QuerySet[Deal]:
    """The deals ``user`` may see, as one filter (no per-row checks on list pages)."""
    qs = Deal.objects.all() if qs is None else qs
    if has_role(user, Role.ADMIN, Role.MARKETING):
        return qs
    if has_role(user, Role.SALES_MANAGER):
        team_ids = {t.pk for t in user.managed_teams.all()}
        if user.team_id:
            team_ids.add(user.team_id)
        return qs.filter(Q(owner=user) | Q(owner__team_id__in=team_ids))
    if has_role(user, Role.SALES_REP):
        return qs.filter(owner=user)
    return qs.none()
