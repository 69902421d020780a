"""The sales-process settings in a real browser: a manager renames a stage and deletes one
that still has deals by moving them to another stage first."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from leadpact.pipeline.models import Deal, Stage
from leadpact.pipeline.services.deals import DealInput, deal_create
from leadpact.pipeline.services.pipelines import StageInput, pipeline_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_manager_edits_the_sales_process(page_as, users, artifacts):
    pipeline = pipeline_create(
        name="New business",
        stages=[
            StageInput("Discovery", 10),
            StageInput("Demo", 25),
            StageInput("Proposal", 40),
            StageInput("Won", 100, kind="won"),
            StageInput("Lost", 0, kind="lost"),
        ],
    )
    rep = users["sales_rep"]
    demo = pipeline.stages.get(name="Demo")
    deal = deal_create(
        data=DealInput(
            name="Acme",
            amount="100.00",
            currency="EUR",
            close_date=timezone.localdate() + dt.timedelta(days=5),
            account_name="Acme",
            stage=demo,
        ),
        actor=rep,
    )
    page = page_as(users["sales_manager"])
    page.goto("/pipeline/process/")
    page.screenshot(path=str(artifacts / "process.png"), full_page=True)
    row = page.locator(f"#stage-{demo.pk}")
    row.get_by_role("button", name="Delete").click()
    expect(page.locator(".msg")).to_contain_text("move them to another stage")
    row = page.locator(f"#stage-{demo.pk}")
    row.get_by_label("Move the deals of Demo to").select_option(label="move deals to Proposal")
    row.get_by_role("button", name="Delete").click()
    expect(page.locator(".msg")).to_contain_text("1 deal(s) moved to Proposal")
    assert not Stage.objects.filter(pk=demo.pk).exists()
    assert Deal.objects.get(pk=deal.pk).stage.name == "Proposal"
    discovery = pipeline.stages.get(name="Discovery")
    row = page.locator(f"#stage-{discovery.pk}")
    row.get_by_label("Probability of Discovery").fill("150")
    row.get_by_role("button", name="Save").click()
    expect(page.locator(".msg")).to_contain_text("between 0 and 100")
    row = page.locator(f"#stage-{discovery.pk}")
    row.get_by_label("Name of Discovery").fill("Qualify")
    row.get_by_label("Probability of Discovery").fill("15")
    row.get_by_role("button", name="Save").click()
    expect(page.locator(".msg")).to_contain_text("Stage Qualify saved")
    discovery.refresh_from_db()
    assert (discovery.name, discovery.probability) == ("Qualify", 15)
