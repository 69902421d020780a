"""The demo's quotas and targets, set from the history the demo just built so the quota page
and the forecast have something to measure against.

Per salesperson who owns deals: a monthly revenue quota for the last six months, this month
and the next, at a level drawn around their own average month (some reps beat it, some miss),
rounded to the hundred. Per sales team: this quarter's and last quarter's quota (the sum of
its members' months). Marketing: a monthly MQL target and a marketing-sourced pipeline target,
10% above its average month. Everything goes through ``quota_set`` like any other quota.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, date, datetime
from decimal import Decimal

from django.utils import timezone

from leadpact.accounts.models import Role, Team, User
from leadpact.leads.models import LeadState, TimelineEvent
from leadpact.pipeline.models import Deal, DealEvent, PeriodKind
from leadpact.pipeline.periods import Period, period_of
from leadpact.pipeline.services.quotas import quota_set

MONTHS_BACK = 6
STRETCH = (0.85, 1.0, 1.1, 1.25)  # per rep: the quota relative to their average month
MARKETING_STRETCH = 1.1
MIN_QUOTA = Decimal("1000")


def _months(now: datetime) -> list[Period]:
    current = period_of(PeriodKind.MONTH, timezone.localtime(now).date())
    months = [current]
    for _ in range(MONTHS_BACK):
        months.insert(0, months[0].previous())
    return [*months, current.next()]


def _key(moment: datetime) -> date:
    return timezone.localtime(moment).date().replace(day=1)


def _hundreds(value: float) -> Decimal:
    return Decimal(max(int(round(value, -2)), int(MIN_QUOTA)))


def demo_quotas(*, now: datetime, seed: str = "quotas") -> int:
    """Set the demo's quotas and targets; returns how many were set."""
    rng = random.Random(seed)
    months = _months(now)
    history = months[:-2]  # the six full months before this one
    first = datetime.combine(history[0].start, datetime.min.time(), tzinfo=UTC)
    currency = Deal.objects.values_list("currency", flat=True).order_by("currency").first() or "EUR"
    won: dict[int, dict[date, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for owner, amount, closed in Deal.objects.filter(
        status=Deal.Status.WON, closed_at__gte=first, currency=currency
    ).values_list("owner_id", "amount", "closed_at"):
        won[owner][_key(closed)] += amount
    people = list(
        User.objects.filter(role__in=[Role.SALES_REP, Role.SALES_MANAGER], is_active=True)
        .filter(deals__isnull=False)
        .distinct()
        .order_by("username")
    )
    written = 0
    monthly: dict[int, Decimal] = {}
    for person in people:
        average = sum(won[person.pk].get(m.start, Decimal(0)) for m in history) / len(history)
        monthly[person.pk] = _hundreds(float(average) * rng.choice(STRETCH))
        for month in months:
            quota_set(
                actor=None,
                kind="revenue",
                period=month,
                target=monthly[person.pk],
                currency=currency,
                rep=person,
            )
            written += 1
    quarter = period_of(PeriodKind.QUARTER, months[-2].start)
    for team in Team.objects.filter(kind=Team.Kind.SALES):
        members = [p for p in people if p.team_id == team.pk]
        if not members:
            continue
        for period in (quarter.previous(), quarter):
            quota_set(
                actor=None,
                kind="revenue",
                period=period,
                target=sum((monthly[p.pk] for p in members), Decimal(0)) * 3,
                currency=currency,
                team=team,
            )
            written += 1
    mqls: dict[date, set[int]] = defaultdict(set)
    for lead_id, at in TimelineEvent.objects.filter(
        kind=TimelineEvent.Kind.STATE_CHANGE, occurred_at__gte=first, data__to=LeadState.MQL
    ).values_list("lead_id", "occurred_at"):
        mqls[_key(at)].add(lead_id)
    sourced: dict[date, Decimal] = defaultdict(Decimal)
    for amount, at in DealEvent.objects.filter(
        kind=DealEvent.Kind.CREATED,
        occurred_at__gte=first,
        deal__lead__isnull=False,
        deal__currency=currency,
    ).values_list("deal__amount", "occurred_at"):
        sourced[_key(at)] += amount
    mql_target = round(sum(len(mqls[m.start]) for m in history) / len(history) * MARKETING_STRETCH)
    pipe_target = _hundreds(
        float(sum(sourced[m.start] for m in history)) / len(history) * MARKETING_STRETCH
    )
    for month in months:
        if mql_target > 0:
            quota_set(actor=None, kind="mqls", period=month, target=str(mql_target))
            written += 1
        quota_set(
            actor=None,
            kind="marketing_pipeline",
            period=month,
            target=pipe_target,
            currency=currency,
        )
        written += 1
    return written
