"""Quotas and targets: periods, setting them (who may, bad input, a rep who left, updating an
existing one) and attainment (won revenue, MQLs, marketing-sourced pipeline)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from leadpact.accounts.models import Role
from leadpact.common.errors import ApplicationError
from leadpact.factories import LeadFactory, TeamFactory, UserFactory
from leadpact.leads.models import LeadState
from leadpact.leads.services.lifecycle import lead_mark_mql
from leadpact.pipeline.models import PeriodKind, Quota
from leadpact.pipeline.periods import period_from_dates, period_of, period_parse
from leadpact.pipeline.quota_selectors import attainment_board, quota_attainment
from leadpact.pipeline.services.deals import DealInput, deal_create, deal_move
from leadpact.pipeline.services.quotas import quota_delete, quota_set

TODAY = dt.date(2026, 11, 15)


def this_month():
    return period_of(PeriodKind.MONTH, timezone.localdate())


def win(deal, rep, pipeline):
    return deal_move(
        deal=deal,
        actor=rep,
        stage=pipeline.stages.get(kind="won"),
        version=deal.version,
        confirmed=[c for s in pipeline.stages.all() for c in s.exit_criteria],
    )


# --- periods -------------------------------------------------------------------------------------


def test_periods_parse_months_and_quarters():
    nov = period_parse("2026-11")
    assert (nov.kind, nov.start, nov.end, nov.label) == (
        "month",
        dt.date(2026, 11, 1),
        dt.date(2026, 11, 30),
        "2026-11",
    )
    q4 = period_parse("2026-q4")
    assert (q4.start, q4.end, q4.label) == (dt.date(2026, 10, 1), dt.date(2026, 12, 31), "2026-Q4")
    assert period_parse("2024-02").end == dt.date(2024, 2, 29)
    assert q4.next().label == "2027-Q1" and nov.previous().label == "2026-10"
    assert period_from_dates(dt.date(2026, 7, 1), dt.date(2026, 9, 30)).kind == "quarter"
    for bad in ("2026-13", "2026-Q5", "November", "", "2026/11"):
        with pytest.raises(ApplicationError, match="month like 2026-11"):
            period_parse(bad)
    with pytest.raises(ApplicationError, match=r"ends .* before it starts"):
        period_from_dates(dt.date(2026, 11, 30), dt.date(2026, 11, 1))
    with pytest.raises(ApplicationError, match="not a calendar month or quarter"):
        period_from_dates(dt.date(2026, 11, 2), dt.date(2026, 11, 30))


# --- setting quotas ------------------------------------------------------------------------------


def test_manager_sets_and_updates_a_rep_quota(users):
    rep, manager = users["sales_rep"], users["sales_manager"]
    period = period_parse("2026-11")
    first = quota_set(
        actor=manager, kind="revenue", period=period, target="50000", currency="eur", rep=rep
    )
    assert first.created and first.quota.target == Decimal("50000.00")
    assert first.quota.currency == "EUR" and first.quota.set_by == manager
    again = quota_set(
        actor=users["admin"],
        kind="revenue",
        period=period,
        target="60000.50",
        currency="EUR",
        rep=rep,
    )
    assert not again.created and again.quota.pk == first.quota.pk
    assert Quota.objects.get().target == Decimal("60000.50")
    assert Quota.objects.get().set_by == users["admin"]
    # A quarter quota for the same rep coexists with the month's.
    quarter = quota_set(
        actor=manager,
        kind="revenue",
        period=period_parse("2026-Q4"),
        target="150000",
        currency="EUR",
        rep=rep,
    )
    assert quarter.created and Quota.objects.count() == 2


def test_team_quota(users, sales_team):
    result = quota_set(
        actor=users["sales_manager"],
        kind="revenue",
        period=period_parse("2026-11"),
        target="100000",
        currency="EUR",
        team=sales_team,
    )
    assert result.quota.team == sales_team and result.quota.rep is None
    marketing_team = TeamFactory(name="Brand", kind="marketing")
    with pytest.raises(ApplicationError, match="not a sales team"):
        quota_set(
            actor=users["admin"],
            kind="revenue",
            period=period_parse("2026-11"),
            target="1",
            currency="EUR",
            team=marketing_team,
        )


@pytest.mark.parametrize(
    ("target", "currency", "message"),
    [
        ("-100", "EUR", "can't be negative"),
        ("abc", "EUR", "must be a number"),
        ("100.001", "EUR", "more than 2 decimal places"),
        ("100", "EURO", "not an ISO 4217 currency"),
        ("100", "", "not an ISO 4217 currency"),
        ("NaN", "EUR", "finite"),
    ],
)
def test_bad_revenue_quotas_are_refused(users, target, currency, message):
    with pytest.raises(ApplicationError, match=message):
        quota_set(
            actor=users["sales_manager"],
            kind="revenue",
            period=period_parse("2026-11"),
            target=target,
            currency=currency,
            rep=users["sales_rep"],
        )
    assert not Quota.objects.exists()


def test_float_target_is_refused(users):
    with pytest.raises(ApplicationError, match="not a float"):
        quota_set(
            actor=users["admin"],
            kind="revenue",
            period=period_parse("2026-11"),
            target=100.5,
            currency="EUR",
            rep=users["sales_rep"],
        )


def test_scope_must_be_one_rep_or_one_team(users, sales_team):
    for rep, team in ((None, None), (users["sales_rep"], sales_team)):
        with pytest.raises(ApplicationError, match="choose exactly one"):
            quota_set(
                actor=users["admin"],
                kind="revenue",
                period=period_parse("2026-11"),
                target="1",
                currency="EUR",
                rep=rep,
                team=team,
            )
    with pytest.raises(ApplicationError, match="not a salesperson"):
        quota_set(
            actor=users["admin"],
            kind="revenue",
            period=period_parse("2026-11"),
            target="1",
            currency="EUR",
            rep=users["marketing"],
        )
    with pytest.raises(ApplicationError, match="A quota is one of"):
        quota_set(actor=users["admin"], kind="profit", period=period_parse("2026-11"), target="1")


def test_a_rep_who_left_gets_no_new_quota_but_keeps_the_old(users):
    rep = users["sales_rep"]
    period = this_month()
    quota_set(
        actor=users["admin"], kind="revenue", period=period, target="1000", currency="EUR", rep=rep
    )
    rep.is_active = False
    rep.save()
    with pytest.raises(ApplicationError, match="has left") as err:
        quota_set(
            actor=users["admin"],
            kind="revenue",
            period=period.next(),
            target="1000",
            currency="EUR",
            rep=rep,
        )
    assert err.value.code == "rep_left"
    assert Quota.objects.count() == 1
    board = attainment_board(viewer=users["admin"], period=period)
    row = next(r for r in board.reps if r.rep == rep)
    assert row.left and row.target == Decimal("1000.00")
    assert quota_attainment(user=rep, start=period.start, end=period.end).left


def test_who_may_set_sales_quotas(users):
    period = period_parse("2026-11")
    outsider = UserFactory(username="far", role=Role.SALES_REP, team=TeamFactory(name="West"))
    for actor in ("marketing", "sales_rep", "other_rep"):
        with pytest.raises(PermissionDenied):
            quota_set(
                actor=users[actor],
                kind="revenue",
                period=period,
                target="1",
                currency="EUR",
                rep=users["sales_rep"],
            )
    with pytest.raises(PermissionDenied):  # a manager sets quotas for their own teams only
        quota_set(
            actor=users["sales_manager"],
            kind="revenue",
            period=period,
            target="1",
            currency="EUR",
            rep=outsider,
        )
    quota_set(
        actor=users["admin"],
        kind="revenue",
        period=period,
        target="1",
        currency="EUR",
        rep=outsider,
    )
    assert not Quota.objects.filter(set_by__role__in=["marketing", "sales_rep"]).exists()


def test_marketing_targets(users):
    period = period_parse("2026-11")
    mqls = quota_set(actor=users["marketing"], kind="mqls", period=period, target="250")
    assert mqls.quota.target == Decimal("250.00") and mqls.quota.currency == ""
    pipe = quota_set(
        actor=users["admin"],
        kind="marketing_pipeline",
        period=period,
        target="400000",
        currency="EUR",
    )
    assert pipe.quota.currency == "EUR"
    with pytest.raises(ApplicationError, match="no currency"):
        quota_set(actor=users["marketing"], kind="mqls", period=period, target="5", currency="EUR")
    with pytest.raises(ApplicationError, match="whole number"):
        quota_set(actor=users["marketing"], kind="mqls", period=period, target="2.5")
    with pytest.raises(ApplicationError, match="can't be negative"):
        quota_set(actor=users["marketing"], kind="mqls", period=period, target="-1")
    with pytest.raises(ApplicationError, match="company-wide"):
        quota_set(
            actor=users["marketing"],
            kind="mqls",
            period=period,
            target="5",
            rep=users["sales_rep"],
        )
    with pytest.raises(ApplicationError, match="ISO 4217"):
        quota_set(
            actor=users["marketing"],
            kind="marketing_pipeline",
            period=period,
            target="5",
            currency="XXX1",
        )
    for actor in ("sales_manager", "sales_rep"):
        with pytest.raises(PermissionDenied):
            quota_set(actor=users[actor], kind="mqls", period=period, target="5")
    with pytest.raises(PermissionDenied):
        quota_delete(actor=users["sales_manager"], quota=mqls.quota)
    quota_delete(actor=users["marketing"], quota=mqls.quota)
    assert not Quota.objects.filter(kind="mqls").exists()


# --- attainment ---------------------------------------------------------------------------------


def test_revenue_attainment_for_rep_team_and_board(users, sales_team, make_deal, pipeline):
    rep = users["sales_rep"]
    period = this_month()
    for amount in ("3000.00", "2000.00"):
        win(make_deal(amount=amount), rep, pipeline)
    make_deal(amount="9999.00")  # open: not won
    win(make_deal(amount="700.00", currency="USD"), rep, pipeline)  # another currency
    quota_set(
        actor=users["admin"],
        kind="revenue",
        period=period,
        target="10000",
        currency="EUR",
        rep=rep,
    )
    mine = quota_attainment(user=rep, start=period.start, end=period.end)
    assert mine.actual == Decimal("5000.00") and mine.target == Decimal("10000.00")
    assert mine.ratio == pytest.approx(0.5) and mine.percent == 50 and mine.gap == Decimal("5000")
    team = quota_attainment(team=sales_team, start=period.start, end=period.end)
    assert team.actual == Decimal("5000.00") and team.target_source == "sum of reps' quotas"
    with pytest.raises(ApplicationError, match="before it starts"):
        quota_attainment(user=rep, start=period.end, end=period.start)
    board = attainment_board(viewer=users["sales_manager"], period=period)
    row = next(r for r in board.reps if r.rep == rep)
    assert row.percent == 50
    assert [t.label for t in board.teams] == [sales_team.name]
    assert board.teams[0].target == Decimal("10000.00")
    # A rep sees only their own row; the other rep sees nothing of theirs.
    assert [r.rep for r in attainment_board(viewer=rep, period=period).reps] == [rep]
    other = attainment_board(viewer=users["other_rep"], period=period)
    assert [r.rep for r in other.reps] == [users["other_rep"]] and other.reps[0].actual == 0


def test_quarter_attainment_sums_monthly_quotas(users, make_deal, pipeline):
    rep = users["sales_rep"]
    quarter = period_of(PeriodKind.QUARTER, timezone.localdate())
    month = quarter.start
    for _ in range(3):
        quota_set(
            actor=users["admin"],
            kind="revenue",
            period=period_of("month", month),
            target="1000",
            currency="EUR",
            rep=rep,
        )
        month = period_of("month", month).end + dt.timedelta(days=1)
    result = quota_attainment(user=rep, start=quarter.start, end=quarter.end)
    assert result.target == Decimal("3000.00") and result.target_source == "sum of monthly quotas"


def test_marketing_attainment(users, pipeline):
    period = this_month()
    leads = [LeadFactory(state=LeadState.NEW) for _ in range(3)]
    for lead in leads:
        lead_mark_mql(lead=lead)
    quota_set(actor=users["marketing"], kind="mqls", period=period, target="4")
    assert quota_attainment(kind="mqls", start=period.start, end=period.end).actual == 3
    accepted = LeadFactory(state=LeadState.ACCEPTED, owner=users["sales_rep"])
    deal_create(
        data=DealInput(
            name="From marketing",
            amount="5000.00",
            currency="EUR",
            close_date=timezone.localdate() + dt.timedelta(days=20),
            account_name="Acme",
        ),
        actor=users["sales_rep"],
        lead=accepted,
    )
    deal_create(  # opened directly: not marketing-sourced
        data=DealInput(
            name="Direct",
            amount="7000.00",
            currency="EUR",
            close_date=timezone.localdate() + dt.timedelta(days=20),
            account_name="Initech",
        ),
        actor=users["sales_rep"],
    )
    quota_set(
        actor=users["marketing"],
        kind="marketing_pipeline",
        period=period,
        target="10000",
        currency="EUR",
    )
    board = attainment_board(viewer=users["marketing"], period=period)
    mql_row, pipe_row = board.marketing
    assert (mql_row.actual, mql_row.target, mql_row.percent) == (3, Decimal("4.00"), 75)
    assert pipe_row.actual == Decimal("5000.00") and pipe_row.percent == 50
    last_month = period.previous()
    assert quota_attainment(kind="mqls", start=last_month.start, end=last_month.end).actual == 0


def test_attainment_board_runs_a_fixed_number_of_queries(users, sales_team, make_deal, pipeline):
    period = this_month()

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            board = attainment_board(viewer=users["admin"], period=period)
            [r.team for r in board.reps]
        return len(ctx.captured_queries)

    few = count()
    for i in range(5):
        rep = UserFactory(username=f"extra{i}", role=Role.SALES_REP, team=sales_team)
        quota_set(
            actor=users["admin"],
            kind="revenue",
            period=period,
            target="10",
            currency="EUR",
            rep=rep,
        )
        win(make_deal(owner=rep), rep, pipeline)
    TeamFactory(name="Second sales")
    assert count() == few


def test_board_and_single_reads_resolve_targets_the_same_way(users, sales_team):
    """A quarter asked for by its months: the quota page and every other page (forecast,
    API) read one rule, so a rep's monthly quotas add up to the quarter everywhere and the
    team's target is its members' sum."""
    admin, rep = users["admin"], users["sales_rep"]
    q4 = period_parse("2026-Q4")
    for month, target in (("2026-10", "100"), ("2026-11", "200"), ("2026-12", "300")):
        quota_set(
            actor=admin,
            kind="revenue",
            period=period_parse(month),
            target=target,
            currency="EUR",
            rep=rep,
        )
    board = attainment_board(viewer=admin, period=q4)
    row = next(r for r in board.reps if r.rep == rep)
    team_row = next(t for t in board.teams if t.team == sales_team)
    single = quota_attainment(user=rep, start=q4.start, end=q4.end)
    team_single = quota_attainment(team=sales_team, start=q4.start, end=q4.end)
    assert (row.target, row.target_source) == (Decimal("600.00"), "sum of monthly quotas")
    assert (single.target, single.target_source) == (row.target, row.target_source)
    assert (team_row.target, team_row.target_source) == (Decimal("600.00"), "sum of reps' quotas")
    assert (team_single.target, team_single.target_source) == (
        team_row.target,
        team_row.target_source,
    )
    # A quota set for the quarter itself wins over the months, on both reads.
    quota_set(actor=admin, kind="revenue", period=q4, target="999", currency="EUR", rep=rep)
    row = next(r for r in attainment_board(viewer=admin, period=q4).reps if r.rep == rep)
    single = quota_attainment(user=rep, start=q4.start, end=q4.end)
    assert row.target == single.target == Decimal("999.00") and row.target_source == "set"
    # Members quoted in two currencies have no sum: no team target rather than a wrong one.
    other = UserFactory(username="usd-rep", role=Role.SALES_REP, team=sales_team)
    quota_set(actor=admin, kind="revenue", period=q4, target="50", currency="USD", rep=other)
    team_row = next(
        t for t in attainment_board(viewer=admin, period=q4).teams if t.team == sales_team
    )
    assert team_row.target is None
    assert quota_attainment(team=sales_team, start=q4.start, end=q4.end).target is None


def test_months_add_up_to_a_quarter_only_when_every_month_is_set(users, sales_team):
    admin, rep = users["admin"], users["sales_rep"]
    q4 = period_parse("2026-Q4")
    quota_set(
        actor=admin,
        kind="revenue",
        period=period_parse("2026-10"),
        target="100",
        currency="EUR",
        rep=rep,
    )
    assert quota_attainment(user=rep, start=q4.start, end=q4.end).target is None
    row = next(r for r in attainment_board(viewer=admin, period=q4).reps if r.rep == rep)
    assert row.target is None
    # the team falls through to its members, whose own quarter is not set either
    assert quota_attainment(team=sales_team, start=q4.start, end=q4.end).target is None
