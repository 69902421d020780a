from __future__ import annotations

from django.db import transaction

from leadpact.accounts.models import User
from leadpact.common.errors import ApplicationError
from leadpact.leads.models import Lead, TimelineEvent
from leadpact.leads.policies import LeadAction, ensure_can_act
from leadpact.leads.services.timeline import timeline_event

NOTE_MAX = 10_000


@transaction.atomic
def lead_note_add(*, lead: Lead, actor: User, body: str) -> TimelineEvent:
    ensure_can_act(actor, lead, LeadAction.NOTE)
    body = (body or "").strip()
    if not body:
        raise ApplicationError("A note cannot be empty.")
    if len(body) > NOTE_MAX:
        raise ApplicationError(f"A note is at most {NOTE_MAX:,} characters.")
    first_line = body.splitlines()[0]
    return timeline_event(
        lead=lead,
        kind=TimelineEvent.Kind.NOTE,
        summary=first_line[:120],
        body=body,
        actor=actor,
    )
