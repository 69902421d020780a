"""Template context shared by every page: the main navigation, cut to what the user may open."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from leadpact.accounts.models import Role

_ALL = tuple(Role.values)

# (label, url name, roles that see it). The pages check permissions themselves; the menu only
# spares people links that would answer "you may not see this page".
_SALES = (Role.SALES_REP, Role.SALES_MANAGER)
_MANAGERS = (Role.ADMIN, Role.SALES_MANAGER)
_FUNNEL = (Role.ADMIN, Role.MARKETING, Role.SALES_MANAGER)
_MARKETING = (Role.ADMIN, Role.MARKETING)

# (label, url name, roles that see it). The pages check permissions themselves; the menu only
# spares people links that would answer "you may not see this page".
NAV: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("Leads", "leads:list", _ALL),
    ("My queue", "routing:queue", _SALES),
    ("Pipeline", "pipeline:board", _ALL),
    ("Quotas", "pipeline:quotas", _ALL),
    ("Campaigns", "campaigns:list", _ALL),
    ("Lead profile", "scoring:live", _ALL),
    ("Duplicates", "duplicates:list", _FUNNEL),
    ("Imports", "imports:list", _MARKETING),
    ("Forms", "campaigns:forms", _MARKETING),
    ("Routing", "routing:rules", _MANAGERS),
    ("SLA", "routing:policies", _FUNNEL),
)
# The smaller menu beside the user's name.
USER_NAV: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("People", "accounts:people", (Role.ADMIN,)),
    ("API tokens", "accounts:tokens", _ALL),
    ("API docs", "api:docs", _ALL),
)


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str
    active: bool


def nav_items_for(
    role: str, path: str, nav: tuple[tuple[str, str, tuple[str, ...]], ...] = NAV
) -> list[NavItem]:
    """The menu for ``role``; the item whose URL is the longest prefix of ``path`` is active."""
    entries: list[tuple[str, str]] = []
    for label, name, roles in nav:
        if role not in roles:
            continue
        try:
            entries.append((label, reverse(name)))
        except NoReverseMatch:  # a page not wired yet: leave it out rather than fail every page
            continue
    matches = [url for _, url in entries if url != "/" and path.startswith(url)]
    active = max(matches, key=len) if matches else None
    seen: set[str] = set()
    items = []
    for label, url in entries:
        # Placeholder routes may share a URL; only the first of them is marked active.
        is_active = url == active and url not in seen
        seen.add(url)
        items.append(NavItem(label=label, url=url, active=is_active))
    return items


def navigation(request: HttpRequest) -> dict[str, list[NavItem]]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_active:
        return {"nav_items": [], "user_nav_items": []}
    role = getattr(user, "role", "")
    return {
        "nav_items": nav_items_for(role, request.path),
        "user_nav_items": nav_items_for(role, request.path, USER_NAV),
    }
