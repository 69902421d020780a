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


# utm_medium values (lower-cased) that name a channel unambiguously.
_MEDIUM_CHANNELS: dict[str, str] = {
    "cpc": "paid_search",
    "ppc": "paid_search",
    "paid_search": "paid_search",
    "paidsearch": "paid_search",
    "sem": "paid_search",
    "organic": "organic_search",
    "email": "email",
    "e-mail": "email",
    "newsletter": "email",
    "social": "social",
    "social_media": "social",
    "paid_social": "social",
    "display": "display",
    "banner": "display",
    "cpm": "display",
    "referral": "referral",
    "affiliate": "partner",
    "partner": "partner",
    "event": "event",
    "webinar": "webinar",
}


def channel_from_utm(utm_medium: str) -> str:
    """The channel a ``utm_medium`` names (``cpc`` → ``paid_search``); ``""`` when it names none.

    Only well-known mediums count: an unknown one must not override the channel a form or a
    campaign was set up with.
    """
    return _MEDIUM_CHANNELS.get((utm_medium or "").strip().lower(), "")
