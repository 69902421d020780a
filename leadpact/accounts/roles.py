"""Who may do what, by role. Object-level rules live next to their objects (leads/policies.py)."""

from __future__ import annotations

from typing import Any

from leadpact.accounts.models import Role


def has_role(user: Any, *roles: str) -> bool:
    return bool(
        user is not None
        and getattr(user, "is_authenticated", False)
        and user.is_active
        and (user.role in roles)
    )


def is_admin(user: Any) -> bool:
    return has_role(user, Role.ADMIN)


def can_manage_people(user: Any) -> bool:
    return is_admin(user)


def can_import(user: Any) -> bool:
    """Imports and capture configuration belong to marketing ops and revenue-operations admins."""
    return has_role(user, Role.ADMIN, Role.MARKETING)


def can_manage_campaigns(user: Any) -> bool:
    return has_role(user, Role.ADMIN, Role.MARKETING)


def is_sales(user: Any) -> bool:
    return has_role(user, Role.SALES_REP, Role.SALES_MANAGER)
