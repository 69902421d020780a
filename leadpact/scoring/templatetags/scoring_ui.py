"""Template helpers of the lead profile pages and the score panel on the lead page."""

from __future__ import annotations

from typing import Any

from django import template

from leadpact.leads.models import Lead
from leadpact.scoring.selectors import lead_score_event

register = template.Library()


@register.simple_tag
def edited_points(edited: dict[str, str] | None, index: int, attribute: str, stored: int) -> Any:
    """The value to show in a draft's points box: the unsaved edit if any, else the stored."""
    if edited:
        return edited.get(f"{index}:{attribute}", stored)
    return stored


@register.inclusion_tag("scoring/_lead_score_panel.html")
def lead_score_panel(lead: Lead) -> dict[str, Any]:
    """The lead's score and what it is made of (its latest score event): one query."""
    event = lead_score_event(lead=lead)
    data = event.data if event is not None else {}
    points = sorted(data.get("points", {}).items(), key=lambda kv: -abs(kv[1]))
    return {
        "lead": lead,
        "event": event,
        "base": data.get("base"),
        "points": points,
        "engagement": data.get("engagement"),
        "threshold": data.get("threshold"),
        "version": data.get("profile"),
    }
