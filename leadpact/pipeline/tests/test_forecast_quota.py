"""The forecast with stored quotas, the reps' roll-up with managers' adjustments, per-deal
win probabilities from the learned model, learned slip, weekly snapshots and their accuracy."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from leadpact.common.errors import ApplicationError
from leadpact.pipeline.models import Deal, ForecastSnapshot, PeriodKind
from leadpact.pipeline.periods import period_of
from leadpact.pipeline.services.deals import deal_move, deal_update
from leadpact.pipeline.services.forecast.learning import slip_learned
from leadpact.pipeline.services.forecast.period import forecast_period
from leadpact.pipeline.services.forecast.scopes import Scope, scope_from_key
from leadpact.pipeline.services.forecast.snapshots import (
    forecast_accuracy,
    forecast_snapshots_score,
    forecast_snapshots_take,
)
from leadpact.pipeline.services.quotas import forecast_adjustment_set, quota_set

CRITERIA = ["Budget confirmed", "Decision maker known", "Terms agreed"]


def month():
    return period_of(PeriodKind.MONTH, timezone.localdate())


@pytest.fixture
def make_deal(make_deal):
    """Deals expected to close today, so they fall in this month whatever the date."""

    def make(**kwargs):
        return make_deal(**({"close_date": timezone.localdate()} | kwargs))

    return make


def close(deal, rep, pipeline, kind):
    return deal_move(
        deal=deal,
        actor=rep,
        stage=pipeline.stages.get(kind=kind),
        version=deal.version,
        confirmed=CRITERIA,
        lost_reason="Price",
    )


def test_forecast_uses_the_stored_quota_unless_overridden(users, make_deal):
    rep, period = users["sales_rep"], month()
    make_deal(amount="1000.00")
    mine = Scope(rep=rep)
    plain = forecast_period(user=rep, start=period.start, end=period.end, scope=mine)
    assert plain.quota is None and plain.quota_source == "" and plain.attainment is None
    quota_set(
        actor=users["sales_manager"],
        kind="revenue",
        period=period,
        target="500",
        currency="EUR",
        rep=rep,
    )
    stored = forecast_period(user=rep, start=period.start, end=period.end, scope=mine)
    assert stored.quota == Decimal("500.00") and stored.quota_source == "stored"
    assert 0 <= stored.attainment <= 1
    typed = forecast_period(
        user=rep, start=period.start, end=period.end, scope=mine, quota=Decimal("5")
    )
    assert typed.quota == Decimal("5") and typed.quota_source == "typed"
    with pytest.raises(ApplicationError, match="negative"):
        forecast_period(
            user=rep, start=period.start, end=period.end, scope=mine, quota=Decimal("-1")
        )
    # The stored quota is in EUR: a USD forecast does not borrow it.
    usd = forecast_period(user=rep, start=period.start, end=period.end, scope=mine, currency="USD")
    assert usd.quota is None


def test_scope_permissions(users, sales_team):
    rep, other = users["sales_rep"], users["other_rep"]
    assert scope_from_key("", user=rep).rep == rep
    assert scope_from_key("", user=users["sales_manager"]).team == sales_team
    assert scope_from_key(f"rep:{rep.pk}", user=users["sales_manager"]).rep == rep
    assert scope_from_key(f"team:{sales_team.pk}", user=users["marketing"]).team == sales_team
    with pytest.raises(PermissionDenied):
        scope_from_key(f"rep:{rep.pk}", user=other)
    with pytest.raises(PermissionDenied):
        scope_from_key(f"team:{sales_team.pk}", user=rep)
    with pytest.raises(PermissionDenied):
        scope_from_key(f"rep:{other.pk}", user=users["sales_manager"])
    for bad in ("rep:abc", "boss", "team:"):
        with pytest.raises(ApplicationError, match="A scope is"):
            scope_from_key(bad, user=users["admin"])
    with pytest.raises(ApplicationError, match="No such rep"):
        scope_from_key("rep:999999", user=users["admin"])


def test_rollup_with_manager_adjustment(users, make_deal, pipeline):
    rep, manager, period = users["sales_rep"], users["sales_manager"], month()
    make_deal(amount="1000.00", forecast_category="commit")
    make_deal(amount="2000.00", forecast_category="best_case")
    make_deal(amount="4000.00", forecast_category="pipeline")
    make_deal(amount="8000.00", forecast_category="omitted")
    close(make_deal(amount="500.00"), rep, pipeline, "won")
    scope = Scope(rep=rep)
    result = forecast_period(user=manager, start=period.start, end=period.end, scope=scope)
    (row,) = result.rollup
    assert row.rep == rep and row.won == Decimal("500.00")
    assert row.commit == Decimal("1500.00") and row.best_case == Decimal("3500.00")
    assert result.adjusted_commit == result.commit == Decimal("1500.00")
    assert result.deals == 3  # the omitted deal stays out
    forecast_adjustment_set(
        actor=manager,
        rep=rep,
        start=period.start,
        end=period.end,
        currency="EUR",
        commit="1200",
        best_case="3000",
        note="Acme slips to next month",
    )
    again = forecast_period(user=manager, start=period.start, end=period.end, scope=scope)
    (row,) = again.rollup
    assert row.commit == Decimal("1500.00")  # the rep's own number stays beside
    assert row.adjusted_commit == Decimal("1200.00") and row.adjustment.note.startswith("Acme")
    assert again.adjusted_best_case == Decimal("3000.00")
    # Updating replaces the manager's call.
    forecast_adjustment_set(
        actor=manager, rep=rep, start=period.start, end=period.end, currency="EUR", commit="900"
    )
    third = forecast_period(user=manager, start=period.start, end=period.end, scope=scope)
    assert third.adjusted_commit == Decimal("900.00")
    assert third.adjusted_best_case == Decimal("3500.00")  # the rep's, no manager best case


def test_adjustment_bad_input(users):
    rep, manager, period = users["sales_rep"], users["sales_manager"], month()
    base = {"rep": rep, "start": period.start, "end": period.end, "currency": "EUR"}
    with pytest.raises(ApplicationError, match="below the commit"):
        forecast_adjustment_set(actor=manager, **base, commit="100", best_case="50")
    with pytest.raises(ApplicationError, match="negative"):
        forecast_adjustment_set(actor=manager, **base, commit="-1")
    with pytest.raises(ApplicationError, match="Give your commit"):
        forecast_adjustment_set(actor=manager, **base, commit="")
    with pytest.raises(ApplicationError, match="ISO 4217"):
        forecast_adjustment_set(actor=manager, **(base | {"currency": "EURO"}), commit="1")
    with pytest.raises(ApplicationError, match="before it starts"):
        forecast_adjustment_set(
            actor=manager, **(base | {"start": period.end, "end": period.start}), commit="1"
        )
    for actor in ("sales_rep", "marketing"):
        with pytest.raises(PermissionDenied):
            forecast_adjustment_set(actor=users[actor], **base, commit="1")
    with pytest.raises(PermissionDenied):
        forecast_adjustment_set(actor=manager, **(base | {"rep": users["other_rep"]}), commit="1")
    rep.is_active = False
    rep.save()
    with pytest.raises(ApplicationError, match="has left"):
        forecast_adjustment_set(actor=users["admin"], **base, commit="1")


def _history(make_deal, pipeline, users, *, won: int, lost: int):
    rep = users["sales_rep"]
    proposal = pipeline.stages.get(name="Proposal")
    for i in range(won + lost):
        deal = make_deal(name=f"H{i}", amount=str(1000 + 500 * (i % 7)))
        deal = deal_move(deal=deal, actor=rep, stage=proposal, version=1, confirmed=CRITERIA)
        close(deal, rep, pipeline, "won" if i < won else "lost")


def test_monte_carlo_uses_the_win_model_when_history_suffices(make_deal, pipeline, users):
    period = month()
    make_deal(amount="1000.00")
    thin = forecast_period(user=users["admin"], start=period.start, end=period.end)
    assert thin.probability_source == "stages" and "too little" in thin.probability_description
    _history(make_deal, pipeline, users, won=12, lost=10)
    rich = forecast_period(user=users["admin"], start=period.start, end=period.end)
    assert rich.probability_source == "model" and "win model" in rich.probability_description
    assert rich.deals == 1 and rich.p10 <= rich.p50 <= rich.p90


def test_slip_is_learned_from_won_deals(make_deal, pipeline, users):
    rep = users["sales_rep"]
    assert slip_learned().learned is False and slip_learned().probability == pytest.approx(0.2)
    today = timezone.localdate()
    for i in range(25):
        deal = make_deal(name=f"W{i}")
        if i < 10:  # pushed once, then won after the first expected date
            first = deal.close_date
            deal = deal_update(
                deal=deal, actor=rep, version=deal.version, close_date=first + dt.timedelta(days=5)
            )
            won = close(deal, rep, pipeline, "won")
            Deal.objects.filter(pk=won.pk).update(
                close_date=today - dt.timedelta(days=1)  # even the revised date is kept later
            )
            from leadpact.pipeline.models import DealEvent

            DealEvent.objects.filter(deal=won, kind="field").update(
                data={"field": "close_date", "from": str(today - dt.timedelta(days=30)), "to": "x"}
            )
        else:
            close(deal, rep, pipeline, "won")  # won before the expected date: no slip
    slip = slip_learned()
    assert slip.learned and slip.won_deals == 25 and slip.slipped == 10
    # 10 of 25 slipped, pulled toward 20% by 10 pseudo-deals: (10 + 2) / 35.
    assert slip.probability == pytest.approx(12 / 35)
    assert "10 of 25" in slip.description


def test_weekly_snapshots_are_idempotent_then_scored(users, sales_team, make_deal, pipeline):
    rep = users["sales_rep"]
    today = timezone.localdate()
    make_deal(amount="1000.00", forecast_category="commit")
    close(make_deal(amount="300.00"), rep, pipeline, "won")
    taken = forecast_snapshots_take(today=today)
    # company + the sales team + the rep + the manager (no deals: skipped) -> 3 scopes x
    # 2 periods (month, quarter) x 4 methods.
    assert taken == 3 * 2 * 4
    assert forecast_snapshots_take(today=today) == 0  # safe to run twice
    assert ForecastSnapshot.objects.count() == 24
    mc = ForecastSnapshot.objects.get(
        scope=f"rep:{rep.pk}", method="monte_carlo", period_kind="month"
    )
    assert mc.p10 <= mc.value <= mc.p90 and mc.value >= Decimal("300.00")
    commit = ForecastSnapshot.objects.get(scope="company", method="commit", period_kind="month")
    assert commit.value == Decimal("1300.00")
    assert forecast_snapshots_score(today=today) == 0  # nothing has closed yet
    after = month().end + dt.timedelta(days=1)
    scored = forecast_snapshots_score(today=after)
    assert scored == 12  # the month's rows only; the quarter may still be open
    row = ForecastSnapshot.objects.get(scope="company", method="commit", period_kind="month")
    assert row.actual == Decimal("300.00") and row.error == Decimal("1000.00")
    assert forecast_snapshots_score(today=after) == 0
    accuracy = forecast_accuracy(user=users["admin"], scope=Scope(), currency="EUR")
    (period,) = accuracy.periods
    commit_acc = next(m for m in period["methods"] if m["method"] == "commit")
    assert commit_acc["first"] == 1300 and commit_acc["first_ape"] == pytest.approx(1000 / 300)
    assert {m["method"] for m in accuracy.methods} == {
        "weighted",
        "commit",
        "best_case",
        "monte_carlo",
    }
    assert accuracy.chart["labels"] == [period["period"]] and len(accuracy.chart["series"]) == 4
    with pytest.raises(PermissionDenied):
        forecast_accuracy(user=users["other_rep"], scope=Scope(rep=rep), currency="EUR")


def test_replay_backfills_weekly_snapshots_from_the_timelines(users, make_deal, pipeline):
    from leadpact.pipeline.models import DealEvent
    from leadpact.pipeline.services.forecast.snapshots import forecast_snapshots_replay, week_of

    rep = users["sales_rep"]
    today = timezone.localdate()
    monday = week_of(today - dt.timedelta(days=35))  # always in an earlier, closed month
    zone = timezone.get_current_timezone()
    start = dt.datetime.combine(monday, dt.time.min, tzinfo=zone)
    won = make_deal(name="Won later", amount="1000.00")
    won = close(won, rep, pipeline, "won")
    open_deal = make_deal(name="Still open", amount="2000.00", forecast_category="commit")
    for deal in (won, open_deal):
        Deal.objects.filter(pk=deal.pk).update(close_date=monday)
        DealEvent.objects.filter(deal=deal, kind="created").update(
            occurred_at=start - dt.timedelta(days=3)
        )
    DealEvent.objects.filter(deal=won, kind="stage").update(
        occurred_at=start + dt.timedelta(hours=1)
    )
    Deal.objects.filter(pk=won.pk).update(closed_at=start + dt.timedelta(hours=1))
    written = forecast_snapshots_replay(since=monday, until=today)
    assert written > 0
    assert forecast_snapshots_replay(since=monday, until=today) == 0  # already stored
    first = {
        s.method: s
        for s in ForecastSnapshot.objects.filter(week=monday, scope="company", period_kind="month")
    }
    # Both deals open in Discovery (10%) with the default 20% slip: (1000 + 2000) x 0.1 x 0.8.
    assert first["weighted"].value == Decimal("240.00")
    # The won deal's category then is inferred from its stage (pipeline); the other is commit.
    assert first["commit"].value == Decimal("2000.00")
    assert first["best_case"].value == Decimal("2000.00")
    assert 0 <= first["monte_carlo"].p10 <= first["monte_carlo"].value <= first["monte_carlo"].p90
    # The month has closed: scored against the 1000 won in it.
    assert first["weighted"].actual == Decimal("1000.00")
    assert first["weighted"].error == Decimal("-760.00")
    later = (
        ForecastSnapshot.objects.get(
            week=monday + dt.timedelta(days=7),
            scope="company",
            period_kind="month",
            method="commit",
        )
        if (monday + dt.timedelta(days=7)).month == monday.month
        else None
    )
    if later is not None:  # a week later the deal is won: counted as won, not as pipeline
        assert later.value == Decimal("3000.00")
    with pytest.raises(ApplicationError, match="ends before it starts"):
        forecast_snapshots_replay(since=today, until=today - dt.timedelta(days=1))


def test_the_weekly_task_takes_then_scores_and_is_safe_to_run_twice(users, make_deal):
    from leadpact.pipeline.tasks import forecast_snapshots_task

    make_deal(amount="1000.00")
    first = forecast_snapshots_task()
    assert first["taken"] > 0 and first["scored"] == 0
    assert forecast_snapshots_task() == {"taken": 0, "scored": 0}
