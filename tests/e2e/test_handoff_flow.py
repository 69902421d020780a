"""The hand-off in a real browser: an MQL is offered by the routing rules, the first rep
rejects it with a reason (marketing sees the reason), marketing qualifies it again, the rules
offer it to the next rep, who accepts it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from leadpact.accounts.models import Role
from leadpact.factories import LeadFactory, UserFactory
from leadpact.leads.models import LeadState
from leadpact.routing.models import Offer, RejectionReason, RoutingRule
from leadpact.routing.services.router import leads_route

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_offer_reject_with_reason_reoffer_and_accept(page_as, users, sales_team, artifacts):
    UserFactory(username="rep3", first_name="Rosa", role=Role.SALES_REP, team=sales_team)
    RejectionReason.objects.create(code="no-budget", label="No budget this year", position=1)
    RoutingRule.objects.create(name="Everyone to Sales East", conditions=[], team=sales_team)
    lead = LeadFactory(first_name="Grace", last_name="Hopper", state=LeadState.MQL, score=77)

    leads_route()
    first = Offer.objects.get(lead=lead, status="pending").rep
    page = page_as(first)
    page.goto("/routing/queue/")
    row = page.locator("#queue tr", has_text="Grace Hopper")
    expect(row).to_be_visible()
    page.screenshot(path=str(artifacts / "handoff-1-queue.png"), full_page=True)
    row.locator("select[name=reason]").select_option("no-budget")
    row.locator("input[name=note]").fill("Student project, no company budget")
    row.get_by_role("button", name="Reject").click()
    expect(page.locator(".msg")).to_contain_text("goes back to marketing")
    lead.refresh_from_db()
    assert lead.state == LeadState.RECYCLED and lead.owner is None

    marketer = page_as(users["marketing"])
    marketer.goto(f"/leads/{lead.pk}/")
    expect(marketer.locator("#timeline")).to_contain_text("No budget this year")
    marketer.screenshot(path=str(artifacts / "handoff-2-marketing-sees-reason.png"), full_page=True)
    marketer.get_by_role("button", name="Mark MQL").click()
    lead.refresh_from_db()
    assert lead.state == LeadState.MQL

    leads_route()  # what the every-minute sweep does
    second = Offer.objects.get(lead=lead, status="pending").rep
    assert second != first, "the rules offered the rejected lead to the same rep again"
    other = page_as(second)
    other.goto("/routing/queue/")
    other.locator("#queue tr", has_text="Grace Hopper").get_by_role("button", name="Accept").click()
    expect(other.locator(".msg")).to_contain_text("Accepted")
    other.screenshot(path=str(artifacts / "handoff-3-accepted.png"), full_page=True)
    lead.refresh_from_db()
    assert lead.state == LeadState.ACCEPTED and lead.owner == second
    statuses = list(Offer.objects.filter(lead=lead).order_by("id").values_list("status", flat=True))
    assert statuses == ["rejected", "accepted"]
