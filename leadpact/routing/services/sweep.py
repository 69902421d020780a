"""The SLA sweep: warn before a deadline, act at it, escalate as the policy says.

Runs every minute (Celery beat, or the in-process loop of ``leadpact sla_sweep --loop``).
Each action happens once, however often and however many workers run it: due clocks are
claimed with ``SELECT … FOR UPDATE SKIP LOCKED`` and marked (``warned_at`` / ``status``) in the
same transaction, so a second sweeper either skips them or no longer finds them due. On SQLite
write transactions are serialised, which gives the same guarantee.

Only due clocks are read, through the ``(status, warn_at)`` and ``(status, deadline_at)``
indexes, so the cost follows the number of clocks due, not the million that are running.
Paused clocks (``services/pauses.py``) are not running, so the sweep neither warns nor breaches
them; resuming gives them a new deadline from the business time they had left.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from leadpact.accounts.models import Role, Team, User
from leadpact.leads.models import Lead
from leadpact.leads.services.lifecycle import leads_unoffer_bulk
from leadpact.notifications.services import NotificationInput, notify
from leadpact.routing.models import Offer, SlaClock, SlaPolicy
from leadpact.routing.services.clocks import ElapsedCounter, PolicyBook, clocks_hours_store
from leadpact.routing.services.offers import offers_withdraw
from leadpact.routing.services.router import leads_route

BATCH = 5000
MAX_BATCHES = 200  # a runaway backlog is worked off over several sweeps, not one endless one


@dataclass
class SweepResult:
    warned: int = 0
    breached: int = 0
    escalated: int = 0
    reoffered: int = 0
    delivery_met: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


_FIELDS = (
    "pk",
    "policy_id",
    "lead_id",
    "offer_id",
    "rep_id",
    "team_id",
    "deadline_at",
    "started_at",
    "paused_total",
)


def _claim(due: Any, batch: int) -> list[dict[str, Any]]:
    return list(
        due.select_for_update(skip_locked=True, of=("self",))
        .order_by("deadline_at", "id")
        .values(*_FIELDS)[:batch]
    )


def sla_sweep(*, now: datetime | None = None, batch: int = BATCH) -> SweepResult:
    """One pass: MQL-delivery clocks are opened/met, then warnings, then breaches."""
    now = now or timezone.now()
    result = SweepResult()
    result.delivery_met = delivery_clocks_update(now=now)
    for _ in range(MAX_BATCHES):
        warned = _warn_batch(now, batch)
        result.warned += warned
        if warned < batch:
            break
    for _ in range(MAX_BATCHES):
        breached, escalated, reoffered = _breach_batch(now, batch)
        result.breached += breached
        result.escalated += escalated
        result.reoffered += reoffered
        if breached < batch:
            break
    return result


class _Audience:
    """Who hears about a clock: its rep; the team manager; marketing for MQL delivery."""

    def __init__(self) -> None:
        self.managers = dict(Team.objects.values_list("pk", "manager_id"))
        self._marketing: list[int] | None = None

    @property
    def marketing(self) -> list[int]:
        if self._marketing is None:
            self._marketing = list(
                User.objects.filter(is_active=True, role=Role.MARKETING).values_list(
                    "pk", flat=True
                )
            )
        return self._marketing

    def for_clock(self, clock: dict[str, Any], policy: SlaPolicy, *, escalate: bool) -> set[int]:
        people: set[int] = set()
        if clock["rep_id"]:
            people.add(clock["rep_id"])
        manager = self.managers.get(clock["team_id"])
        if manager and (escalate or not clock["rep_id"]):
            people.add(manager)
        if policy.kind == SlaPolicy.Kind.MQL_DELIVERY:
            people.update(self.marketing)
        return people


def _lead_names(lead_ids: Iterable[int]) -> dict[int, str]:
    rows = Lead.objects.filter(pk__in=[i for i in lead_ids if i]).values_list(
        "pk", "first_name", "last_name", "email"
    )
    return {
        pk: f"{first} {last}".strip() or email or f"lead #{pk}" for pk, first, last, email in rows
    }


def _subject(clock: dict[str, Any], policy: SlaPolicy, names: dict[int, str], teams: dict) -> str:
    if clock["lead_id"]:
        return names.get(clock["lead_id"], f"lead #{clock['lead_id']}")
    return f"team {teams.get(clock['team_id'], '?')}"


@transaction.atomic
def _warn_batch(now: datetime, batch: int) -> int:
    due = SlaClock.objects.filter(
        status=SlaClock.Status.RUNNING,
        warn_at__lte=now,
        warned_at__isnull=True,
        deadline_at__gt=now,
    )
    clocks = _claim(due, batch)
    if not clocks:
        return 0
    SlaClock.objects.filter(pk__in=[c["pk"] for c in clocks], warned_at__isnull=True).update(
        warned_at=now
    )
    policies = SlaPolicy.objects.in_bulk({c["policy_id"] for c in clocks})
    names = _lead_names(c["lead_id"] for c in clocks)
    teams = dict(Team.objects.values_list("pk", "name"))
    audience = _Audience()
    queue = reverse("routing:queue")
    items = []
    for clock in clocks:
        policy = policies[clock["policy_id"]]
        subject = _subject(clock, policy, names, teams)
        title = f"SLA due soon: {policy.name} for {subject}"
        body = f"Due {clock['deadline_at']:%Y-%m-%d %H:%M} UTC ({policy.get_kind_display()})."
        for user_id in audience.for_clock(clock, policy, escalate=False):
            items.append(
                NotificationInput(user_id, "sla_warning", title, body, queue, clock["lead_id"])
            )
    notify(items)
    return len(clocks)


@transaction.atomic
def _breach_batch(now: datetime, batch: int) -> tuple[int, int, int]:
    due = SlaClock.objects.filter(status=SlaClock.Status.RUNNING, deadline_at__lte=now)
    clocks = _claim(due, batch)
    if not clocks:
        return 0, 0, 0
    ids = [c["pk"] for c in clocks]
    SlaClock.objects.filter(pk__in=ids, status=SlaClock.Status.RUNNING).update(
        status=SlaClock.Status.BREACHED, breached_at=now
    )
    policies = SlaPolicy.objects.in_bulk({c["policy_id"] for c in clocks})
    timed = [
        {**c, "status": SlaClock.Status.RUNNING, "paused_at": None}
        for c in clocks
        if policies[c["policy_id"]].kind != SlaPolicy.Kind.MQL_DELIVERY
    ]
    if timed:
        clocks_hours_store(ElapsedCounter().hours(timed, now))
    names = _lead_names(c["lead_id"] for c in clocks)
    teams = dict(Team.objects.values_list("pk", "name"))
    audience = _Audience()
    items = []
    escalated_ids = []
    reoffer_leads = []
    for clock in clocks:
        policy = policies[clock["policy_id"]]
        escalate = policy.escalation != SlaPolicy.Escalation.NONE
        if escalate:
            escalated_ids.append(clock["pk"])
        if (
            policy.reoffers
            and policy.kind == SlaPolicy.Kind.OFFER_RESPONSE
            and clock["lead_id"] is not None
        ):
            reoffer_leads.append(clock["lead_id"])
        subject = _subject(clock, policy, names, teams)
        title = f"SLA breached: {policy.name} for {subject}"
        body = f"The deadline was {clock['deadline_at']:%Y-%m-%d %H:%M} UTC."
        if policy.reoffers and policy.kind == SlaPolicy.Kind.OFFER_RESPONSE:
            body += " The lead is offered to the next rep."
        for user_id in audience.for_clock(clock, policy, escalate=policy.notifies_manager):
            items.append(
                NotificationInput(user_id, "sla_breach", title, body, "", clock["lead_id"])
            )
    if escalated_ids:
        SlaClock.objects.filter(pk__in=escalated_ids, escalated_at__isnull=True).update(
            escalated_at=now
        )
    notify(items)
    reoffered = _reoffer(reoffer_leads, now) if reoffer_leads else 0
    return len(clocks), len(escalated_ids), reoffered


def _reoffer(lead_ids: list[int], now: datetime) -> int:
    """Expire the unanswered offers and route the leads again, never to a rep who had them."""
    offers_withdraw(lead_ids=lead_ids, status=Offer.Status.EXPIRED, now=now)
    back = leads_unoffer_bulk(
        lead_ids, actor=None, reason="offer not answered in time: re-offered", now=now
    )
    if not back:
        return 0
    had: dict[int, set[int]] = defaultdict(set)
    for lead_id, rep_id in Offer.objects.filter(lead_id__in=back).values_list("lead_id", "rep_id"):
        had[lead_id].add(rep_id)
    return len(leads_route(lead_ids=back, exclude=had, now=now).offered)


def _month_start(now: datetime, zone: ZoneInfo) -> tuple[date, datetime, datetime]:
    local = now.astimezone(zone)
    first = local.date().replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    start = datetime.combine(first, datetime.min.time(), tzinfo=zone)
    end = datetime.combine(following, datetime.min.time(), tzinfo=zone)
    return first, start, end


@transaction.atomic
def delivery_clocks_update(*, now: datetime) -> int:
    """Open this month's MQL-delivery clock per team and mark it met once enough MQLs came.

    An MQL counts as delivered to a team when it is offered to one of the team's reps.
    Returns how many clocks were met in this pass.
    """
    book = PolicyBook()
    policies = [p for p in book.policies if p.kind == SlaPolicy.Kind.MQL_DELIVERY]
    if not policies:
        return 0
    sales_teams = list(Team.objects.filter(kind=Team.Kind.SALES).values_list("pk", flat=True))
    met = 0
    for policy in policies:
        teams = [t for t in sales_teams if book.policy(policy.kind, t) == policy]
        if not teams:
            continue
        zone = book.calendar(policy, teams[0]).zone
        period, start, end = _month_start(now, zone)
        warn_at = end - timedelta(minutes=policy.warn_before_minutes)
        SlaClock.objects.bulk_create(
            [
                SlaClock(
                    policy=policy,
                    team_id=team_id,
                    period=period,
                    started_at=start,
                    deadline_at=end,
                    warn_at=warn_at,
                )
                for team_id in teams
            ],
            ignore_conflicts=True,
        )
        delivered = (
            Offer.objects.filter(team_id__in=teams, offered_at__gte=start, offered_at__lt=end)
            .values("team_id")
            .annotate(n=Count("lead_id", distinct=True))
            .filter(n__gte=policy.amount)
            .values_list("team_id", flat=True)
        )
        met += SlaClock.objects.filter(
            policy=policy,
            period=period,
            team_id__in=list(delivered),
            status=SlaClock.Status.RUNNING,
        ).update(status=SlaClock.Status.MET, met_at=now)
    return met
