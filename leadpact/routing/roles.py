"""Who may use the hand-off pages and endpoints."""

from __future__ import annotations

from typing import Any

from leadpact.accounts.models import Role
from leadpact.accounts.roles import has_role


def can_have_queue(user: Any) -> bool:
    """Salespeople receive offers; managers also work leads themselves."""
    return has_role(user, Role.SALES_REP, Role.SALES_MANAGER)


def can_manage_routing(user: Any) -> bool:
    """Routing rules, SLA policies, rep capacity and the fallback queue."""
    return has_role(user, Role.ADMIN, Role.SALES_MANAGER)


def can_view_sla(user: Any) -> bool:
    """Marketing sees the SLA pages too: the agreement binds both teams."""
    return has_role(user, Role.ADMIN, Role.SALES_MANAGER, Role.MARKETING)
