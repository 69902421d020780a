"""The profile API does what the pages do, through the same services: start a draft, edit it,
propose, approve, reject, go live or schedule, fit from history. 400 on bad input, 403 for a
wrong role, 409 for a wrong state; nothing changes on a refusal."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from leadpact.factories import LeadFactory
from leadpact.leads.models import LeadState
from leadpact.scoring.models import LeadProfile, ProfileEvent, ProfileStatus
from leadpact.scoring.tests import synthetic
from leadpact.scoring.tests.pact import RULES, live

pytestmark = pytest.mark.django_db
API = "/api/profile"


def _post(client, url: str, data: dict | None = None):
    return client.post(url, data=data or {}, content_type="application/json")


def _patch(client, url: str, data: dict):
    return client.patch(url, data=data, content_type="application/json")


def test_draft_edit_propose_approve_and_go_live_through_the_api(client_for, users):
    base = live(users)
    marketer = client_for("marketing")
    created = _post(marketer, f"{API}/versions/")
    assert created.status_code == 201
    body = created.json()
    assert body["status"] == "draft" and body["based_on"] == base.version
    url = f"{API}/versions/{body['id']}/"
    rules = [dict(RULES[0], points=25), {"kind": "webinar", "points": 12, "cap": None}]
    edited = _patch(
        marketer,
        url,
        {
            "threshold": 570,
            "points": [{"attribute": "employees", "bin": 1, "points": 45}],
            "engagement_rules": rules,
        },
    )
    assert edited.status_code == 200, edited.json()
    out = edited.json()
    assert out["threshold"] == 570
    assert out["scorecard"]["attributes"][1]["bins"][1]["points"] == 45
    assert [r["kind"] for r in out["engagement_rules"]] == ["form_fill", "webinar"]
    assert out["engagement_rules"][1] == {
        "kind": "webinar",
        "points": 12,
        "half_life_days": 30,
        "cap": None,
        "period_days": 30,
    }
    diff = out["diff"]
    assert diff["threshold"] == {"old": 560, "new": 570}
    assert {r["kind"] for r in diff["engagement"]} == {"form_fill", "page_view", "webinar"}
    edit_event = next(e for e in out["events"] if e["action"] == "edited")
    assert edit_event["actor"] == users["marketing"].username
    assert {r["kind"] for r in edit_event["data"]["engagement"]} == {
        "form_fill",
        "page_view",
        "webinar",
    }
    assert _post(marketer, f"{url}propose/").json()["status"] == "proposed"
    assert _post(client_for("sales_manager"), f"{url}approve/").status_code == 200
    second = users["marketing2"]  # made by live(): a second marketer
    from django.test import Client

    other = Client()
    other.force_login(second)
    assert _post(other, f"{url}approve/").json()["status"] == "approved"
    went = _post(client_for("sales_manager"), f"{url}live/")
    assert went.status_code == 200 and went.json()["status"] == "live"
    base.refresh_from_db()
    assert base.status == ProfileStatus.RETIRED


def test_reject_needs_a_reason_and_sends_back_to_draft(client_for, users):
    live(users)
    marketer = client_for("marketing")
    profile_id = _post(marketer, f"{API}/versions/").json()["id"]
    url = f"{API}/versions/{profile_id}/"
    _post(marketer, f"{url}propose/")
    manager = client_for("sales_manager")
    missing = _post(manager, f"{url}reject/")
    assert missing.status_code == 400 and "Say why" in missing.json()["error"]["message"]
    assert _post(client_for("sales_rep"), f"{url}reject/", {"reason": "no"}).status_code == 403
    assert _post(marketer, f"{url}reject/", {"reason": "mine"}).status_code == 403  # author
    done = _post(manager, f"{url}reject/", {"reason": "Threshold too low for our queue"})
    assert done.status_code == 200 and done.json()["status"] == "draft"
    event = ProfileEvent.objects.get(action="rejected")
    assert event.actor == users["sales_manager"] and "too low" in event.data["reason"]
    assert _post(manager, f"{url}reject/", {"reason": "again"}).status_code == 409


def test_schedule_through_the_api(client_for, users):
    from leadpact.scoring.tests.pact import approved

    live(users)
    profile = approved(users)
    at = timezone.now() + timedelta(days=2)
    answer = _post(
        client_for("sales_manager"),
        f"{API}/versions/{profile.pk}/live/",
        {"effective_from": at.isoformat()},
    )
    assert answer.status_code == 200 and answer.json()["status"] == "scheduled"
    bad = _post(
        client_for("sales_manager"), f"{API}/versions/{profile.pk}/live/", {"effective_from": "x"}
    )
    assert bad.status_code == 400 and "effective_from" in bad.json()["error"]["details"]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ({"threshold": "high"}, "valid integer"),
        ({"points": [{"attribute": "employees", "bin": 9, "points": 1}]}, "No bin 9"),
        ({"engagement_rules": [{"kind": "telepathy", "points": 3}]}, "Unknown touch kind"),
        (
            {"engagement_rules": [{"kind": "form_fill", "points": 3, "half_life_days": 0}]},
            "Half-life for Form fill (days) must be more than 0",
        ),
        (
            {"engagement_rules": [{"kind": "form_fill", "points": 3, "cap": -1}]},
            "Cap for Form fill must be at least 0",
        ),
        (
            {"engagement_rules": [{"kind": "chat", "points": 1}, {"kind": "chat", "points": 2}]},
            "appears twice",
        ),
        ({"colour": "blue"}, "Unknown field"),
    ],
)
def test_bad_edits_answer_400_and_change_nothing(client_for, users, edit, message):
    live(users)
    marketer = client_for("marketing")
    body = _post(marketer, f"{API}/versions/").json()
    answer = _patch(marketer, f"{API}/versions/{body['id']}/", edit)
    assert answer.status_code == 400
    assert message in str(answer.json()["error"])
    profile = LeadProfile.objects.get(pk=body["id"])
    assert profile.engagement_rules == body["engagement_rules"]
    assert profile.threshold == body["threshold"] and profile.scorecard == body["scorecard"]
    assert not profile.events.filter(action="edited").exists()


def test_wrong_roles_are_refused_before_their_input_is_read(client_for, users):
    base = live(users)
    rep = client_for("sales_rep")
    assert _post(rep, f"{API}/versions/").status_code == 403
    assert _patch(rep, f"{API}/versions/{base.pk}/", {"threshold": "x"}).status_code == 403
    assert _post(rep, f"{API}/fit/", {"folds": 99}).status_code == 403
    assert _post(rep, f"{API}/versions/{base.pk}/live/", {"effective_from": "x"}).status_code == 403
    assert _post(client_for("admin"), f"{API}/versions/{base.pk}/approve/").status_code == 403
    assert LeadProfile.objects.count() == 1
    # a live version is not a draft: 409, and it stays as it was
    answer = _patch(client_for("marketing"), f"{API}/versions/{base.pk}/", {"threshold": 1})
    assert answer.status_code == 409
    assert _post(client_for("marketing"), f"{API}/versions/999/propose/").status_code == 404


def test_fit_from_own_history_through_the_api(
    client_for, users, django_capture_on_commit_callbacks
):
    marketer = client_for("marketing")
    with django_capture_on_commit_callbacks(execute=True):  # the background fit
        empty = _post(marketer, f"{API}/fit/")
    assert empty.status_code == 202 and empty.json()["status"] == "queued"
    failed = marketer.get(empty["Location"]).json()
    assert failed["status"] == "failed" and "No closed leads" in failed["error"]
    assert _post(marketer, f"{API}/fit/", {"folds": 1}).status_code == 400
    X, y = synthetic.leads(300, seed=3)
    for i in range(len(y)):
        LeadFactory(
            source_channel=X["source"][i] or "",
            state=LeadState.WON if y[i] else LeadState.LOST,
            attributes={"occupation": X["occupation"][i]},
        )
    with django_capture_on_commit_callbacks(execute=True):
        answer = _post(marketer, f"{API}/fit/", {"folds": 3})
    assert answer.status_code == 202, answer.json()
    run = marketer.get(answer["Location"]).json()
    assert run["status"] == "done" and run["options"] == {
        "folds": 3,
        "exclude": [],
        "max_attributes": 12,
    }
    body = marketer.get(f"{API}/versions/{run['profile']}/").json()
    assert body["status"] == "draft" and body["source"] == "closed leads (300)"
    assert body["version"] == run["profile_version"]
    assert body["report"]["validation"]["auc_mean"] > 0.6
    assert "engagement" in body["report"]
    assert client_for("sales_rep").get(answer["Location"]).status_code == 200  # reads are open
    assert marketer.get(f"{API}/fits/999/").status_code == 404


def test_openapi_schema_documents_the_profile_endpoints(client_for, users):
    schema = client_for("admin").get("/api/schema/")
    assert schema.status_code == 200
    text = schema.content.decode()
    for path in (
        "/api/profile/fit/",
        "/api/profile/fits/{run_id}/",
        "/api/profile/versions/{profile_id}/",
    ):
        assert path in text
    assert "DraftEditIn" in text and "engagement_rules" in text
