"""Starting and stopping SLA clocks. The sweep that acts on them is in ``sweep.py``.

Deadlines are counted in business time (``routing/business_time.py``) on the calendar of the
policy, else of the team, else Monday-Friday 9-17 UTC. Clocks are started in bulk: routing
10,000 leads at the same instant computes each (policy, team) deadline once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from leadpact.routing import business_time
from leadpact.routing.models import SlaClock, SlaPolicy
from leadpact.routing.setup import RoutingSetup, routing_setup

logger = logging.getLogger(__name__)

DEFAULT_CALENDAR = business_time.BusinessCalendar()
OPEN = (SlaClock.Status.RUNNING, SlaClock.Status.PAUSED)


@dataclass(frozen=True)
class ClockStart:
    lead_id: int | None
    offer_id: int | None
    rep_id: int | None
    team_id: int | None
    started_at: datetime


class PolicyBook:
    """The active policies and calendars, from the routing set-up (``routing/setup.py``, cached
    per process); deadlines are remembered for the book's life (one operation)."""

    def __init__(self, setup: RoutingSetup | None = None) -> None:
        setup = setup or routing_setup()
        self.policies = list(setup.policies)
        self.team_calendars = setup.team_calendars
        self._calendars = setup.built
        self._deadlines: dict[tuple[int, int | None, datetime], tuple[datetime, datetime]] = {}

    def policy(self, kind: str, team_id: int | None) -> SlaPolicy | None:
        """The team's own active policy of ``kind``, else the company-wide one."""
        fallback = None
        for policy in self.policies:
            if policy.kind != kind:
                continue
            if policy.team_id is not None and policy.team_id == team_id:
                return policy
            if policy.team_id is None and fallback is None:
                fallback = policy
        return fallback

    def calendar(self, policy: SlaPolicy, team_id: int | None) -> business_time.BusinessCalendar:
        model = policy.calendar or self.team_calendars.get(team_id)
        if model is None:
            return DEFAULT_CALENDAR
        if model.pk not in self._calendars:
            try:
                self._calendars[model.pk] = model.to_calendar()
            except (business_time.CalendarError, ValueError):
                logger.exception("calendar %s is unusable; counting on 9-17 UTC", model.pk)
                self._calendars[model.pk] = DEFAULT_CALENDAR
        return self._calendars[model.pk]

    def expiry(self, kind: str, team_id: int | None, start: datetime) -> datetime | None:
        """When a clock of ``kind`` started now would run out (None: no policy applies)."""
        policy = self.policy(kind, team_id)
        return None if policy is None else self.deadline(policy, team_id, start)[0]

    def deadline(
        self, policy: SlaPolicy, team_id: int | None, start: datetime
    ) -> tuple[datetime, datetime]:
        """``(deadline_at, warn_at)`` of a clock of ``policy`` started at ``start``."""
        key = (policy.pk, team_id, start)
        if key not in self._deadlines:
            calendar = self.calendar(policy, team_id)
            if policy.kind == SlaPolicy.Kind.FIRST_CONTACT:
                total = calendar.typical_day * policy.amount
            else:
                total = timedelta(hours=policy.amount)
            warn_after = max(total - timedelta(minutes=policy.warn_before_minutes), timedelta(0))
            self._deadlines[key] = (calendar.add(start, total), calendar.add(start, warn_after))
        return self._deadlines[key]


def clocks_start(
    kind: str, starts: Sequence[ClockStart], *, book: PolicyBook | None = None
) -> dict[int, datetime]:
    """Start a clock of ``kind`` for each start that a policy covers; safe to repeat.

    Returns ``{offer_id: deadline}`` so callers can show when an offer expires.
    """
    if not starts:
        return {}
    book = book or PolicyBook()
    rows = []
    deadlines: dict[int, datetime] = {}
    for start in starts:
        policy = book.policy(kind, start.team_id)
        if policy is None:
            continue
        deadline, warn_at = book.deadline(policy, start.team_id, start.started_at)
        rows.append(
            SlaClock(
                policy=policy,
                lead_id=start.lead_id,
                offer_id=start.offer_id,
                rep_id=start.rep_id,
                team_id=start.team_id,
                started_at=start.started_at,
                deadline_at=deadline,
                warn_at=warn_at,
            )
        )
        if start.offer_id is not None:
            deadlines[start.offer_id] = deadline
    SlaClock.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
    return deadlines


def clocks_close(
    *,
    offer_ids: Iterable[int],
    kinds: Iterable[str],
    status: str = SlaClock.Status.MET,
    now: datetime | None = None,
) -> dict[int, float]:
    """Stop the open clocks of these offers: met when answered, cancelled when withdrawn.

    Returns ``{offer_id: business hours the clock ran}`` of the clocks met or breached.
    """
    now = now or timezone.now()
    due = SlaClock.objects.filter(
        offer_id__in=list(offer_ids), policy__kind__in=list(kinds), status__in=OPEN
    )
    hours = clocks_stop(due, status=status, now=now)
    return {offer_id: h for offer_id, h in hours.values() if offer_id is not None}


def first_contact_log(*, lead_id: int, now: datetime | None = None) -> int:
    """The first contact with an accepted lead happened: its first-contact clock is met.

    Whoever records contact (an activity, a call, the qualification checklist) calls this.
    """
    now = now or timezone.now()
    due = SlaClock.objects.filter(
        lead_id=lead_id, policy__kind=SlaPolicy.Kind.FIRST_CONTACT, status__in=OPEN
    )
    return len(clocks_stop(due, status=SlaClock.Status.MET, now=now))


_STOP_FIELDS = (
    "pk",
    "offer_id",
    "policy_id",
    "team_id",
    "status",
    "started_at",
    "paused_at",
    "paused_total",
)


@transaction.atomic
def clocks_stop(
    due: QuerySet[SlaClock], *, status: str, now: datetime
) -> dict[int, tuple[int | None, float | None]]:
    """Close the open clocks of ``due`` as ``status`` and store how long each ran.

    The rows are locked first (a sweeper claiming them with SKIP LOCKED passes them by) and
    changed with a conditional update, so a clock is closed once. Met and breached clocks keep
    the business hours they ran, counted on the calendar valid now, so that a later change of
    a calendar does not rewrite the compliance of past months.
    Returns ``{clock_id: (offer_id, hours)}``.
    """
    rows = list(due.select_for_update(of=("self",)).values(*_STOP_FIELDS))
    if not rows:
        return {}
    values: dict[str, object] = {"status": status}
    if status == SlaClock.Status.MET:
        values["met_at"] = now
    elif status == SlaClock.Status.BREACHED:
        values["breached_at"] = now
    SlaClock.objects.filter(pk__in=[r["pk"] for r in rows], status__in=OPEN).update(**values)
    if status not in (SlaClock.Status.MET, SlaClock.Status.BREACHED):
        return {r["pk"]: (r["offer_id"], None) for r in rows}
    hours = ElapsedCounter().hours(rows, now)
    clocks_hours_store(hours)
    return {r["pk"]: (r["offer_id"], hours[r["pk"]]) for r in rows}


class ElapsedCounter:
    """Business hours that clocks ran, each on its policy's (or team's) calendar.

    A paused clock stopped counting when it was paused; time spent in earlier pauses
    (``paused_total``) is left out. Calendars are built once per (policy, team).
    """

    def __init__(self, book: PolicyBook | None = None) -> None:
        self.book = book or PolicyBook()
        self._policies: dict[int, SlaPolicy] = {p.pk: p for p in self.book.policies}

    def _policy(self, policy_id: int) -> SlaPolicy:
        if policy_id not in self._policies:
            self._policies[policy_id] = SlaPolicy.objects.select_related("calendar").get(
                pk=policy_id
            )
        return self._policies[policy_id]

    def calendar(self, policy_id: int, team_id: int | None) -> business_time.BusinessCalendar:
        return self.book.calendar(self._policy(policy_id), team_id)

    def hours(self, rows: Sequence[dict[str, Any]], end: datetime) -> dict[int, float]:
        missing = {r["policy_id"] for r in rows} - set(self._policies)
        if missing:
            self._policies.update(
                SlaPolicy.objects.select_related("calendar").in_bulk(list(missing))
            )
        result = {}
        for row in rows:
            stop = row["paused_at"] if row["status"] == SlaClock.Status.PAUSED else end
            stop = max(stop or end, row["started_at"])
            ran = self.calendar(row["policy_id"], row["team_id"]).between(row["started_at"], stop)
            ran -= row.get("paused_total") or timedelta(0)
            result[row["pk"]] = round(max(ran, timedelta(0)) / timedelta(hours=1), 4)
        return result


def clocks_hours_store(hours: dict[int, float]) -> None:
    if hours:
        SlaClock.objects.bulk_update(
            [SlaClock(pk=pk, business_hours=h) for pk, h in hours.items()],
            ["business_hours"],
            batch_size=1000,
        )
