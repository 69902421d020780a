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

from django.utils import timezone

from leadpact.routing import business_time
from leadpact.routing.models import BusinessCalendar, SlaClock, SlaPolicy

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
    """The active policies and calendars, read once per operation (two queries)."""

    def __init__(self) -> None:
        self.policies = list(
            SlaPolicy.objects.filter(is_active=True).select_related("calendar").order_by("id")
        )
        self.team_calendars = {
            c.team_id: c for c in BusinessCalendar.objects.filter(team__isnull=False)
        }
        self._calendars: dict[int, business_time.BusinessCalendar] = {}
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
) -> int:
    """Stop the open clocks of these offers: met when answered, cancelled when withdrawn."""
    now = now or timezone.now()
    values: dict[str, object] = {"status": status}
    if status == SlaClock.Status.MET:
        values["met_at"] = now
    return SlaClock.objects.filter(
        offer_id__in=list(offer_ids), policy__kind__in=list(kinds), status__in=OPEN
    ).update(**values)


def first_contact_log(*, lead_id: int, now: datetime | None = None) -> int:
    """The first contact with an accepted lead happened: its first-contact clock is met.

    Whoever records contact (an activity, a call, the qualification checklist) calls this.
    """
    now = now or timezone.now()
    return SlaClock.objects.filter(
        lead_id=lead_id, policy__kind=SlaPolicy.Kind.FIRST_CONTACT, status__in=OPEN
    ).update(status=SlaClock.Status.MET, met_at=now)
