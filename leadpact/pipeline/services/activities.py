"""One-click activity logging and the next-step reminders that follow from it."""

from __future__ import annotations

from datetime import date, datetime

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from leadpact.accounts.models import User
from leadpact.common.errors import ApplicationError
from leadpact.leads.models import Lead
from leadpact.leads.policies import LeadAction, ensure_can_act
from leadpact.notifications.services import NotificationInput, notify
from leadpact.pipeline.models import Activity, Deal, DealEvent
from leadpact.pipeline.policies import ensure_can_edit
from leadpact.routing.services.clocks import first_contact_log

REMINDER_KIND = "next_step_due"


@transaction.atomic
def activity_log(
    *,
    actor: User | None,
    kind: str,
    outcome: str,
    deal: Deal | None = None,
    lead: Lead | None = None,
    note: str = "",
    next_step: str = "",
    next_step_due: date | None = None,
    occurred_at: datetime | None = None,
) -> Activity:
    """Record a call, e-mail or meeting on a deal (or a lead without one).

    Logging contact with an accepted lead meets its first-contact SLA clock; the deal's
    ``last_activity_at`` feeds the "no activity for N days" review (it is not an edit of the
    deal, so it does not bump the deal's version and interrupt someone's open form).
    """
    if deal is None and lead is None:
        raise ApplicationError("Log an activity on a deal or a lead.")
    if kind not in Activity.Kind.values:
        raise ApplicationError(
            f"Activity kind must be one of {', '.join(Activity.Kind.values)}.",
            extra={"kind": ["Unknown kind."]},
        )
    outcome = (outcome or "").strip()
    if not outcome:
        raise ApplicationError("Say what came of it.", extra={"outcome": ["Required."]})
    next_step = (next_step or "").strip()
    if next_step_due is not None and not next_step:
        raise ApplicationError(
            "A due date needs a next step.", extra={"next_step": ["Required with a due date."]}
        )
    if next_step_due is not None and next_step_due < timezone.localdate():
        raise ApplicationError(
            "The next step's due date is in the past.", extra={"next_step_due": ["In the past."]}
        )
    if deal is not None:
        ensure_can_edit(actor, deal)
        lead = lead or deal.lead
    elif lead is not None:
        ensure_can_act(actor, lead, LeadAction.WORK)
    now = timezone.now()
    activity = Activity.objects.create(
        deal=deal,
        lead=lead,
        kind=kind,
        outcome=outcome[:200],
        note=note.strip(),
        next_step=next_step[:200],
        next_step_due=next_step_due,
        actor=actor if getattr(actor, "pk", None) else None,
        occurred_at=occurred_at or now,
    )
    if deal is not None:
        Deal.objects.filter(pk=deal.pk).update(last_activity_at=now)
        summary = f"{activity.get_kind_display()}: {activity.outcome}"
        if next_step:
            summary += f" · next: {next_step}"
        DealEvent.objects.create(
            deal=deal,
            kind=DealEvent.Kind.ACTIVITY,
            summary=summary[:300],
            actor=activity.actor,
            data={"activity": activity.pk},
            occurred_at=activity.occurred_at,
        )
    if lead is not None:
        first_contact_log(lead_id=lead.pk, now=now)
    return activity


def next_steps_remind(*, today: date | None = None) -> int:
    """Notify the deal owner (else whoever logged it) of every next step due today or earlier.

    Each activity is claimed with a conditional UPDATE before its notification is written, so
    running twice, or on two workers at once, never sends a reminder twice.
    """
    today = today or timezone.localdate()
    now = timezone.now()
    due = list(
        Activity.objects.filter(reminded_at__isnull=True, next_step_due__lte=today)
        .select_related("deal")
        .values(
            "pk",
            "next_step",
            "next_step_due",
            "deal_id",
            "deal__name",
            "deal__owner_id",
            "actor_id",
            "lead_id",
        )[:5000]
    )
    items: list[NotificationInput] = []
    with transaction.atomic():
        claimed = set(
            Activity.objects.select_for_update(skip_locked=True)
            .filter(pk__in=[row["pk"] for row in due], reminded_at__isnull=True)
            .values_list("pk", flat=True)
        )
        Activity.objects.filter(pk__in=claimed).update(reminded_at=now)
        for row in due:
            user_id = row["deal__owner_id"] or row["actor_id"]
            if row["pk"] not in claimed or user_id is None:
                continue
            url = reverse("pipeline:deal", args=[row["deal_id"]]) if row["deal_id"] else ""
            about = f" ({row['deal__name']})" if row["deal_id"] else ""
            due = f"{row['next_step_due']:%Y-%m-%d}"
            items.append(
                NotificationInput(
                    user_id=user_id,
                    kind=REMINDER_KIND,
                    title=f"Next step due {due}: {row['next_step']}{about}",
                    url=url,
                    lead_id=row["lead_id"],
                )
            )
        notify(items)
    return len(items)
