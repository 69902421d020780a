"""Small display filters for lead pages: labels for stored slugs."""

from __future__ import annotations

from django import template

from leadpact.campaigns.channels import channel_label as _channel_label
from leadpact.campaigns.models import TouchKind
from leadpact.leads.models import LeadState

register = template.Library()


@register.filter
def channel_label(slug: str) -> str:
    return _channel_label(slug or "unknown")


@register.filter
def state_label(value: str) -> str:
    try:
        return LeadState(value).label
    except ValueError:
        return value or "—"


@register.filter
def touch_kind_label(value: str) -> str:
    try:
        return TouchKind(value).label
    except ValueError:
        return value or "—"
