"""The audit trail of the hand-off's set-up: what a change did, field by field, old → new.

SLA policies, business calendars, routing rules, rep availability, rejection reasons and the
qualification checklist share one trail (``RoutingChange``), written by ``routing_change_log``
in the transaction of the change itself, so a refused change leaves no trace and a change
never goes unrecorded.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from django.db.models import Model
from django.utils import timezone

from leadpact.routing.models import RoutingChange


def audit_value(value: Any) -> Any:
    """A value as the trail keeps it (JSON): related rows by name, moments as ISO text."""
    if value is None:
        return None
    if isinstance(value, Model):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def snapshot(row: Model | None, fields: Iterable[str]) -> dict[str, Any] | None:
    """The audited fields of ``row`` (None for a row that does not exist yet)."""
    if row is None:
        return None
    return {f: audit_value(getattr(row, f)) for f in fields}


def field_changes(before: dict[str, Any] | None, after: dict[str, Any]) -> dict[str, list[Any]]:
    """``{"field": [old, new]}`` for the fields that differ (every field for a new row)."""
    if before is None:
        return {f: [None, v] for f, v in after.items()}
    return {f: [before.get(f), v] for f, v in after.items() if before.get(f) != v}


def routing_change_log(
    *,
    subject: str,
    row: Model,
    action: str,
    actor: Any,
    before: dict[str, Any] | None = None,
    fields: Iterable[str] = (),
    after: dict[str, Any] | None = None,
) -> None:
    """Record a change to ``row``: its ``fields`` before and now (``after``, when what changed
    is another row than the one named, e.g. a rep's availability). An update that changed
    none of them leaves no entry; a creation, move or deletion always does."""
    changes = field_changes(before, after if after is not None else snapshot(row, fields) or {})
    if changes or action != RoutingChange.Action.UPDATED:
        RoutingChange.objects.create(
            subject=subject,
            object_id=row.pk,
            label=str(row)[:200],
            action=action,
            actor=actor if getattr(actor, "pk", None) else None,
            changed_at=timezone.now(),
            changes=changes,
        )
