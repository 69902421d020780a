"""The bridge from deals to the engine: learned stage rates, the period forecast, the model."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from leadpact.common.errors import ApplicationError
from leadpact.pipeline.services.deals import deal_move
from leadpact.pipeline.services.forecast.learning import stage_rates, win_model_fit
from leadpact.pipeline.services.forecast.period import forecast_period

CRITERIA = ["Budget confirmed", "Decision maker known"]


def _close_history(make_deal, pipeline, users, *, won: int, lost: int):
    rep = users["sales_rep"]
    proposal = pipeline.stages.get(name="Proposal")
    for i in range(won + lost):
        deal = make_deal(name=f"H{i}", amount=str(1000 + 500 * (i % 7)))
        deal = deal_move(deal=deal, actor=rep, stage=proposal, version=1, confirmed=CRITERIA)
        target = pipeline.stages.get(kind="won" if i < won else "lost")
        deal_move(deal=deal, actor=rep, stage=target, version=2, lost_reason="Price")


def test_stage_rates_learn_from_closed_deals(make_deal, pipeline, users):
    _close_history(make_deal, pipeline, users, won=3, lost=1)
    lost_early = make_deal(name="Early loss")
    deal_move(
        deal=lost_early,
        actor=users["sales_rep"],
        stage=pipeline.stages.get(kind="lost"),
        version=1,
        lost_reason="Price",
    )
    rates = {r.stage.name: r for r in stage_rates(pipeline=pipeline)}
    assert rates["Discovery"].reached == 5 and rates["Discovery"].learned == pytest.approx(0.6)
    assert rates["Proposal"].reached == 4 and rates["Proposal"].learned == pytest.approx(0.75)
    assert rates["Negotiation"].learned is None
    assert rates["Discovery"].configured == pytest.approx(0.10)


def test_forecast_period_range_and_quota(make_deal, users):
    for i in range(20):
        make_deal(name=f"Open {i}", amount="1000.00")
    today = timezone.localdate()
    result = forecast_period(
        user=users["sales_rep"],
        start=today,
        end=today + dt.timedelta(days=30),
        quota=Decimal("1000"),
        slip_probability=0.0,
    )
    # 20 deals x 1000 at the configured 10%: expectation 2000.
    assert result.deals == 20 and result.weighted == pytest.approx(2000)
    assert result.p10 <= result.p50 <= result.p90
    assert result.expected == pytest.approx(2000)
    assert 0.8 < result.attainment < 0.95  # P(at least one of 20 at 10%) = 0.878
    nobody = forecast_period(
        user=users["other_rep"], start=today, end=today + dt.timedelta(days=30)
    )
    assert nobody.deals == 0 and nobody.p90 == 0
    with pytest.raises(ApplicationError, match="ends before"):
        forecast_period(user=users["sales_rep"], start=today, end=today - dt.timedelta(days=1))


def test_win_model_needs_history_then_reports_calibration(make_deal, pipeline, users):
    assert win_model_fit(pipeline=pipeline) is None
    _close_history(make_deal, pipeline, users, won=12, lost=10)
    model = win_model_fit(pipeline=pipeline)
    assert model is not None and 0 <= model.brier_ <= 1
    assert sum(b["count"] for b in model.calibration_) == 44  # 2 open-stage spells per deal
