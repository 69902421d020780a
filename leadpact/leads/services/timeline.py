"""Writing to a lead's timeline. Reads are in leads/selectors.py."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.utils import timezone

from leadpact.common.bulk import bulk_insert
from leadpact.leads.models import Lead, TimelineEvent

SUMMARY_MAX = 300
_KINDS = frozenset(TimelineEvent.Kind.values)


def timeline_event(
    *,
    lead: Lead,
    kind: str,
    summary: str,
    actor: Any = None,
    data: dict[str, Any] | None = None,
    body: str = "",
    occurred_at: datetime | None = None,
    touch_id: int | None = None,
) -> TimelineEvent:
    return TimelineEvent.objects.create(
        **_event_fields(lead.pk, kind, summary, actor, data, body, occurred_at, touch_id)
    )


def timeline_events_bulk(events: Iterable[dict[str, Any]], *, batch_size: int = 2000) -> int:
    """Insert many events at once; each dict has the keyword arguments of ``timeline_event``
    with ``lead_id`` instead of ``lead``."""
    rows = []
    for e in events:
        fields = _event_fields(
            e["lead_id"],
            e["kind"],
            e["summary"],
            e.get("actor"),
            e.get("data"),
            e.get("body", ""),
            e.get("occurred_at"),
            e.get("touch_id"),
        )
        actor = fields.pop("actor")
        fields["actor_id"] = actor.pk if actor is not None else None
        rows.append(fields)
    bulk_insert(TimelineEvent, rows, batch_size=batch_size)  # imports write 2 events a row
    return len(rows)


def _event_fields(
    lead_id: int,
    kind: str,
    summary: str,
    actor: Any,
    data: dict[str, Any] | None,
    body: str,
    occurred_at: datetime | None,
    touch_id: int | None,
) -> dict[str, Any]:
    if kind not in _KINDS:
        raise ValueError(f"unknown timeline event kind {kind!r}")
    return {
        "lead_id": lead_id,
        "kind": kind,
        "summary": summary[:SUMMARY_MAX],
        "actor": actor if getattr(actor, "pk", None) else None,
        "data": data or {},
        "body": body,
        "occurred_at": occurred_at or timezone.now(),
        "touch_id": touch_id,
    }
