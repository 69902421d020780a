"""An incoming marketing touch, validated: one rule for the web form, the API and bulk ingest.

A touch names its campaign by code (``utm_campaign``); the caller resolves the code to a
``Campaign`` (``campaigns.selectors.campaigns_by_code``) and keeps an unknown code as text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from leadpact.campaigns.channels import channel_slug
from leadpact.campaigns.models import TouchKind
from leadpact.leads.records import to_aware_datetime

TOUCH_TEXT_LIMITS: dict[str, int] = {
    "channel": 50,
    "campaign": 100,
    "utm_source": 100,
    "utm_medium": 100,
    "utm_campaign": 100,
    "utm_term": 100,
    "utm_content": 100,
    "referrer": 500,
    "url": 500,
    "idempotency_key": 200,
}
TOUCH_DATA_MAX_CHARS = 10_000
# Clocks differ: a touch stamped a few minutes ahead of ours is not "in the future".
CLOCK_SKEW = timedelta(minutes=5)


@dataclass
class TouchInput:
    kind: str
    occurred_at: datetime | None = None
    channel: str = ""
    campaign: str = ""
    utm_source: str = ""
    utm_medium: str = ""
    utm_campaign: str = ""
    utm_term: str = ""
    utm_content: str = ""
    referrer: str = ""
    url: str = ""
    idempotency_key: str = ""
    data: dict[str, Any] = field(default_factory=dict)


def clean_touch_input(
    raw: Mapping[str, Any], *, key_required: bool = False
) -> tuple[TouchInput | None, dict[str, str]]:
    """Validate a mapping of touch values; returns the input, or ``None`` and field → message.

    Keys other than the ``TouchInput`` fields are the caller's business (it removes them first).
    """
    errors: dict[str, str] = {}
    kind = raw.get("kind")
    if kind in (None, ""):
        errors["kind"] = "is required"
    elif not isinstance(kind, str) or kind not in TouchKind.values:
        errors["kind"] = f"must be one of {', '.join(TouchKind.values)}"
    out = TouchInput(kind=kind if isinstance(kind, str) else "")
    for name, limit in TOUCH_TEXT_LIMITS.items():
        value = raw.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            errors[name] = "must be text"
            continue
        text = value.strip()
        if len(text) > limit:
            errors[name] = f"is {len(text)} characters; at most {limit}"
            continue
        setattr(out, name, text)
    if out.channel:
        out.channel = channel_slug(out.channel)
    if key_required and not out.idempotency_key and "idempotency_key" not in errors:
        errors["idempotency_key"] = "is required (it makes sending the same touch twice safe)"
    occurred = raw.get("occurred_at")
    if occurred not in (None, ""):
        if not isinstance(occurred, str | datetime):
            errors["occurred_at"] = "must be an ISO-8601 date-time"
        else:
            try:
                out.occurred_at = to_aware_datetime(occurred)
            except (ValueError, OverflowError) as exc:
                errors["occurred_at"] = str(exc)
            else:
                if out.occurred_at > timezone.now() + CLOCK_SKEW:
                    errors["occurred_at"] = "is in the future"
    data = raw.get("data")
    if data is not None:
        if not isinstance(data, Mapping):
            errors["data"] = "must be an object"
        else:
            try:
                size = len(json.dumps(data))
            except (TypeError, ValueError):
                errors["data"] = "must hold only JSON values"
            else:
                if size > TOUCH_DATA_MAX_CHARS:
                    errors["data"] = f"is {size} characters as JSON; at most {TOUCH_DATA_MAX_CHARS}"
                else:
                    out.data = dict(data)
    if errors:
        return None, errors
    return out, {}
