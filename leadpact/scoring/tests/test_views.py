"""The profile pages and API: everyone reads, marketing writes, the two sides approve."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from leadpact.factories import LeadFactory
from leadpact.leads.models import LeadState
from leadpact.scoring.models import LeadProfile, ProfileStatus
from leadpact.scoring.services.rescoring import lead_score_refresh
from leadpact.scoring.tests.pact import draft, live

pytestmark = pytest.mark.django_db


def test_everyone_sees_the_live_profile_and_anonymous_does_not(client, client_for, users):
    assert client.get(reverse("scoring:live")).status_code == 302
    assert "No lead profile is live" in client_for("sales_rep").get(reverse("scoring:live")).text
    live(users)
    for role in ("sales_rep", "marketing", "sales_manager", "admin"):
        page = client_for(role).get(reverse("scoring:live"))
        assert page.status_code == 200
        assert "MQL threshold: 560" in page.text and "source_channel" in page.text
        assert "chart-4.6.1.umd.min.js" in page.text


def test_threshold_by_capacity_section(client_for, users):
    live(users)
    LeadFactory.create_batch(6, source_channel="referral", attributes={"employees": 90})
    LeadFactory.create_batch(6, source_channel="paid_search", state=LeadState.LOST)
    url = reverse("scoring:live")
    page = client_for("sales_rep").get(
        url, {"capacity": 1, "deal_value": 1000, "cost_per_lead": 10}
    )
    assert page.status_code == 200
    assert "Recommended threshold" in page.text and "threshold-curve" in page.text
    bad = client_for("sales_rep").get(url, {"capacity": "-3"})
    assert bad.status_code == 400 and "cannot be negative" in bad.text


def test_drift_and_live_auc_are_shown(client_for, users):
    profile = live(users)
    before = profile.effective_from - timedelta(days=3)
    LeadFactory.create_batch(10, source_channel="paid_search", captured_at=before)
    LeadFactory.create_batch(10, source_channel="referral")
    won = LeadFactory.create_batch(3, source_channel="referral", state=LeadState.WON)
    lost = LeadFactory.create_batch(3, source_channel="paid_search", state=LeadState.LOST)
    for lead in won + lost:
        lead.state_changed_at = timezone.now()
        lead.save()
    page = client_for("marketing").get(reverse("scoring:live"))
    assert "Drift above 0.2" in page.text
    assert "AUC on 6 leads closed since going live: <strong>1.000" in page.text


def test_rep_cannot_approve_through_the_page_and_manager_can(client_for, users):
    profile = draft(users)
    url = lambda action: reverse("scoring:action", args=[profile.pk, action])  # noqa: E731
    assert client_for("sales_rep").post(url("propose"), follow=True).status_code == 403
    profile.refresh_from_db()
    assert profile.status == ProfileStatus.DRAFT
    client_for("marketing").post(url("propose"))
    page = client_for("sales_rep").post(url("approve"), follow=True)
    assert "Only a marketing user or a sales manager" in page.text
    page = client_for("marketing").post(url("approve"), follow=True)
    assert "You wrote this version" in page.text
    page = client_for("sales_manager").post(url("approve"), follow=True)
    assert "Your approval is recorded" in page.text
    page = client_for("sales_manager").get(reverse("scoring:version", args=[profile.pk]))
    assert page.status_code == 200 and "Approve as" not in page.text  # already approved


def test_draft_editor_saves_and_what_if_does_not(client_for, users):
    live(users)
    profile = draft(users)
    url = reverse("scoring:edit", args=[profile.pk])
    fields = {"threshold": "540", "p:1:employees": "70"}
    page = client_for("marketing").post(url, {**fields, "do": "whatif"})
    assert page.status_code == 200 and "What if (not saved)" in page.text
    profile.refresh_from_db()
    assert profile.threshold == 560
    client_for("marketing").post(url, {**fields, "do": "save"})
    profile.refresh_from_db()
    assert profile.threshold == 540
    assert profile.scorecard["attributes"][1]["bins"][1]["points"] == 70
    bad = client_for("marketing").post(url, {"threshold": "x", "p:1:employees": "70"})
    assert bad.status_code == 400 and "whole number" in bad.text
    assert client_for("sales_rep").post(url, {**fields, "do": "save"}).status_code == 403


def test_versions_page_diff_and_fit_errors(client_for, users, django_capture_on_commit_callbacks):
    first = live(users)
    second = draft(users, threshold=600)
    page = client_for("sales_rep").get(reverse("scoring:versions"), {"a": first.pk, "b": second.pk})
    assert "Threshold 560" in page.text and "Fit a draft" not in page.text
    with django_capture_on_commit_callbacks(execute=True):  # the background fit, run after
        client_for("marketing").post(reverse("scoring:fit_history"))
    page = client_for("marketing").get(reverse("scoring:versions"))
    assert "No closed leads yet" in page.text  # the failed fit, listed with its reason
    upload = io.BytesIO(b"a,won\n1,1\n2,0\n")
    upload.name = "h.csv"
    with django_capture_on_commit_callbacks(execute=True):
        client_for("marketing").post(
            reverse("scoring:fit_csv"), {"history": upload, "outcome": "won"}
        )
    assert "too few rows" in client_for("marketing").get(reverse("scoring:versions")).text
    assert LeadProfile.objects.count() == 2
    assert client_for("sales_rep").post(reverse("scoring:fit_history")).status_code == 403


def test_lead_page_shows_the_score_explanation(client_for, users):
    live(users)
    lead = LeadFactory(source_channel="referral", attributes={"employees": 90})
    lead_score_refresh([lead.pk])
    page = client_for("sales_rep").get(reverse("leads:detail", args=[lead.pk]))
    assert "Score 600" in page.text and "Base points" in page.text and "+60" in page.text


def test_api_reads_and_refuses(client_for, users):
    profile = draft(users)
    client = client_for("sales_rep")
    assert client.get("/api/profile/live/").status_code == 404
    answer = client.post(f"/api/profile/versions/{profile.pk}/propose/")
    assert answer.status_code == 403 and answer.json()["error"]["code"] == "forbidden"
    assert (
        client_for("marketing")
        .post(f"/api/profile/versions/{profile.pk}/propose/")
        .json()["status"]
        == "proposed"
    )
    assert len(client.get("/api/profile/versions/").json()) == 1


def test_drift_command(users):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="no lead profile is live"):
        call_command("scoring", "drift")
    live(users)
    out = io.StringIO()
    call_command("scoring", "drift", stdout=out)
    assert "Live profile v1" in out.getvalue() and "AUC:" in out.getvalue()
    with pytest.raises(CommandError, match="--weeks"):
        call_command("scoring", "drift", "--weeks", "0")


def test_back_to_draft_from_the_page_keeps_the_reason(client_for, users):
    profile = draft(users)
    url = reverse("scoring:action", args=[profile.pk, "withdraw"])
    client_for("marketing").post(reverse("scoring:action", args=[profile.pk, "propose"]))
    page = client_for("marketing").post(url, {"reason": "  Wrong threshold  "}, follow=True)
    assert "Sent back to draft" in page.text
    profile.refresh_from_db()
    event = profile.events.get(action="withdrawn")
    assert profile.status == ProfileStatus.DRAFT and event.data["reason"] == "Wrong threshold"


def test_live_page_reuses_its_drift_report(client_for, users):
    live(users)
    LeadFactory.create_batch(5, source_channel="referral")
    client = client_for("marketing")
    assert "Figures as of" in client.get(reverse("scoring:live")).text
    with CaptureQueriesContext(connection) as reused:
        client.get(reverse("scoring:live"))
    cache.clear()
    with CaptureQueriesContext(connection) as fresh:
        client.get(reverse("scoring:live"))
    assert len(reused.captured_queries) < len(fresh.captured_queries)
