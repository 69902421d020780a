"""Quotas and the forecast in a real browser: a manager sets a rep's quota, sees the
attainment chart, then opens the rep's forecast (the stored quota is used, the range chart
starts at zero) and records their own commit beside the rep's."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from leadpact.pipeline.models import ForecastAdjustment, Quota
from leadpact.pipeline.services.deals import DealInput, deal_create
from leadpact.pipeline.services.pipelines import StageInput, pipeline_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_manager_sets_a_quota_and_adjusts_the_forecast(page_as, users, artifacts):
    pipeline_create(
        name="New business",
        stages=[
            StageInput("Discovery", 20),
            StageInput("Won", 100, kind="won"),
            StageInput("Lost", 0, kind="lost"),
        ],
    )
    rep = users["sales_rep"]
    for i, category in enumerate(("commit", "best_case", "pipeline")):
        deal_create(
            data=DealInput(
                name=f"Deal {i}",
                amount=f"{1000 * (i + 1)}.00",
                currency="EUR",
                close_date=timezone.localdate(),
                account_name="Acme",
                owner=rep,
                forecast_category=category,
            ),
            actor=rep,
        )
    page = page_as(users["sales_manager"])
    page.goto("/pipeline/quotas/")
    form = page.locator("#set-quota form")
    form.locator("select[name=who]").select_option(f"rep:{rep.pk}")
    form.locator("input[name=target]").fill("5000")
    form.get_by_role("button", name="Set").click()
    expect(page.locator(".msg")).to_contain_text("set to 5000.00 EUR")
    assert Quota.objects.get().rep == rep
    drawn = page.evaluate("() => !!Chart.getChart(document.getElementById('attainment-chart'))")
    assert drawn
    page.screenshot(path=str(artifacts / "quotas.png"), full_page=True)

    page.goto(f"/pipeline/forecast/?scope=rep:{rep.pk}")
    expect(page.locator("#quota-source")).to_contain_text("stored quota")
    expect(page.locator("#commit")).to_contain_text("1,000.00")
    y_min = page.evaluate(
        "() => Chart.getChart(document.getElementById('range-chart')).scales.y.min"
    )
    assert y_min == 0
    adjust = page.locator("#adjustment-form")
    adjust.locator("input[name=commit]").fill("1500")
    adjust.locator("input[name=best_case]").fill("2500")
    adjust.locator("input[name=note]").fill("Deal 1 signs early")
    adjust.get_by_role("button", name="Record").click()
    expect(page.locator(".msg")).to_contain_text("recorded")
    expect(page.locator("#rollup")).to_contain_text("Deal 1 signs early")
    expect(page.locator("#commit")).to_contain_text("1,500.00")
    assert ForecastAdjustment.objects.get().commit == 1500
    page.screenshot(path=str(artifacts / "forecast.png"), full_page=True)
    assert f"scope=rep:{rep.pk}" in page.url
