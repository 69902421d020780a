"""A rep updates a deal from the keyboard: log a call and move it to the next stage in a
handful of key presses, well under ten seconds."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from leadpact.pipeline.models import Deal, Pipeline
from leadpact.pipeline.services.deals import DealInput, deal_create
from leadpact.pipeline.services.pipelines import StageInput, pipeline_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _deal(users, name="Acme renewal", *, days=10):
    """A deal of the rep's in Discovery (the pipeline is made with the first one)."""
    if not Pipeline.objects.exists():
        pipeline_create(
            name="New business",
            stages=[
                StageInput("Discovery", 10, exit_criteria=["Budget confirmed"]),
                StageInput("Proposal", 40),
                StageInput("Won", 100, kind="won"),
                StageInput("Lost", 0, kind="lost"),
            ],
        )
    rep = users["sales_rep"]
    return deal_create(
        data=DealInput(
            name=name,
            amount="1200.00",
            currency="EUR",
            close_date=timezone.localdate() + dt.timedelta(days=days),
            account_name=name.split()[0],
            owner=rep,
        ),
        actor=rep,
    )


def test_log_a_call_and_move_on_from_the_keyboard(page_as, users, artifacts):
    deal = _deal(users)
    page = page_as(users["sales_rep"])
    page.goto(f"/pipeline/deals/{deal.pk}/")
    actions = []

    def press(key):
        actions.append(key)
        page.keyboard.press(key)

    started = time.perf_counter()
    press("c")
    expect(page.locator("#outcome")).to_be_focused()
    expect(page.locator("#kind-call")).to_be_checked()
    actions.append("type")
    page.keyboard.type("Spoke to the CFO")
    press("Enter")
    expect(page.locator(".msg")).to_contain_text("Activity logged")
    press("n")  # focuses the unticked exit criterion
    expect(page.locator("#next-stage input[type=checkbox]")).to_be_focused()
    press("Space")
    press("n")
    expect(page.locator(".msg")).to_contain_text("moved to Proposal")
    seconds = time.perf_counter() - started
    page.screenshot(path=str(artifacts / "deal-keyboard.png"), full_page=True)

    deal = Deal.objects.get(pk=deal.pk)
    assert deal.stage.name == "Proposal" and deal.version == 2
    activity = deal.activities.get()
    assert (activity.kind, activity.outcome) == ("call", "Spoke to the CFO")
    # c, type, Enter, n, Space, n: six inputs and no mouse, in well under ten seconds
    assert len(actions) <= 6, actions
    assert seconds < 10, seconds

    press("?")
    expect(page.locator("#shortcuts-help")).to_be_visible()
    press("Escape")
    expect(page.locator("#shortcuts-help")).to_be_hidden()


def test_board_c_opens_the_call_log(page_as, users):
    deal = _deal(users)
    page = page_as(users["sales_rep"])
    page.goto("/pipeline/")
    page.locator(f"[data-deal='{deal.pk}']").focus()
    page.keyboard.press("c")
    page.wait_for_url(f"**/pipeline/deals/{deal.pk}/?log=call")
    expect(page.locator("#outcome")).to_be_focused()
    page.keyboard.type("Left a voicemail")
    page.keyboard.press("Enter")
    expect(page.locator(".msg")).to_contain_text("Activity logged")
    assert Deal.objects.get(pk=deal.pk).activities.get().outcome == "Left a voicemail"


def test_manager_ticks_cards_with_x_and_updates_them_together(page_as, users, artifacts):
    deal = _deal(users)
    second = _deal(users, "Globex expansion", days=20)
    page = page_as(users["sales_manager"])
    page.goto("/pipeline/")
    page.locator(f"[data-deal='{deal.pk}']").focus()
    page.keyboard.press("x")
    page.keyboard.press("j")
    page.keyboard.press("x")
    expect(page.locator("[data-ticked-count]")).to_have_text("(2 ticked)")
    page.select_option("#bulk select[name=forecast_category]", "commit")
    page.click("#bulk button[type=submit]")
    expect(page.locator(".msg")).to_contain_text("2 deals updated")
    page.screenshot(path=str(artifacts / "board-bulk.png"), full_page=True)
    assert set(
        Deal.objects.filter(pk__in=[deal.pk, second.pk]).values_list("forecast_category", flat=True)
    ) == {"commit"}
    assert page.url.endswith("/pipeline/")
