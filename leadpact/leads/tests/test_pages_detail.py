from __future__ import annotations

import pytest
from django.urls import reverse

from leadpact.campaigns.touch_input import TouchInput
from leadpact.factories import CampaignFactory, LeadFactory, TouchFactory
from leadpact.leads.models import LeadState, TimelineEvent
from leadpact.leads.records import clean_lead_input
from leadpact.leads.services.capture import lead_capture
from leadpact.leads.services.dedupe import lead_merge
from leadpact.leads.services.lifecycle import lead_mark_mql, lead_offer
from leadpact.leads.services.notes import lead_note_add
from leadpact.leads.services.timeline import timeline_event

pytestmark = pytest.mark.django_db


def _html(response) -> str:
    return response.content.decode()


def _url(lead) -> str:
    return reverse("leads:detail", args=[lead.pk])


def _act(client, lead, action, **data):
    return client.post(reverse("leads:act", args=[lead.pk, action]), data, follow=True)


@pytest.fixture
def rich_lead(users):
    """A lead with one event of every kind and a touch."""
    campaign = CampaignFactory(name="Spring webinar")
    lead = LeadFactory(
        first_name="Ada",
        last_name="Lovelace",
        title="CTO",
        company_name="Engines Ltd",
        city="London",
        country="UK",
        external_source="crm",
        external_id="X-1",
        source_channel="webinar",
        source_campaign=campaign,
        score=77,
        attributes={"industry": "Computing", "employees": 40},
    )
    touch = TouchFactory(
        lead=lead,
        kind="webinar",
        channel="webinar",
        campaign=campaign,
        utm_source="newsletter",
        utm_medium="email",
        utm_campaign="spring",
    )
    timeline_event(lead=lead, kind="created", summary="Captured from the web form")
    timeline_event(lead=lead, kind="touch", summary="Webinar", touch_id=touch.pk)
    timeline_event(
        lead=lead,
        kind="field_change",
        summary="Profile updated",
        data={"changes": {"title": ["Engineer", "CTO"], "city": [None, "London"]}},
    )
    timeline_event(lead=lead, kind="merge", summary="Merged a duplicate", data={"duplicate": 999})
    lead_mark_mql(lead=lead, actor=users["marketing"])
    lead_offer(lead=lead, rep=users["sales_rep"], actor=users["sales_manager"])
    lead_note_add(lead=lead, actor=users["marketing"], body="Asked for pricing.\nCall Tuesday.")
    return lead


@pytest.mark.parametrize("role", ["marketing", "sales_rep", "admin", "other_rep"])
def test_everyone_sees_the_same_facts_timeline_and_touches(client_for, rich_lead, role):
    response = client_for(role).get(_url(rich_lead))
    assert response.status_code == 200
    html = _html(response)
    for text in (
        "Ada Lovelace",
        "Engines Ltd",
        "CTO",
        "London, UK",
        "Spring webinar",
        "X-1",
        "Computing",
        "77",
        "Offered to sales",
        # timeline, every kind legible
        "Webinar · Webinar",
        "newsletter",
        "Engineer",
        "Marketing qualified (MQL) → Offered to sales",
        "Assigned to",
        "Asked for pricing.\nCall Tuesday.",
        "Merged lead #999",
        "Captured from the web form",
    ):
        assert text in html, text


def test_timeline_is_newest_first(client_for, rich_lead):
    events = client_for("marketing").get(_url(rich_lead)).context["events"]
    times = [(e.occurred_at, e.id) for e in events]
    assert times == sorted(times, reverse=True)
    assert events[0].kind == TimelineEvent.Kind.NOTE


def test_anonymous_cannot_open_a_lead_and_unknown_lead_is_404(client, client_for):
    lead = LeadFactory()
    assert client.get(_url(lead)).status_code == 302
    assert (
        client_for("marketing").get(reverse("leads:detail", args=[lead.pk + 99])).status_code == 404
    )


def test_fixed_number_of_queries(client_for, rich_lead, django_assert_num_queries):
    client = client_for("sales_rep")
    client.get(_url(rich_lead))
    # session, user, lead, timeline, touches, merged-from, latest score event (its explanation)
    with django_assert_num_queries(7):
        client.get(_url(rich_lead))
    for _ in range(20):
        lead_note_add(lead=rich_lead, actor=None, body="more")  # system notes
        TouchFactory(lead=rich_lead)
    with django_assert_num_queries(7):
        client.get(_url(rich_lead))
    # a manager also gets the sales people for "assign"; their teams are read once
    manager = client_for("sales_manager")
    with django_assert_num_queries(9):
        manager.get(_url(rich_lead))


# --- buttons -----------------------------------------------------------------------------------


def test_buttons_follow_role_and_state(client_for, rich_lead):
    rep_html = _html(client_for("sales_rep").get(_url(rich_lead)))
    assert reverse("leads:act", args=[rich_lead.pk, "accept"]) in rep_html
    assert reverse("leads:act", args=[rich_lead.pk, "reject"]) in rep_html
    assert reverse("leads:act", args=[rich_lead.pk, "mark_mql"]) not in rep_html
    other = _html(client_for("other_rep").get(_url(rich_lead)))
    assert "/actions/" not in other and 'id="note-box"' not in other
    marketing = _html(client_for("marketing").get(_url(rich_lead)))
    assert reverse("leads:act", args=[rich_lead.pk, "accept"]) not in marketing
    assert reverse("leads:act", args=[rich_lead.pk, "recycle"]) in marketing
    manager = _html(client_for("sales_manager").get(_url(rich_lead)))
    assert reverse("leads:act", args=[rich_lead.pk, "offer"]) in manager


def test_rep_accepts_then_works_the_lead_to_won(client_for, rich_lead):
    client = client_for("sales_rep")
    for action, state in (
        ("accept", LeadState.ACCEPTED),
        ("qualify", LeadState.SQL),
        ("convert", LeadState.OPPORTUNITY),
        ("won", LeadState.WON),
    ):
        response = _act(client, rich_lead, action)
        assert response.status_code == 200
        rich_lead.refresh_from_db()
        assert rich_lead.state == state, action
    assert "Closed as won." in _html(response)


def test_reject_needs_a_reason(client_for, rich_lead):
    client = client_for("sales_rep")
    response = _act(client, rich_lead, "reject", reason="  ")
    assert "say why" in _html(response)
    rich_lead.refresh_from_db()
    assert rich_lead.state == LeadState.OFFERED
    response = _act(client, rich_lead, "reject", reason="No budget")
    rich_lead.refresh_from_db()
    assert rich_lead.state == LeadState.RECYCLED and rich_lead.owner is None
    assert "No budget" in _html(response)


def test_a_rep_who_may_not_act_is_refused_with_a_message(client_for, rich_lead):
    response = _act(client_for("other_rep"), rich_lead, "accept")
    assert response.status_code == 200
    assert "You may not" in _html(response) or "offered to someone else" in _html(response)
    rich_lead.refresh_from_db()
    assert rich_lead.state == LeadState.OFFERED


def test_impossible_transition_gives_a_clear_message(client_for, users):
    lead = LeadFactory()
    response = _act(client_for("admin"), lead, "won")
    assert "cannot become won" in _html(response)
    lead.refresh_from_db()
    assert lead.state == LeadState.NEW


def test_manager_offers_to_a_rep_and_bad_rep_is_refused(client_for, users):
    lead = LeadFactory(state=LeadState.MQL)
    client = client_for("sales_manager")
    assert "Choose the salesperson" in _html(_act(client, lead, "offer", rep="nobody"))
    assert "not an active salesperson" in _html(
        _act(client, lead, "offer", rep=users["marketing"].pk)
    )
    _act(client, lead, "offer", rep=users["sales_rep"].pk)
    lead.refresh_from_db()
    assert (lead.state, lead.owner) == (LeadState.OFFERED, users["sales_rep"])


def test_unknown_action_is_404_and_get_is_refused(client_for):
    lead = LeadFactory()
    client = client_for("admin")
    assert client.post(reverse("leads:act", args=[lead.pk, "teleport"])).status_code == 404
    assert client.get(reverse("leads:act", args=[lead.pk, "accept"])).status_code == 405


def test_merged_lead_links_both_ways_and_offers_no_buttons(client_for, users):
    primary = LeadFactory(first_name="Kept", title="")
    dup = LeadFactory(first_name="Gone", title="Buyer")
    TouchFactory(lead=dup, kind="download", channel="email", utm_campaign="ebook")
    lead_merge(primary=primary, duplicate=dup, actor=users["admin"])
    html = _html(client_for("admin").get(_url(dup)))
    assert "was merged into" in html and _url(primary) in html and "/actions/" not in html
    assert f"Surviving lead #{primary.pk}" in html
    html = _html(client_for("sales_rep").get(_url(primary)))
    assert "Merged from" in html and _url(dup) in html
    assert f"Merged lead #{dup.pk}" in html and "Buyer" in html  # the filled-in title
    assert "Download" in html and "ebook" in html  # the touch moved over
    assert "merged into another" in _html(_act(client_for("admin"), dup, "disqualify", reason="x"))


# --- notes ------------------------------------------------------------------------------------


def test_htmx_note_comes_back_as_the_top_timeline_entry(client_for, rich_lead):
    response = client_for("marketing").post(
        reverse("leads:note_add", args=[rich_lead.pk]),
        {"body": "Met at the booth"},
        headers={"HX-Request": "true"},
    )
    html = _html(response)
    assert response.status_code == 200
    assert 'hx-swap-oob="afterbegin:#timeline"' in html and "Met at the booth" in html
    assert 'id="note-box"' in html and "<html" not in html
    assert rich_lead.timeline.filter(kind="note", body="Met at the booth").exists()


def test_empty_note_is_an_inline_error_and_writes_nothing(client_for, rich_lead):
    before = rich_lead.timeline.count()
    client = client_for("marketing")
    response = client.post(
        reverse("leads:note_add", args=[rich_lead.pk]),
        {"body": "   "},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert "A note cannot be empty." in _html(response) and "hx-swap-oob" not in _html(response)
    response = client.post(reverse("leads:note_add", args=[rich_lead.pk]), {"body": ""})
    assert response.status_code == 400 and "A note cannot be empty." in _html(response)
    assert rich_lead.timeline.count() == before


def test_note_without_htmx_redirects_to_the_timeline(client_for, rich_lead):
    response = client_for("sales_rep").post(
        reverse("leads:note_add", args=[rich_lead.pk]), {"body": "Called, left voicemail"}
    )
    assert response.status_code == 302 and response["Location"].endswith("#timeline")


def test_rep_who_may_not_note_is_refused_and_text_kept(client_for, rich_lead):
    response = client_for("other_rep").post(
        reverse("leads:note_add", args=[rich_lead.pk]),
        {"body": "sneaky"},
        headers={"HX-Request": "true"},
    )
    assert "You may not" in _html(response) and "sneaky" in _html(response)
    assert not rich_lead.timeline.filter(body="sneaky").exists()


def test_captured_twice_shows_creation_touches_and_profile_changes(client_for):
    """Through the real capture service: what marketing records is what sales reads."""
    CampaignFactory(name="Autumn ebook", code="autumn-ebook", channel="email")
    first, errors = clean_lead_input(
        {"first_name": "Alan", "last_name": "Turing", "email": "alan@bletchley.uk"}
    )
    assert not errors
    touch = TouchInput(kind="download", channel="email", utm_campaign="autumn-ebook")
    lead = lead_capture(record=first, actor=None, via="web form", touch=touch).lead
    second, _ = clean_lead_input(
        {"email": "alan@bletchley.uk", "title": "Cryptanalyst", "city": "Manchester"}
    )
    lead_capture(record=second, actor=None, via="API", touch=None)
    html = _html(client_for("sales_rep").get(_url(lead)))
    for text in ("Captured via web form", "Download", "Autumn ebook", "autumn-ebook"):
        assert text in html, text
    assert "Cryptanalyst" in html and "Manchester" in html and "API" in html


def test_a_qualified_lead_offers_to_open_a_deal(client_for, users):
    lead = LeadFactory(state=LeadState.SQL, owner=users["sales_rep"])
    html = client_for("sales_rep").get(reverse("leads:detail", args=[lead.pk])).content.decode()
    assert f"{reverse('pipeline:deal_new')}?lead={lead.pk}" in html
    marketer = client_for("marketing").get(reverse("leads:detail", args=[lead.pk]))
    assert reverse("pipeline:deal_new") not in marketer.content.decode()
