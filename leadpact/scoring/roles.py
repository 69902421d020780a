"""Who may do what with the lead profile. Everyone may read it: it is the shared pact."""

from __future__ import annotations

from typing import Any

from leadpact.accounts.models import Role
from leadpact.accounts.roles import has_role

#: The two sides of the pact; a version goes live only with one approval from each.
APPROVER_ROLES = (Role.MARKETING, Role.SALES_MANAGER)


def can_view_profile(user: Any) -> bool:
    return has_role(user, *Role.values)


def can_edit_profile(user: Any) -> bool:
    """Drafts are written and proposed by marketing ops and revenue-operations admins."""
    return has_role(user, Role.ADMIN, Role.MARKETING)


def can_approve_profile(user: Any) -> bool:
    return has_role(user, *APPROVER_ROLES)


def can_put_live(user: Any) -> bool:
    return has_role(user, Role.ADMIN, Role.MARKETING, Role.SALES_MANAGER)
