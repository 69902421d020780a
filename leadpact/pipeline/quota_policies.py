"""Who may set quotas and targets, record forecast adjustments, and see whose numbers.

* Sales quotas: admins, and a sales manager for the reps and teams they manage.
* Marketing targets (MQLs, marketing-sourced pipeline): admins and marketing.
* Forecast adjustments: admins, and a sales manager for the reps they manage.
* Numbers of a rep or team: admins and marketing see everyone's, a manager their teams', a
  rep their own.
"""

from __future__ import annotations

from typing import Any

from leadpact.accounts.models import Role, Team
from leadpact.accounts.roles import has_role
from leadpact.leads.policies import manages


def manages_team(user: Any, team: Team) -> bool:
    if not has_role(user, Role.SALES_MANAGER):
        return False
    return team.manager_id == user.pk or team.pk == user.team_id


def can_set_sales_quotas(user: Any) -> bool:
    return has_role(user, Role.ADMIN, Role.SALES_MANAGER)


def can_set_sales_quota(user: Any, *, rep: Any = None, team: Team | None = None) -> bool:
    if has_role(user, Role.ADMIN):
        return True
    if rep is not None:
        return manages(user, rep)
    if team is not None:
        return manages_team(user, team)
    return False


def can_set_marketing_targets(user: Any) -> bool:
    return has_role(user, Role.ADMIN, Role.MARKETING)


def can_adjust_forecast(user: Any, rep: Any = None) -> bool:
    if has_role(user, Role.ADMIN):
        return True
    if rep is None:
        return has_role(user, Role.SALES_MANAGER)
    return manages(user, rep)


def can_view_rep(user: Any, rep: Any) -> bool:
    if has_role(user, Role.ADMIN, Role.MARKETING):
        return True
    if has_role(user, Role.SALES_REP, Role.SALES_MANAGER) and rep.pk == user.pk:
        return True
    return manages(user, rep)


def can_view_team(user: Any, team: Team) -> bool:
    return has_role(user, Role.ADMIN, Role.MARKETING) or manages_team(user, team)
