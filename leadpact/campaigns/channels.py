"""Marketing channels are slugs (``paid_search``); the well-known ones have a label."""

from __future__ import annotations

import re

KNOWN_CHANNELS: dict[str, str] = {
    "organic_search": "Organic search",
    "paid_search": "Paid search",
    "social": "Social",
    "email": "E-mail",
    "direct_traffic": "Direct traffic",
    "referral": "Referral",
    "display": "Display",
    "event": "Event",
    "webinar": "Webinar",
    "partner": "Partner",
    "chat": "Chat",
    "other_publicities": "Other publicity",
    "other": "Other",
    "unknown": "Unknown",
}

_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def channel_slug(value: str | None) -> str:
    """``"Paid Search"`` → ``"paid_search"``; empty → ``"unknown"``."""
    slug = _NOT_SLUG.sub("_", (value or "").strip().lower()).strip("_")
    return slug[:50] or "unknown"


def channel_label(slug: str) -> str:
    return KNOWN_CHANNELS.get(slug, slug.replace("_", " ").capitalize())
