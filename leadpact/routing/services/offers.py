"""Offer rows behind the lifecycle's hand-off transitions.

``leads.services.lifecycle.lead_offer / lead_accept / lead_reject`` move the lead and call
these, inside their transaction, so the API, the pages, routing and the sweep all share one
implementation. Answering is a conditional ``UPDATE … WHERE status = 'pending'``: of two
people answering the same offer at the same instant exactly one changes a row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from leadpact.common.errors import ApplicationError, ConflictError
from leadpact.notifications.services import NotificationInput, notify
from leadpact.routing.models import Offer, RejectionReason, RoutingRule, SlaClock, SlaPolicy
from leadpact.routing.services.clocks import ClockStart, PolicyBook, clocks_close, clocks_start

RESPONSE = (SlaPolicy.Kind.OFFER_RESPONSE,)


@dataclass(frozen=True)
class NewOffer:
    lead_id: int
    rep_id: int
    team_id: int | None
    rule_id: int | None = None
    rule_name: str = ""
    explanation: str = ""


def offers_create(
    new: Sequence[NewOffer],
    *,
    now: datetime | None = None,
    book: PolicyBook | None = None,
    lead_names: dict[int, str] | None = None,
) -> list[Offer]:
    """Insert pending offers, start their response clocks, tell each rep (bulk, any size).

    The caller has already moved the leads to *offered* under a claim.
    """
    if not new:
        return []
    now = now or timezone.now()
    book = book or PolicyBook()
    kind = SlaPolicy.Kind.OFFER_RESPONSE
    offers = Offer.objects.bulk_create(
        [
            Offer(
                lead_id=n.lead_id,
                rep_id=n.rep_id,
                team_id=n.team_id,
                rule_id=n.rule_id,
                rule_name=n.rule_name[:120],
                explanation=n.explanation[:500],
                offered_at=now,
                expires_at=book.expiry(kind, n.team_id, now),
            )
            for n in new
        ],
        batch_size=2000,
    )
    if any(o.pk is None for o in offers):  # backends without RETURNING on bulk insert
        by_lead = dict(
            Offer.objects.filter(
                lead_id__in=[n.lead_id for n in new], status=Offer.Status.PENDING
            ).values_list("lead_id", "pk")
        )
        for offer in offers:
            offer.pk = offer.id = by_lead[offer.lead_id]
    clocks_start(
        kind, [ClockStart(o.lead_id, o.pk, o.rep_id, o.team_id, now) for o in offers], book=book
    )
    _tell_reps(offers, lead_names or {})
    return offers


def _tell_reps(offers: Sequence[Offer], lead_names: dict[int, str]) -> None:
    """One notification per rep, however many leads they were just offered."""
    by_rep: dict[int, list[Offer]] = {}
    for offer in offers:
        by_rep.setdefault(offer.rep_id, []).append(offer)
    queue = reverse("routing:queue")
    items = []
    for rep_id, rep_offers in by_rep.items():
        if len(rep_offers) == 1:
            offer = rep_offers[0]
            name = lead_names.get(offer.lead_id, f"lead #{offer.lead_id}")
            title = f"New lead offered to you: {name}"
            lead_id: int | None = offer.lead_id
        else:
            title, lead_id = f"{len(rep_offers)} new leads offered to you", None
        due = min((o.expires_at for o in rep_offers if o.expires_at), default=None)
        body = f"Accept or reject by {due:%Y-%m-%d %H:%M} UTC." if due else ""
        items.append(NotificationInput(rep_id, "offer", title, body, queue, lead_id))
    notify(items, email=False)


def offers_withdraw(
    *,
    lead_ids: Sequence[int],
    actor: Any = None,
    status: str = Offer.Status.WITHDRAWN,
    now: datetime | None = None,
) -> list[int]:
    """End the pending offers of these leads (re-offer, expiry, rep deactivated)."""
    now = now or timezone.now()
    ids = list(
        Offer.objects.filter(lead_id__in=list(lead_ids), status=Offer.Status.PENDING).values_list(
            "pk", flat=True
        )
    )
    if not ids:
        return []
    Offer.objects.filter(pk__in=ids, status=Offer.Status.PENDING).update(
        status=status, answered_at=now, decided_by=actor if getattr(actor, "pk", None) else None
    )
    clocks_close(
        offer_ids=ids,
        kinds=RESPONSE,
        status=SlaClock.Status.CANCELLED
        if status == Offer.Status.WITHDRAWN
        else SlaClock.Status.BREACHED,
        now=now,
    )
    return ids


def offer_open(
    *,
    lead: Any,
    rep: Any,
    actor: Any,
    rule: RoutingRule | None = None,
    rule_name: str = "",
    team: Any = None,
    explanation: str = "",
) -> Offer:
    """One lead offered to one rep (a re-offer withdraws the pending one first)."""
    now = timezone.now()
    offers_withdraw(lead_ids=[lead.pk], actor=actor, now=now)
    team_id = team.pk if team is not None else rep.team_id
    new = NewOffer(
        lead_id=lead.pk,
        rep_id=rep.pk,
        team_id=team_id,
        rule_id=rule.pk if rule else None,
        rule_name=rule_name or (rule.name if rule else ""),
        explanation=explanation,
    )
    return offers_create([new], now=now, lead_names={lead.pk: str(lead)})[0]


def offer_pending_check(*, lead: Any, actor: Any) -> Offer | None:
    """The pending offer of ``lead``, or a clear error when ``actor`` is not its rep.

    ``None`` means the lead was offered before offers were recorded (old data): the lead's
    own state, checked under its row lock, is then the only guard.
    """
    pending = Offer.objects.filter(lead_id=lead.pk, status=Offer.Status.PENDING).first()
    if (
        pending is not None
        and actor is not None
        and actor.role == "sales_rep"
        and pending.rep_id != actor.pk
    ):
        raise ConflictError("This lead was offered to someone else.", code="not_yours")
    return pending


def offer_last_answer(*, lead_id: int) -> str:
    """ " (accepted by Ana at 10:02 UTC)": what happened to the lead's last answered offer."""
    last = (
        Offer.objects.filter(lead_id=lead_id, answered_at__isnull=False)
        .select_related("decided_by")
        .order_by("-answered_at", "-id")
        .first()
    )
    if last is None:
        return ""
    who = f" by {last.decided_by}" if last.decided_by else ""
    return f" (offer {last.get_status_display().lower()}{who} at {last.answered_at:%H:%M:%S} UTC)"


def offer_settle(
    *,
    offer: Offer | None,
    actor: Any,
    status: str,
    reason: RejectionReason | None = None,
    reason_text: str = "",
) -> None:
    """Answer the offer: exactly one concurrent caller wins the conditional update."""
    if offer is None:
        return
    now = timezone.now()
    changed = Offer.objects.filter(pk=offer.pk, status=Offer.Status.PENDING).update(
        status=status,
        answered_at=now,
        decided_by=actor if getattr(actor, "pk", None) else None,
        reason=reason,
        reason_text=reason_text[:300],
    )
    if changed != 1:
        raise ConflictError(
            "Someone answered this offer a moment before you.", code="already_answered"
        )
    ran = clocks_close(offer_ids=[offer.pk], kinds=RESPONSE, now=now)
    hours = ran[offer.pk] if offer.pk in ran else offer_answer_hours(offer=offer, now=now)
    Offer.objects.filter(pk=offer.pk).update(answer_business_hours=hours)
    if status == Offer.Status.ACCEPTED:
        clocks_start(
            SlaPolicy.Kind.FIRST_CONTACT,
            [ClockStart(offer.lead_id, offer.pk, offer.rep_id, offer.team_id, now)],
        )


def offer_answer_hours(*, offer: Offer, now: datetime, book: PolicyBook | None = None) -> float:
    """Business hours from offer to answer when no response clock ran (no policy applied):
    counted on the calendar a response clock of the offer's team would use."""
    book = book or PolicyBook()
    kind = SlaPolicy.Kind.OFFER_RESPONSE
    policy = book.policy(kind, offer.team_id) or SlaPolicy(kind=kind)
    calendar = book.calendar(policy, offer.team_id)
    return round(calendar.between(offer.offered_at, now) / timedelta(hours=1), 4)


def rejection_reason_resolve(reason: Any) -> tuple[RejectionReason | None, str]:
    """A ``RejectionReason``, its code or label, or free text → (configured reason, label).

    Free text is accepted when it matches no configured reason, so nothing a rep writes is
    lost; an empty reason is refused.
    """
    if isinstance(reason, RejectionReason):
        return reason, reason.label
    text = str(reason or "").strip()
    if not text:
        raise ApplicationError(
            "Say why you reject the lead: marketing learns from the reason.", code="reason_required"
        )
    found = RejectionReason.objects.filter(
        Q(code__iexact=text) | Q(label__iexact=text), is_active=True
    ).first()
    return (found, found.label) if found else (None, text[:300])
