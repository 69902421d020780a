"""Reads for quotas and attainment: what each rep, team and marketing was asked for in a
period, and what they achieved.

``quota_attainment`` is the one call other pages use for a single rep, team or the company;
``attainment_board`` is the quota page (every rep and team the viewer may see, in a fixed
number of queries whatever their number). Both find a target by ``quota_resolve``: the quota
of exactly the period, else the scope's monthly quotas summed, else (a team) its members'.

What counts:

* revenue: deals won (``closed_at``) in the period, in the quota's currency, owned by the rep
  (or by a member of the team; the team's current members);
* MQLs: distinct leads that became marketing qualified in the period (their timeline's state
  change to ``mql``; a lead that did so twice counts once);
* marketing-sourced pipeline: the amount of deals opened from a lead (``Deal.lead``) in the
  period (the deal's creation on its timeline), in the target's currency.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from leadpact.accounts.models import Role, Team, User
from leadpact.accounts.roles import has_role
from leadpact.common.errors import ApplicationError
from leadpact.leads.models import LeadState, TimelineEvent
from leadpact.pipeline.models import Deal, DealEvent, PeriodKind, Quota
from leadpact.pipeline.periods import Period

DEFAULT_CURRENCY = "EUR"
CENT = Decimal("0.01")


def cents(value: Decimal | None) -> Decimal:
    """A sum of money as the database returns it (SQLite drops trailing zeros), to the cent."""
    return (value or Decimal("0")).quantize(CENT)


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """The period as [first instant, first instant after) in the current time zone."""
    if end < start:
        raise ApplicationError(
            f"The period ends ({end.isoformat()}) before it starts ({start.isoformat()}).",
            extra={"end": ["Before the start."]},
        )
    zone = timezone.get_current_timezone()
    return (
        datetime.combine(start, time.min, tzinfo=zone),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone),
    )


def won_deals(*, start: date, end: date, currency: str | None = None) -> QuerySet[Deal]:
    lo, hi = _bounds(start, end)
    qs = Deal.objects.filter(status=Deal.Status.WON, closed_at__gte=lo, closed_at__lt=hi)
    return qs.filter(currency=currency) if currency else qs


def mqls_in_period(*, start: date, end: date) -> int:
    """Distinct leads that became MQL in ``start``..``end`` (from the leads' timelines)."""
    lo, hi = _bounds(start, end)
    return (
        TimelineEvent.objects.filter(
            kind=TimelineEvent.Kind.STATE_CHANGE,
            occurred_at__gte=lo,
            occurred_at__lt=hi,
            data__to=LeadState.MQL,
        )
        .values("lead_id")
        .distinct()
        .count()
    )


def marketing_pipeline_in_period(*, start: date, end: date, currency: str) -> Decimal:
    """The amount of deals opened from marketing's leads in ``start``..``end``."""
    lo, hi = _bounds(start, end)
    total = DealEvent.objects.filter(
        kind=DealEvent.Kind.CREATED,
        occurred_at__gte=lo,
        occurred_at__lt=hi,
        deal__lead__isnull=False,
        deal__currency=currency,
    ).aggregate(total=Sum("deal__amount"))["total"]
    return cents(total)


@dataclass
class Attainment:
    kind: str
    label: str
    start: date
    end: date
    currency: str
    target: Decimal | None
    actual: Decimal
    quota: Quota | None = None
    rep: User | None = None
    team: Team | None = None
    left: bool = False  # the rep has left (inactive): shown as such
    target_source: str = ""  # "set", "sum of monthly quotas", "sum of reps' quotas" or ""

    @property
    def ratio(self) -> float | None:
        if self.target is None or self.target == 0:
            return None
        return float(self.actual / self.target)

    @property
    def percent(self) -> int | None:
        return None if self.ratio is None else round(self.ratio * 100)

    @property
    def gap(self) -> Decimal | None:
        return None if self.target is None else max(self.target - self.actual, Decimal("0"))

    @property
    def is_money(self) -> bool:
        return self.kind != Quota.Kind.MQLS


def _scope_filter(rep: User | None, team: Team | None) -> dict[str, Any]:
    if rep is not None and team is not None:
        raise ApplicationError("Attainment is for a rep, a team or the company, not both.")
    if rep is not None:
        return {"rep": rep}
    if team is not None:
        return {"team": team}
    return {"rep__isnull": True, "team__isnull": True}


@dataclass(frozen=True)
class ResolvedTarget:
    """A scope's target for a period and where it came from (``source``: "set", "sum of
    monthly quotas", "sum of reps' quotas" or "" when there is none)."""

    target: Decimal | None
    currency: str
    quota: Quota | None
    source: str


NO_TARGET = ResolvedTarget(None, "", None, "")


def quotas_inside(*, start: date, end: date, kind: str | None = None) -> list[Quota]:
    """Every quota of the period and of the months inside it (one query), as
    ``quota_resolve`` takes them; reps come with the quota (their team decides a team's sum)."""
    qs = Quota.objects.filter(start__gte=start, end__lte=end)
    if kind is not None:
        qs = qs.filter(kind=kind)
    return list(qs.select_related("rep", "team", "set_by").order_by("kind", "start", "id"))


def quota_resolve(
    quotas: list[Quota],
    *,
    kind: str,
    start: date,
    end: date,
    rep_id: int | None = None,
    team_id: int | None = None,
) -> ResolvedTarget:
    """The one rule for a scope's target in ``start``..``end`` (no query; ``quotas`` from
    ``quotas_inside``). The scope is a rep, a team, or the company (neither):

    1. the quota set for exactly that period;
    2. else the sum of the scope's monthly quotas inside the period (a quarter asked for by its
       months), when every month of the period has one and they share a currency (October
       alone is not a target for the quarter);
    3. else, for a team, the sum of its members' targets (each by rules 1-2; the quota's rep
       and their current team), when they share a currency.
    """
    own = [q for q in quotas if q.kind == kind and q.rep_id == rep_id and q.team_id == team_id]
    exact = next((q for q in own if q.start == start and q.end == end), None)
    if exact is not None:
        return ResolvedTarget(exact.target, exact.currency, exact, "set")
    months = [q for q in own if q.period_kind == PeriodKind.MONTH]
    span = (end.year - start.year) * 12 + end.month - start.month + 1
    if len({q.start for q in months}) == span and len({q.currency for q in months}) == 1:
        total = sum((q.target for q in months), Decimal("0"))
        return ResolvedTarget(total, months[0].currency, None, "sum of monthly quotas")
    if team_id is not None and rep_id is None:
        members = sorted(
            {q.rep_id for q in quotas if q.kind == kind and q.rep and q.rep.team_id == team_id}
        )
        found = [
            r
            for r in (
                quota_resolve(quotas, kind=kind, start=start, end=end, rep_id=m) for m in members
            )
            if r.target is not None
        ]
        if found and len({r.currency for r in found}) == 1:
            total = sum((r.target for r in found if r.target is not None), Decimal("0"))
            return ResolvedTarget(total, found[0].currency, None, "sum of reps' quotas")
    return NO_TARGET


def stored_quota(
    *,
    kind: str = Quota.Kind.REVENUE,
    start: date,
    end: date,
    rep: User | None = None,
    team: Team | None = None,
) -> tuple[Decimal | None, str, Quota | None, str]:
    """The stored target for the scope and ``start``..``end``: ``(target, currency, quota,
    source)``, by ``quota_resolve`` (one query)."""
    _scope_filter(rep, team)  # refuses a rep and a team together
    found = quota_resolve(
        quotas_inside(start=start, end=end, kind=kind),
        kind=kind,
        start=start,
        end=end,
        rep_id=rep.pk if rep is not None else None,
        team_id=team.pk if team is not None else None,
    )
    return found.target, found.currency, found.quota, found.source


def quota_attainment(
    *,
    user: User | None = None,
    team: Team | None = None,
    start: date,
    end: date,
    kind: str = Quota.Kind.REVENUE,
    currency: str | None = None,
) -> Attainment:
    """Attainment of a rep (``user``), a sales team (``team``) or the company (neither) for
    ``start``..``end``: the stored target (see ``stored_quota``) beside what was achieved.

    The currency is the quota's; without a quota, ``currency`` (default EUR). Permission is the
    caller's business (``quota_policies.can_view_rep`` / ``can_view_team``)."""
    _bounds(start, end)
    if kind not in Quota.Kind.values:
        raise ApplicationError(f"Unknown quota kind {kind!r}.")
    target, quota_currency, quota, source = stored_quota(
        kind=kind, start=start, end=end, rep=user, team=team
    )
    code = "" if kind == Quota.Kind.MQLS else (quota_currency or currency or DEFAULT_CURRENCY)
    if kind == Quota.Kind.REVENUE:
        qs = won_deals(start=start, end=end, currency=code)
        if user is not None:
            qs = qs.filter(owner=user)
        elif team is not None:
            qs = qs.filter(owner__team=team)
        actual = cents(qs.aggregate(total=Sum("amount"))["total"])
    elif kind == Quota.Kind.MQLS:
        actual = Decimal(mqls_in_period(start=start, end=end))
    else:
        actual = marketing_pipeline_in_period(start=start, end=end, currency=code)
    label = str(user or team or "Company")
    return Attainment(
        kind=kind,
        label=label,
        start=start,
        end=end,
        currency=code,
        target=target,
        actual=actual,
        quota=quota,
        rep=user,
        team=team,
        left=bool(user is not None and not user.is_active),
        target_source=source,
    )


@dataclass
class AttainmentBoard:
    period: Period
    currency: str
    reps: list[Attainment] = field(default_factory=list)
    teams: list[Attainment] = field(default_factory=list)
    marketing: list[Attainment] = field(default_factory=list)
    quotas: list[Quota] = field(default_factory=list)


def visible_sales_people(viewer: Any) -> tuple[QuerySet[User], QuerySet[Team]]:
    """The salespeople and sales teams whose numbers ``viewer`` may see."""
    people = User.objects.filter(role__in=[Role.SALES_REP, Role.SALES_MANAGER])
    teams = Team.objects.filter(kind=Team.Kind.SALES)
    if has_role(viewer, Role.ADMIN, Role.MARKETING):
        return people, teams
    if has_role(viewer, Role.SALES_MANAGER):
        # the teams ``manages_team`` allows: the ones they manage and their own
        teams = teams.filter(Q(manager=viewer) | Q(pk=viewer.team_id or 0))
        return people.filter(Q(pk=viewer.pk) | Q(team__in=teams)), teams
    if has_role(viewer, Role.SALES_REP):
        return people.filter(pk=viewer.pk), teams.none()
    return people.none(), teams.none()


def attainment_board(
    *, viewer: Any, period: Period, currency: str | None = None
) -> AttainmentBoard:
    """Every rep and team ``viewer`` may see with their revenue quota and attainment for
    ``period``, and marketing's targets. A fixed number of queries: people, teams, quotas,
    won revenue by rep and by team, MQLs, marketing pipeline.

    Reps listed: the active salespeople, and those who have left but had a quota or won a deal
    in the period (marked as left)."""
    start, end = period.start, period.end
    people_qs, teams_qs = visible_sales_people(viewer)
    inside = quotas_inside(start=start, end=end)
    quotas = [q for q in inside if q.start == start and q.end == end]
    main = currency or next((q.currency for q in quotas if q.currency), None) or DEFAULT_CURRENCY
    won = won_deals(start=start, end=end)
    by_rep = {
        (row["owner_id"], row["currency"]): row["total"]
        for row in won.filter(owner__in=people_qs)
        .values("owner_id", "currency")
        .annotate(total=Sum("amount"), n=Count("id"))
    }
    by_team = {
        (row["owner__team_id"], row["currency"]): row["total"]
        for row in won.filter(owner__team__in=teams_qs)
        .values("owner__team_id", "currency")
        .annotate(total=Sum("amount"), n=Count("id"))
    }

    def target(kind: str, rep_id: int | None = None, team_id: int | None = None) -> ResolvedTarget:
        return quota_resolve(
            inside, kind=kind, start=start, end=end, rep_id=rep_id, team_id=team_id
        )

    revenue = Quota.Kind.REVENUE
    with_quota = {q.rep_id for q in inside if q.kind == revenue and q.rep_id}
    people = [
        p
        for p in people_qs.select_related("team")
        if p.is_active or p.pk in with_quota or any(k[0] == p.pk for k in by_rep)
    ]
    board = AttainmentBoard(period=period, currency=main, quotas=quotas)
    for person in people:
        found = target(revenue, rep_id=person.pk)
        code = found.currency or main
        board.reps.append(
            Attainment(
                kind=revenue,
                label=str(person),
                start=start,
                end=end,
                currency=code,
                target=found.target,
                actual=cents(by_rep.get((person.pk, code))),
                quota=found.quota,
                rep=person,
                team=person.team,
                left=not person.is_active,
                target_source=found.source,
            )
        )
    for team in teams_qs:
        found = target(revenue, team_id=team.pk)
        code = found.currency or main
        board.teams.append(
            Attainment(
                kind=revenue,
                label=str(team),
                start=start,
                end=end,
                currency=code,
                target=found.target,
                actual=cents(by_team.get((team.pk, code))),
                quota=found.quota,
                team=team,
                target_source=found.source,
            )
        )
    mqls = target(Quota.Kind.MQLS)
    board.marketing.append(
        Attainment(
            kind=Quota.Kind.MQLS,
            label="MQLs",
            start=start,
            end=end,
            currency="",
            target=mqls.target,
            actual=Decimal(mqls_in_period(start=start, end=end)),
            quota=mqls.quota,
            target_source=mqls.source,
        )
    )
    pipe = target(Quota.Kind.MARKETING_PIPELINE)
    code = pipe.currency or main
    board.marketing.append(
        Attainment(
            kind=Quota.Kind.MARKETING_PIPELINE,
            label="Marketing-sourced pipeline",
            start=start,
            end=end,
            currency=code,
            target=pipe.target,
            actual=marketing_pipeline_in_period(start=start, end=end, currency=code),
            quota=pipe.quota,
            target_source=pipe.source,
        )
    )
    return board
