"""The lead profile editor in a browser: a marketer edits a draft's engagement rules (a bad
value is refused and nothing is saved), and an approved version is scheduled to go live."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from leadpact.scoring.models import LeadProfile, ProfileStatus
from leadpact.scoring.tests.pact import approved, draft, live

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _rules(profile: LeadProfile) -> dict[str, dict]:
    profile.refresh_from_db()
    return {r["kind"]: r for r in profile.engagement_rules}


def test_marketer_edits_engagement_rules_of_a_draft(page_as, users, artifacts):
    live(users)
    profile = draft(users)
    page = page_as(users["marketing"])
    page.goto(f"/profile/versions/{profile.pk}/")
    page.get_by_label("Points for form_fill").fill("25")
    page.get_by_label("Add a touch kind").select_option("webinar")
    page.get_by_label("Points for the new kind").fill("15")
    page.get_by_label("Remove page_view").check()
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator(".msg")).to_contain_text(f"Version {profile.version} saved")
    page.screenshot(path=str(artifacts / "profile-rules-saved.png"), full_page=True)
    rules = _rules(profile)
    assert set(rules) == {"form_fill", "webinar"}
    assert rules["form_fill"]["points"] == 25 and rules["webinar"]["points"] == 15

    page.get_by_label("Half-life of form_fill").fill("soon")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "Half-life for Form fill (days) must be a number"
    )
    assert _rules(profile)["form_fill"]["half_life_days"] == 30  # nothing saved


def test_an_approved_version_is_scheduled_from_its_page(page_as, users, artifacts):
    live(users)
    profile = approved(users, threshold=580)
    page = page_as(users["sales_manager"])
    page.goto(f"/profile/versions/{profile.pk}/")
    when = timezone.localtime() + dt.timedelta(days=2)
    page.fill("#g-from", when.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Go live (or schedule) and rescore open leads").click()
    expect(page.locator(".msg-warning")).to_contain_text("Scheduled: goes live at")
    page.screenshot(path=str(artifacts / "profile-scheduled.png"), full_page=True)
    profile.refresh_from_db()
    assert profile.status == ProfileStatus.SCHEDULED
    assert abs((profile.effective_from - when).total_seconds()) < 60
    # Cancelling the schedule sends it back to draft, the reason kept.
    page.get_by_label("Why send it back").fill("Wait for the new campaign")
    page.get_by_role("button", name="Cancel the schedule (back to draft)").click()
    expect(page.locator(".msg")).to_contain_text("Sent back to draft")
    profile.refresh_from_db()
    assert profile.status == ProfileStatus.DRAFT
    assert profile.events.get(action="withdrawn").data["reason"] == "Wait for the new campaign"
