"""The pipeline review in a real browser: the stage chart draws, and a manager bulk-updates
the deals that went quiet."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from leadpact.pipeline.models import Deal, DealEvent
from leadpact.pipeline.services.deals import DealInput, deal_create
from leadpact.pipeline.services.pipelines import StageInput, pipeline_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_manager_reviews_and_bulk_updates(page_as, users, artifacts):
    pipeline_create(
        name="New business",
        stages=[
            StageInput("Discovery", 10),
            StageInput("Proposal", 40),
            StageInput("Won", 100, kind="won"),
            StageInput("Lost", 0, kind="lost"),
        ],
    )
    rep = users["sales_rep"]
    for i in range(3):
        deal = deal_create(
            data=DealInput(
                name=f"Quiet deal {i}",
                amount=f"{1000 * (i + 1)}.00",
                currency="EUR",
                close_date=timezone.localdate() + dt.timedelta(days=10),
                account_name="Acme",
                owner=rep,
            ),
            actor=rep,
        )
        then = timezone.now() - dt.timedelta(days=30)
        Deal.objects.filter(pk=deal.pk).update(created_at=then)
        DealEvent.objects.filter(deal=deal).update(occurred_at=then)
    page = page_as(users["sales_manager"])
    page.goto("/pipeline/review/")
    expect(page.locator("#total-open")).to_contain_text("3")
    drawn = page.evaluate("() => !!Chart.getChart(document.getElementById('stage-chart'))")
    assert drawn
    page.screenshot(path=str(artifacts / "review.png"), full_page=True)
    stale = page.locator("#stale")
    stale.get_by_label("Tick Quiet deal 0").check()
    stale.get_by_label("Tick Quiet deal 2").check()
    page.locator("#bulk select[name=forecast_category]").select_option("commit")
    page.get_by_role("button", name="Update ticked deals").click()
    expect(page.locator(".msg")).to_contain_text("2 deals updated")
    categories = dict(Deal.objects.values_list("name", "forecast_category"))
    assert categories == {
        "Quiet deal 0": "commit",
        "Quiet deal 1": "pipeline",
        "Quiet deal 2": "commit",
    }
