"""The common lead view in a real browser: log in, find a lead, open it, add a note, and see
that a rep reads the same lead, touches and note as the marketer."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from leadpact.factories import CampaignFactory, LeadFactory, TouchFactory
from leadpact.leads.models import TimelineEvent
from leadpact.leads.services.lifecycle import lead_mark_mql, lead_offer
from leadpact.leads.services.timeline import timeline_event

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(users):
    campaign = CampaignFactory(name="Spring webinar")
    for i in range(60):
        LeadFactory(first_name=f"Filler{i}", last_name="Person", company_name="Filler Inc")
    lead = LeadFactory(
        first_name="Ada",
        last_name="Lovelace",
        title="CTO",
        company_name="Analytical Engines",
        source_channel="webinar",
        source_campaign=campaign,
        score=81,
        city="London",
        country="UK",
    )
    TouchFactory(
        lead=lead, kind="webinar", channel="webinar", campaign=campaign, utm_source="newsletter"
    )
    lead_mark_mql(lead=lead, actor=users["marketing"])
    lead_offer(lead=lead, rep=users["sales_rep"], actor=users["sales_manager"])
    return lead


def test_marketer_finds_a_lead_adds_a_note_and_the_rep_sees_it(page_as, users, world, artifacts):
    page = page_as(users["marketing"])
    expect(page.locator("#lead-results .count")).to_contain_text("61 leads")
    page.screenshot(path=artifacts / "leads-list.png")

    # search: HTMX swaps the table and the URL follows
    page.fill("#f-q", "ada lov")
    expect(page.locator("#lead-results tbody tr")).to_have_count(1)
    expect(page.locator("#lead-results")).to_contain_text("Analytical Engines")
    assert "q=ada+lov" in page.url
    page.screenshot(path=artifacts / "leads-search.png")

    page.click("text=Ada Lovelace")
    page.wait_for_url(f"**/leads/{world.pk}/")
    expect(page.locator("h1")).to_have_text("Ada Lovelace")
    expect(page.locator("#timeline")).to_contain_text("Offered to sales")

    # an empty note is refused inline, without a reload
    page.fill("#note-body", "   ")
    page.click("#note-box button[type=submit]")
    expect(page.locator("#note-error")).to_have_text("A note cannot be empty.")

    page.fill("#note-body", "Asked for a demo next week.")
    page.click("#note-box button[type=submit]")
    expect(page.locator("#timeline li").first).to_contain_text("Asked for a demo next week.")
    expect(page.locator("#note-body")).to_have_value("")
    assert TimelineEvent.objects.filter(lead=world, kind="note").count() == 1
    page.screenshot(path=artifacts / "lead-page-marketer.png", full_page=True)

    # the rep who was offered the lead sees the same lead, touches and the note
    rep = page_as(users["sales_rep"])
    rep.goto(f"/leads/{world.pk}/")
    expect(rep.locator("#timeline li").first).to_contain_text("Asked for a demo next week.")
    expect(rep.locator(".touches")).to_contain_text("Spring webinar")
    expect(rep.locator(".touches")).to_contain_text("newsletter")
    expect(rep.locator(".leadactions")).to_contain_text("Accept")
    rep.screenshot(path=artifacts / "lead-page-rep.png", full_page=True)

    # and accepts it with one click
    rep.click(".leadactions button:has-text('Accept')")
    expect(rep.locator(".messages")).to_contain_text("Accepted")
    expect(rep.locator(".headfacts")).to_contain_text("Sales accepted (SAL)")


def test_bad_filter_in_a_shared_link_shows_a_message(page_as, users, world, artifacts):
    page = page_as(users["sales_rep"])
    page.goto("/leads/?state=hot&captured_from=yesterday")
    expect(page.locator("#lead-results [role=alert]")).to_contain_text("is not a lead state")
    expect(page.locator("#lead-results [role=alert]")).to_contain_text("is not a date")
    page.screenshot(path=artifacts / "leads-bad-filter.png")


def test_pager_and_filters_keep_a_shareable_url(page_as, users, world, artifacts):
    page = page_as(users["marketing"])
    page.select_option("#f-size", "25")
    expect(page.locator("#lead-results tbody tr")).to_have_count(25)
    page.click("a[rel=next]")
    expect(page.locator("a[rel=prev]")).to_be_visible()
    assert "cursor=" in page.url and "size=25" in page.url
    shared = page.url
    page.select_option("#f-state", "offered")
    expect(page.locator("#lead-results tbody tr")).to_have_count(1)
    assert "state=offered" in page.url and "cursor" not in page.url
    other = page_as(users["sales_rep"])
    other.goto(shared)
    expect(other.locator("#lead-results tbody tr")).to_have_count(25)
    # sorting by a column header keeps the sort menu in step
    page.click("#lead-results th >> text=Score")
    expect(page.locator("#f-sort")).to_have_value("-score")
    expect(page.locator("#lead-results tbody tr").first).to_contain_text("Ada Lovelace")
    assert "sort=-score" in page.url and "state=offered" in page.url


def test_login_refuses_a_wrong_password(browser, live_server, users, artifacts):
    context = browser.new_context(viewport={"width": 1366, "height": 768}, base_url=live_server.url)
    page = context.new_page()
    page.goto("/leads/")
    page.wait_for_url("**/accounts/login/**")
    page.fill("#id_username", users["sales_rep"].username)
    page.fill("#id_password", "wrong-password")
    page.click("button[type=submit]")
    expect(page.locator(".error")).to_contain_text("didn't match")
    page.screenshot(path=artifacts / "login-error.png")
    context.close()


def test_manager_offers_a_lead_from_its_page(page_as, users, artifacts):
    lead = LeadFactory(first_name="Grace", last_name="Hopper", company_name="Navy", score=64)
    timeline_event(
        lead=lead,
        kind="field_change",
        summary="Profile updated from the web form",
        data={"changes": {"title": ["Engineer", "Rear admiral"], "city": ["", "Arlington"]}},
    )
    timeline_event(lead=lead, kind="merge", summary="Merged a duplicate", data={"duplicate": 4242})
    lead_mark_mql(lead=lead, actor=users["marketing"])
    page = page_as(users["sales_manager"])
    page.goto(f"/leads/{lead.pk}/")
    page.click("summary:has-text('Offer to rep')")
    page.select_option("#rep-offer", str(users["sales_rep"].pk))
    page.screenshot(path=artifacts / "lead-page-manager-offer.png", full_page=True)
    page.click("details[open] button[type=submit]")
    expect(page.locator(".messages")).to_contain_text("Offered")
    expect(page.locator(".headfacts")).to_contain_text(users["sales_rep"].display_name)
    expect(page.locator("#timeline li").first).to_contain_text("Assigned to")
    # a reason is required to disqualify: the browser asks first, the server says it too
    page.click("summary:has-text('Disqualify')")
    page.evaluate("document.querySelector('#reason-disqualify').removeAttribute('required')")
    page.click("details[open] button[type=submit]")
    expect(page.locator(".messages")).to_contain_text("say why")
    page.screenshot(path=artifacts / "lead-page-manager-after.png", full_page=True)
