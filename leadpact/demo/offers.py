"""The last three months of the hand-off: answered offers with their SLA clocks.

Each demo lead's journey already says when it was offered to which rep and when that rep
accepted it or turned it down (with a reason from the configured list). For the offers of the
last ~3 months this module writes what the hand-off would have recorded at the time: the
answered ``Offer`` rows, their response clocks (met, or breached when the rep answered late),
the first-contact clocks of the accepted leads (met, breached, still running, a few paused
while the rep waits on the prospect), and, for some late answers, the offer that expired first
and was re-offered to the rep who then answered. Deadlines and the stored business hours are
counted on the demo's own calendars, as the live services count them, so the compliance
report and the queue show believable numbers right after ``make run``.

Written in bulk (a few thousand rows in a few inserts); all randomness comes from its own
stream, so the rest of the world stays the same whatever is drawn here.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from leadpact.accounts.models import Role, User
from leadpact.common.bulk import bulk_insert
from leadpact.leads.models import LeadState, TimelineEvent
from leadpact.leads.services.timeline import timeline_events_bulk
from leadpact.routing.models import (
    Offer,
    RejectionReason,
    RepAvailability,
    SlaClock,
    SlaPolicy,
)
from leadpact.routing.services.clocks import PolicyBook

WINDOW_DAYS = 92
P_REOFFER_WHEN_LATE = 0.35  # a late answer was, some of the time, a re-offer after an expiry
P_PAUSED = 0.3  # open first-contact clocks the rep has paused, waiting on the prospect
CONTACT_MEDIAN_HOURS = 5.0  # business hours from acceptance to first contact (log-normal)
CONTACT_SIGMA = 0.9
PAUSE_REASONS = (
    "Waiting on the prospect: asked to be called back next week",
    "Prospect travelling, call booked for their return",
    "Waiting on the prospect's sales figures before the discovery call",
)

Kind = SlaPolicy.Kind
ClockStatus = SlaClock.Status


@dataclass
class OfferHistory:
    offers: int = 0
    accepted: int = 0
    rejected: int = 0
    expired: int = 0
    clocks_met: int = 0
    clocks_breached: int = 0
    clocks_running: int = 0
    clocks_paused: int = 0
    by_reason: dict[str, int] = field(default_factory=dict)


@dataclass
class _Answer:
    lead_id: int
    rep: User
    offered_at: datetime
    answered_at: datetime
    accepted: bool
    reason: str
    rule_name: str
    explanation: str
    contact_by: datetime | None  # the next step, before which the rep must have called


def _hours(duration: timedelta) -> float:
    return round(duration / timedelta(hours=1), 4)


class _History:
    def __init__(self, *, users: dict[str, User], now: datetime, seed: int) -> None:
        self.rng = random.Random(f"{seed}:offers")
        self.now = now
        self.book = PolicyBook()
        self.users = users
        self.reasons = {r.label: r for r in RejectionReason.objects.all()}
        self.team_reps: dict[int | None, list[User]] = {}
        for user in users.values():
            if user.role == Role.SALES_REP:
                self.team_reps.setdefault(user.team_id, []).append(user)
        self.weights = dict(RepAvailability.objects.values_list("rep_id", "weight"))
        self.summary = OfferHistory()
        self.offers: list[Offer] = []
        self.clocks: list[tuple[int, SlaClock]] = []  # (index into offers, clock)
        self.events: list[dict[str, Any]] = []

    # --- the clocks ------------------------------------------------------------------------
    def _calendar(self, kind: str, team_id: int | None) -> Any:
        policy = self.book.policy(kind, team_id)
        return None if policy is None else (policy, self.book.calendar(policy, team_id))

    def _response_clock(self, offer: Offer, answered: datetime | None) -> SlaClock | None:
        found = self._calendar(Kind.OFFER_RESPONSE, offer.team_id)
        if found is None:
            return None
        policy, calendar = found
        deadline, warn_at = self.book.deadline(policy, offer.team_id, offer.offered_at)
        clock = SlaClock(
            policy=policy,
            lead_id=offer.lead_id,
            rep_id=offer.rep_id,
            team_id=offer.team_id,
            started_at=offer.offered_at,
            deadline_at=deadline,
            warn_at=warn_at,
        )
        end = answered if answered is not None and answered <= deadline else deadline
        if warn_at <= end:
            clock.warned_at = warn_at
        clock.business_hours = _hours(calendar.between(offer.offered_at, end))
        if answered is not None and answered <= deadline:
            clock.status, clock.met_at = ClockStatus.MET, answered
            self.summary.clocks_met += 1
        else:
            clock.status, clock.breached_at, clock.escalated_at = (
                ClockStatus.BREACHED,
                deadline,
                deadline,
            )
            self.summary.clocks_breached += 1
        return clock

    def _contact_clock(self, answer: _Answer, offer: Offer) -> SlaClock | None:
        found = self._calendar(Kind.FIRST_CONTACT, offer.team_id)
        if found is None:
            return None
        policy, calendar = found
        start = answer.answered_at
        deadline, warn_at = self.book.deadline(policy, offer.team_id, start)
        clock = SlaClock(
            policy=policy,
            lead_id=offer.lead_id,
            rep_id=offer.rep_id,
            team_id=offer.team_id,
            started_at=start,
            deadline_at=deadline,
            warn_at=warn_at,
        )
        delay = timedelta(hours=CONTACT_MEDIAN_HOURS) * self.rng.lognormvariate(0, CONTACT_SIGMA)
        contact = calendar.add(start, delay)
        if answer.contact_by is not None:
            contact = min(contact, answer.contact_by)
        if contact <= min(deadline, self.now):
            clock.status, clock.met_at = ClockStatus.MET, contact
            clock.business_hours = _hours(calendar.between(start, contact))
            clock.warned_at = warn_at if warn_at <= contact else None
            self.summary.clocks_met += 1
        elif deadline <= self.now:
            clock.status, clock.breached_at, clock.escalated_at = (
                ClockStatus.BREACHED,
                deadline,
                deadline,
            )
            clock.warned_at = warn_at
            clock.business_hours = _hours(calendar.between(start, deadline))
            self.summary.clocks_breached += 1
        elif self.rng.random() < P_PAUSED:
            clock.status, clock.paused_at = ClockStatus.PAUSED, self.now
            clock.pause_reason = self.rng.choice(PAUSE_REASONS)
            clock.remaining = calendar.between(self.now, deadline)
            if warn_at > self.now:
                clock.warn_remaining = calendar.between(self.now, warn_at)
            else:
                clock.warned_at = warn_at
            self.summary.clocks_paused += 1
            self.events.append(
                {
                    "lead_id": offer.lead_id,
                    "kind": TimelineEvent.Kind.ROUTING,
                    "summary": f"SLA clock paused: {policy.name} ({clock.pause_reason}); "
                    f"{_hours(clock.remaining):.1f} business hours left",
                    "actor": answer.rep,
                    "data": {"action": "sla_pause", "reason": clock.pause_reason},
                    "occurred_at": self.now,
                }
            )
        else:
            clock.warned_at = warn_at if warn_at <= self.now else None
            self.summary.clocks_running += 1
        return clock

    # --- the offers ------------------------------------------------------------------------
    def add(self, answer: _Answer) -> None:
        team_id = answer.rep.team_id
        offered_at = answer.offered_at
        found = self._calendar(Kind.OFFER_RESPONSE, team_id)
        if found is not None:
            policy, _ = found
            deadline = self.book.deadline(policy, team_id, offered_at)[0]
            others = [r for r in self.team_reps.get(team_id, []) if r.pk != answer.rep.pk]
            if deadline < answer.answered_at and others and self.rng.random() < P_REOFFER_WHEN_LATE:
                weights = [self.weights.get(r.pk, 1) for r in others]
                first = self.rng.choices(others, weights=weights)[0]
                self._expired(answer, first, deadline)
                offered_at = deadline
        offer = Offer(
            lead_id=answer.lead_id,
            rep_id=answer.rep.pk,
            team_id=team_id,
            rule_name=answer.rule_name[:120],
            explanation=answer.explanation[:500],
            status=Offer.Status.ACCEPTED if answer.accepted else Offer.Status.REJECTED,
            offered_at=offered_at,
            expires_at=None
            if found is None
            else self.book.deadline(found[0], team_id, offered_at)[0],
            answered_at=answer.answered_at,
            decided_by_id=answer.rep.pk,
        )
        response_calendar = self.book.calendar(
            found[0] if found else SlaPolicy(kind=Kind.OFFER_RESPONSE), team_id
        )
        offer.answer_business_hours = _hours(
            response_calendar.between(offered_at, answer.answered_at)
        )
        if answer.accepted:
            self.summary.accepted += 1
        else:
            reason = self.reasons.get(answer.reason)
            offer.reason_id = reason.pk if reason else None
            offer.reason_text = answer.reason[:300]
            self.summary.rejected += 1
            self.summary.by_reason[answer.reason] = self.summary.by_reason.get(answer.reason, 0) + 1
        index = len(self.offers)
        self.offers.append(offer)
        response = self._response_clock(offer, answer.answered_at)
        if response is not None:
            self.clocks.append((index, response))
        if answer.accepted:
            contact = self._contact_clock(answer, offer)
            if contact is not None:
                self.clocks.append((index, contact))

    def _expired(self, answer: _Answer, first: User, deadline: datetime) -> None:
        offer = Offer(
            lead_id=answer.lead_id,
            rep_id=first.pk,
            team_id=first.team_id,
            rule_name=answer.rule_name[:120],
            explanation=f"round robin: {first.first_name or first.username} was next",
            status=Offer.Status.EXPIRED,
            offered_at=answer.offered_at,
            expires_at=deadline,
            answered_at=deadline,
        )
        index = len(self.offers)
        self.offers.append(offer)
        self.summary.expired += 1
        clock = self._response_clock(offer, None)
        if clock is not None:
            self.clocks.append((index, clock))
        self.events.append(
            {
                "lead_id": answer.lead_id,
                "kind": TimelineEvent.Kind.ROUTING,
                "summary": f"Offer to {first.get_full_name() or first.username} not answered "
                f"in time: re-offered to {answer.rep.get_full_name() or answer.rep.username}",
                "data": {"action": "reoffer", "from": first.pk, "to": answer.rep.pk},
                "occurred_at": deadline,
            }
        )

    def write(self) -> OfferHistory:
        created = Offer.objects.bulk_create(self.offers, batch_size=1000)
        bulk_insert(
            SlaClock,
            [
                {
                    f.attname: getattr(clock, f.attname)
                    for f in SlaClock._meta.concrete_fields
                    if not f.primary_key
                }
                | {"offer_id": created[index].pk}
                for index, clock in self.clocks
            ],
            batch_size=1000,
        )
        timeline_events_bulk(self.events, batch_size=1000)
        self.summary.offers = len(created)
        return self.summary


def _answers(
    steps: Sequence[Any],
    lead_id: int,
    *,
    users: dict[str, User],
    at: Callable[[float, bool], datetime],
    since: datetime,
) -> list[_Answer]:
    """The journey's (offered → accepted | rejected) pairs since ``since``; the step after an
    acceptance bounds when the rep must have made first contact."""
    found = []
    for i, step in enumerate(steps[:-1]):
        answer = steps[i + 1]
        if step.to != LeadState.OFFERED or step.owner not in users:
            continue
        rejected = answer.to == LeadState.RECYCLED and answer.data.get("rejected")
        if answer.to != LeadState.ACCEPTED and not rejected:
            continue
        offered_at = at(step.day, False)
        if offered_at < since:
            continue
        after = steps[i + 2] if i + 2 < len(steps) else None
        found.append(
            _Answer(
                lead_id=lead_id,
                rep=users[step.owner],
                offered_at=offered_at,
                answered_at=at(answer.day, True),
                accepted=answer.to == LeadState.ACCEPTED,
                reason=answer.reason,
                rule_name=step.data.get("rule", ""),
                explanation=step.reason,
                contact_by=at(after.day, after.actor is not None) if after is not None else None,
            )
        )
    return found


def demo_offer_history(
    prospects: Sequence[Any],
    lead_ids: Sequence[int],
    *,
    users: dict[str, User],
    now: datetime,
    seed: int,
    at: Callable[[Any, float, bool], datetime],
) -> OfferHistory:
    """Answered offers of the last ``WINDOW_DAYS`` days, with their clocks (see module doc)."""
    history = _History(users=users, now=now, seed=seed)
    since = now - timedelta(days=WINDOW_DAYS)
    for prospect, lead_id in zip(prospects, lead_ids, strict=True):
        for answer in _answers(
            prospect.journey.steps,
            lead_id,
            users=users,
            at=lambda day, human, p=prospect: at(p, day, human),
            since=since,
        ):
            history.add(answer)
    return history.write()
