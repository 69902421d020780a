"""Engagement rules edited on the draft page: change, add and remove a touch kind; bad values
are refused with a clear message and nothing saved; the change is in the audit trail and the
version diff. Rejecting a proposal from the page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from leadpact.scoring.models import ProfileEvent, ProfileStatus
from leadpact.scoring.services.profiles import profile_propose
from leadpact.scoring.tests.pact import RULES, draft, live

pytestmark = pytest.mark.django_db


def _rules_fields(rules: list[dict]) -> dict[str, str]:
    fields = {}
    for i, r in enumerate(rules):
        fields[f"r-{i}-kind"] = r["kind"]
        for name in ("points", "half_life_days", "cap", "period_days"):
            value = r.get(name)
            fields[f"r-{i}-{name}"] = "" if value is None else str(value)
    return fields


def test_rules_change_add_and_remove_a_kind(client_for, users):
    base = live(users)
    profile = draft(users)
    profile.based_on = base
    profile.save()
    url = reverse("scoring:edit", args=[profile.pk])
    editor = client_for("marketing").get(reverse("scoring:version", args=[profile.pk])).text
    assert 'name="r-0-points"' in editor and 'name="r-new-kind"' in editor
    fields = {
        "threshold": "560",
        **_rules_fields(RULES),
        "r-0-points": "25",
        "r-0-cap": "",  # no cap any more
        "r-1-remove": "1",  # page_view goes
        "r-new-kind": "webinar",
        "r-new-points": "12",
        "r-new-half_life_days": "45",
        "r-new-cap": "24",
        "r-new-period_days": "30",
        "do": "save",
    }
    answer = client_for("marketing").post(url, fields)
    assert answer.status_code == 302
    profile.refresh_from_db()
    assert profile.engagement_rules == [
        {"kind": "form_fill", "points": 25, "half_life_days": 30, "cap": None, "period_days": 30},
        {"kind": "webinar", "points": 12, "half_life_days": 45, "cap": 24, "period_days": 30},
    ]
    event = ProfileEvent.objects.get(profile=profile, action="edited")
    changes = {c["kind"]: c for c in event.data["engagement"]}
    assert changes["page_view"]["new"] is None and changes["webinar"]["old"] is None
    assert (
        changes["form_fill"]["old"]["points"] == 20 and changes["form_fill"]["new"]["cap"] is None
    )
    page = client_for("sales_rep").get(reverse("scoring:version", args=[profile.pk])).text
    assert "webinar (added)" in page and "page_view (removed)" in page  # the diff
    assert "engagement rules: form_fill 20/30d/40 → 25/30d/no cap" in page  # the audit trail
    versions = client_for("sales_rep").get(
        reverse("scoring:versions"), {"a": base.pk, "b": profile.pk}
    )
    assert "webinar (added)" in versions.text


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"r-0-half_life_days": "0"}, "Half-life for Form fill (days) must be more than 0"),
        ({"r-0-points": "lots"}, "Points for Form fill must be a number (got &#x27;lots&#x27;)"),
        ({"r-1-cap": "-5"}, "Cap for Page view must be at least 0"),
        ({"r-1-period_days": "nan"}, "Cap period for Page view (days) must be more than 0"),
        (
            {"r-new-kind": "form_fill", "r-new-points": "3"},
            "The touch kind &#x27;Form fill&#x27; appears twice",
        ),
        ({"r-new-kind": "telepathy", "r-new-points": "3"}, "Unknown touch kind"),
    ],
)
def test_bad_rules_are_refused_with_a_clear_message(client_for, users, change, message):
    profile = draft(users)
    url = reverse("scoring:edit", args=[profile.pk])
    fields = {"threshold": "560", **_rules_fields(RULES), **change, "do": "save"}
    answer = client_for("marketing").post(url, fields)
    assert answer.status_code == 400
    assert message in answer.text
    profile.refresh_from_db()
    assert profile.engagement_rules == RULES
    assert not ProfileEvent.objects.filter(action="edited").exists()


def test_what_if_uses_the_edited_rules_without_saving(client_for, users, monkeypatch):
    from leadpact.scoring import views

    live(users)
    profile = draft(users)
    url = reverse("scoring:edit", args=[profile.pk])
    fields = {"threshold": "560", **_rules_fields(RULES), "r-0-points": "50", "do": "whatif"}
    scored_with = []
    real_what_if = views.what_if

    def what_if(candidate, reference):
        scored_with.append(candidate)
        return real_what_if(candidate, reference)

    monkeypatch.setattr(views, "what_if", what_if)
    page = client_for("marketing").post(url, fields)
    (candidate,) = scored_with  # the candidate is the draft as edited, not as saved
    assert candidate.rules.points[candidate.rules.index["form_fill"]] == 50
    assert page.status_code == 200 and "What if (not saved)" in page.text
    assert 'name="r-0-points" value="50"' in page.text  # shown as typed
    profile.refresh_from_db()
    assert profile.engagement_rules == RULES


def test_a_sales_manager_rejects_a_proposal_from_the_page(client_for, users):
    profile = draft(users)
    profile_propose(profile=profile, actor=users["marketing"])
    url = reverse("scoring:action", args=[profile.pk, "reject"])
    page = client_for("sales_manager").get(reverse("scoring:version", args=[profile.pk])).text
    assert "Reject (back to draft)" in page
    page = client_for("sales_manager").post(url, {"reason": ""}, follow=True)
    assert "Say why you reject" in page.text
    assert client_for("sales_rep").post(url, {"reason": "no"}).status_code == 403
    page = client_for("sales_manager").post(url, {"reason": "Too many leads for us"}, follow=True)
    assert "Rejected: sent back to draft." in page.text and "Too many leads for us" in page.text
    profile.refresh_from_db()
    assert profile.status == ProfileStatus.DRAFT
