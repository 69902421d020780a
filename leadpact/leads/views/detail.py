"""The lead page: one view of a lead that the marketer and the rep share.

Profile facts, state, owner and score; the whole timeline (touches, state and owner changes,
profile changes, notes, merges) newest first; the touches; the quick note box; and the
lifecycle buttons the viewer may press. A fixed number of queries whatever the history.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import prefetch_related_objects
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.views.decorators.http import require_GET, require_POST

from leadpact.accounts.models import Role
from leadpact.accounts.selectors import sales_people
from leadpact.campaigns.channels import channel_label
from leadpact.campaigns.models import TouchKind
from leadpact.common.errors import ApplicationError, PermissionDeniedError
from leadpact.leads.models import Lead, LeadState, TimelineEvent
from leadpact.leads.policies import LeadAction, can_act
from leadpact.leads.selectors import lead_merged_from, lead_timeline, lead_touches
from leadpact.leads.services.notes import NOTE_MAX, lead_note_add
from leadpact.leads.views.actions import available_actions, load_lead

K = TimelineEvent.Kind
TIMELINE_LIMIT = 200
FIELD_LABELS = {
    "first_name": "First name",
    "last_name": "Last name",
    "email": "E-mail",
    "phone": "Phone",
    "title": "Title",
    "company_name": "Company",
    "country": "Country",
    "city": "City",
    "external_id": "External id",
    "external_source": "External source",
    "captured_at": "First contact",
    "source_channel": "Source channel",
    "source_detail": "Source detail",
    "source_campaign_id": "Source campaign",
    "attributes": "Attributes",
    "score": "Score",
}
# Lead ids a merge event names, with how the page calls them.
_LEAD_REF_KEYS = {"primary": "Surviving lead", "duplicate": "Merged lead"}
_ATTRIBUTE_PREFIX = "attributes."


@dataclass
class EventView:
    """One timeline entry, ready to print."""

    id: int
    kind: str
    kind_label: str
    occurred_at: datetime
    actor: str
    title: str
    lines: list[tuple[str, str]] = field(default_factory=list)
    changes: list[tuple[str, str, str]] = field(default_factory=list)  # field, old, new
    links: list[tuple[str, str]] = field(default_factory=list)  # label, url
    body: str = ""


def _text(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_text(v)}" for k, v in value.items()) or "—"
    if isinstance(value, list | tuple):
        return ", ".join(_text(v) for v in value) or "—"
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and "T" in value:
        try:
            moment = parse_datetime(value)
        except ValueError:
            moment = None
        if moment is not None:
            return date_format(
                timezone.localtime(moment) if timezone.is_aware(moment) else moment, "Y-m-d H:i"
            )
    return str(value)


def _field_label(name: str) -> str:
    if name.startswith(_ATTRIBUTE_PREFIX):
        return f"Attribute “{name.removeprefix(_ATTRIBUTE_PREFIX)}”"
    return FIELD_LABELS.get(name, name.removesuffix("_id").replace("_", " ").capitalize())


def _state(value: Any) -> str:
    try:
        return LeadState(value).label
    except ValueError:
        return _text(value)


def _field_changes(data: dict[str, Any]) -> list[tuple[str, str, str]]:
    """``{"changes": {field: [old, new]}}`` or ``{field: [old, new] | {"old", "new"}}``."""
    source = data.get("changes") or data.get("fields") or data
    rows = []
    if not isinstance(source, dict):
        return rows
    for name, value in source.items():
        if isinstance(value, list | tuple) and len(value) == 2:
            old, new = value
        elif isinstance(value, dict) and ("old" in value or "new" in value):
            old, new = value.get("old"), value.get("new")
        else:
            continue
        if name == "source_channel":
            old, new = (channel_label(v) if v else v for v in (old, new))
        rows.append(
            (FIELD_LABELS.get(name, name.replace("_", " ").capitalize()), _text(old), _text(new))
        )
    return rows


def event_display(event: TimelineEvent) -> EventView:
    """Say what happened in words: each kind shows the facts that matter for it."""
    data = event.data if isinstance(event.data, dict) else {}
    view = EventView(
        id=event.pk,
        kind=event.kind,
        kind_label=K(event.kind).label if event.kind in K.values else event.kind,
        occurred_at=event.occurred_at,
        actor=event.actor.display_name if event.actor_id and event.actor else "",
        title=event.summary,
        body=event.body,
    )
    if event.kind == K.TOUCH:
        touch = event.touch
        if touch is not None:
            kind = TouchKind(touch.kind).label if touch.kind in TouchKind.values else touch.kind
            view.title = f"{kind} · {channel_label(touch.channel)}"
            if touch.campaign_id and touch.campaign:
                view.lines.append(("Campaign", touch.campaign.name))
            utm = [
                getattr(touch, f"utm_{part}")
                for part in ("source", "medium", "campaign", "term", "content")
            ]
            while utm and not utm[-1]:
                utm.pop()
            if utm:
                view.lines.append(("UTM", " / ".join(value or "—" for value in utm)))
            if touch.referrer:
                view.lines.append(("Referrer", touch.referrer))
            if touch.url:
                view.lines.append(("Page", touch.url))
        else:
            view.lines.extend(
                (key, _text(data[key])) for key in ("channel", "campaign") if data.get(key)
            )
    elif event.kind == K.NOTE:
        view.title, view.body = "", event.body or event.summary
    elif event.kind == K.STATE_CHANGE:
        if data.get("from") or data.get("to"):
            view.title = f"{_state(data.get('from'))} → {_state(data.get('to'))}"
        if data.get("reason"):
            view.lines.append(("Reason", _text(data["reason"])))
        if data.get("rule"):
            view.lines.append(("Routing rule", _text(data["rule"])))
    elif event.kind in (K.FIELD_CHANGE, K.SCORE_CHANGE):
        view.changes = _field_changes(data)
        if event.kind == K.SCORE_CHANGE and not view.changes and "to" in data:
            view.changes = [("Score", _text(data.get("from")), _text(data.get("to")))]
        if data.get("via"):
            view.lines.append(("Via", _text(data["via"])))
    elif event.kind in (K.MERGE, K.UNMERGE):
        view.changes = _field_changes({"changes": data.get("fields") or {}})
        if isinstance(data.get("touches"), list):
            view.lines.append(("Touches moved", str(len(data["touches"]))))
        for key, label in _LEAD_REF_KEYS.items():
            value = data.get(key)
            if isinstance(value, int) and not isinstance(value, bool) and value != event.lead_id:
                url = reverse("leads:detail", kwargs={"lead_id": value})
                view.links.append((f"{label} #{value}", url))
    elif event.kind == K.CREATED:
        if data.get("via"):
            view.lines.append(("Via", _text(data["via"])))
        if data.get("channel"):
            view.lines.append(("Channel", channel_label(str(data["channel"]))))
    else:  # routing decisions, and kinds added later: their reason and rule when given
        for key in ("reason", "rule"):
            if data.get(key):
                view.lines.append((key.capitalize(), _text(data[key])))
    return view


def lead_page_context(user: Any, lead: Lead) -> dict[str, Any]:
    """Everything the lead page shows. Queries: timeline, touches, merged-from, and the sales
    people when the viewer may offer or assign; a manager's teams are loaded once up front."""
    if getattr(user, "role", None) == Role.SALES_MANAGER:
        prefetch_related_objects([user], "managed_teams")
    actions = available_actions(user, lead)
    needs_reps = any(spec.needs_rep for spec in actions)
    attributes = lead.attributes if isinstance(lead.attributes, dict) else {}
    return {
        "lead": lead,
        "events": [event_display(e) for e in lead_timeline(lead=lead, limit=TIMELINE_LIMIT)],
        "timeline_limit": TIMELINE_LIMIT,
        "touches": lead_touches(lead=lead),
        "merged_from": lead_merged_from(lead=lead),
        "actions": actions,
        "reps": list(sales_people()) if needs_reps else [],
        "can_note": not lead.merged_into_id and can_act(user, lead, LeadAction.NOTE),
        "attributes": sorted((str(k), _text(v)) for k, v in attributes.items()),
        "channel": channel_label(lead.source_channel),
        "note_max": NOTE_MAX,
    }


@login_required
@require_GET
def lead_detail(request: HttpRequest, lead_id: int) -> HttpResponse:
    lead = load_lead(lead_id)
    return render(request, "leads/detail.html", lead_page_context(request.user, lead))


@login_required
@require_POST
def lead_note(request: HttpRequest, lead_id: int) -> HttpResponse:
    """Add a note. With HTMX the answer is the fresh note box plus the new timeline entry
    (swapped in out of band at the top of the timeline); without, a redirect."""
    lead = load_lead(lead_id)
    body = request.POST.get("body", "")
    try:
        event = lead_note_add(lead=lead, actor=request.user, body=body)
    except (ApplicationError, PermissionDeniedError) as exc:
        # HTMX swaps only 2xx answers: the refusal shows in the box, the text is kept.
        if request.htmx:
            box = {"lead": lead, "note_error": exc.message, "note_body": body, "can_note": True}
            return render(request, "leads/_note_box.html", {**box, "note_max": NOTE_MAX})
        context = lead_page_context(request.user, lead)
        context.update(note_error=exc.message, note_body=body)
        return render(request, "leads/detail.html", context, status=exc.status)
    if request.htmx:
        return render(
            request,
            "leads/_note_added.html",
            {"lead": lead, "event": event_display(event), "note_max": NOTE_MAX, "can_note": True},
        )
    messages.success(request, "Note added.")
    return redirect(reverse("leads:detail", kwargs={"lead_id": lead.pk}) + "#timeline")
