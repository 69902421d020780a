"""Accepted lead → SQL, once the rep has ticked the company's qualification checklist."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction

from leadpact.common.errors import ApplicationError
from leadpact.leads.models import Lead
from leadpact.leads.services.lifecycle import lead_qualify
from leadpact.routing.models import QualificationItem
from leadpact.routing.services.clocks import first_contact_log


def checklist() -> list[QualificationItem]:
    return list(QualificationItem.objects.filter(is_active=True).order_by("position", "id"))


@transaction.atomic
def lead_qualify_checked(*, lead: Lead, actor: Any, checked: Iterable[int], note: str = "") -> Lead:
    """Qualify ``lead`` (SQL) when every active checklist item is in ``checked``.

    The ticked list is written into the state change's note, so the lead's timeline shows
    what the rep confirmed. Qualifying implies the lead was contacted: its first-contact
    clock is met.
    """
    items = checklist()
    try:
        ticked = {int(i) for i in checked}
    except (TypeError, ValueError):
        raise ApplicationError("Checklist items are given by their numbers.") from None
    known = {item.pk for item in items}
    unknown = sorted(ticked - known)
    if unknown:
        raise ApplicationError(
            "Some ticked items are not on the checklist.", extra={"unknown": unknown}
        )
    missing = [item for item in items if item.pk not in ticked]
    if missing:
        raise ApplicationError(
            "Complete the qualification checklist first: "
            + ", ".join(item.label for item in missing)
            + ".",
            code="checklist_incomplete",
            extra={"missing": [item.pk for item in missing]},
        )
    lines = [f"✓ {item.label}" for item in items]
    text = "\n".join(lines)
    if note.strip():
        text = f"{text}\n{note.strip()}" if text else note.strip()
    qualified = lead_qualify(lead=lead, actor=actor, note=text)
    first_contact_log(lead_id=lead.pk)
    return qualified
