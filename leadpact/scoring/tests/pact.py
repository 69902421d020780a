"""Helpers for the profile tests: a small hand-written scorecard and the approval dance."""

from __future__ import annotations

import copy
from typing import Any

from leadpact.scoring.models import LeadProfile
from leadpact.scoring.services.profiles import (
    profile_approve,
    profile_create_draft,
    profile_go_live,
    profile_propose,
)

SPEC: dict[str, Any] = {
    "scaling": {"points_to_double_odds": 20.0, "base_score": 600.0, "base_odds": 1.0},
    "base_points": 500,
    "attributes": [
        {
            "attribute": "source_channel",
            "kind": "categorical",
            "bins": [
                {"bin": "referral", "points": 60},
                {"bin": "paid_search", "points": 10},
                {"bin": "missing", "points": 0},
            ],
            "categories": {"referral": 0, "paid_search": 1},
            "unknown_points": 0,
        },
        {
            "attribute": "employees",
            "kind": "numeric",
            "edges": [50.0],
            "bins": [
                {"bin": "< 50", "points": 0},
                {"bin": ">= 50", "points": 40},
                {"bin": "missing", "points": -10},
            ],
            "categories": {},
            "unknown_points": 0,
        },
    ],
}
RULES = [
    {"kind": "form_fill", "points": 20, "half_life_days": 30, "cap": 40, "period_days": 30},
    {"kind": "page_view", "points": 1, "half_life_days": 14, "cap": 5, "period_days": 30},
]
THRESHOLD = 560


def spec() -> dict[str, Any]:
    return copy.deepcopy(SPEC)


def draft(users: dict, *, threshold: int = THRESHOLD, card: dict | None = None) -> LeadProfile:
    return profile_create_draft(
        actor=users["marketing"],
        scorecard=card or spec(),
        threshold=threshold,
        engagement_rules=copy.deepcopy(RULES),
        source="test",
    )


def approved(users: dict, **kwargs: Any) -> LeadProfile:
    """Written by the marketer, approved by the admin-free pair: a second marketer + manager."""
    from leadpact.accounts.models import Role
    from leadpact.factories import UserFactory

    profile = draft(users, **kwargs)
    profile_propose(profile=profile, actor=users["marketing"])
    second = users.get("marketing2") or UserFactory(username="marketer2", role=Role.MARKETING)
    users["marketing2"] = second
    profile_approve(profile=profile, actor=second)
    return profile_approve(profile=profile, actor=users["sales_manager"])


def live(users: dict, **kwargs: Any) -> LeadProfile:
    profile, _ = profile_go_live(profile=approved(users, **kwargs), actor=users["marketing"])
    return profile
