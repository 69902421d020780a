import json

import pytest
from django.test import Client

from leadpact.accounts.services import api_token_create, api_token_revoke
from leadpact.campaigns.models import Touch
from leadpact.factories import CampaignFactory, LeadFactory
from leadpact.leads.models import Lead, LeadState, TimelineEvent

pytestmark = pytest.mark.django_db


def post(client, path, body):
    return client.post(path, json.dumps(body), content_type="application/json")


def patch(client, path, body):
    return client.patch(path, json.dumps(body), content_type="application/json")


# --- create / merge ------------------------------------------------------------------------


def test_post_creates_then_merges(client_for):
    CampaignFactory(code="expo", channel="event")
    client = client_for("marketing")
    body = {
        "email": "Ana@Example.com",
        "first_name": "Ana",
        "campaign": "expo",
        "attributes": {"size": "200"},
        "touch": {"kind": "event", "idempotency_key": "expo-ana"},
    }
    created = post(client, "/api/leads/", body)
    assert created.status_code == 201, created.json()
    data = created.json()
    assert data["merged"] is False and data["source_campaign"]["code"] == "expo"
    merged = post(client, "/api/leads/", {"email": "ana@example.com", "title": "CEO"})
    assert merged.status_code == 200
    assert merged.json()["merged"] is True and merged.json()["changed_fields"] == ["title"]
    assert merged.json()["id"] == data["id"]
    assert Lead.objects.count() == 1 and Touch.objects.count() == 1
    lead = Lead.objects.get()
    created_event = lead.timeline.get(kind=TimelineEvent.Kind.CREATED)
    assert created_event.data["via"] == "api"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "a@example.com", "favourite_colour": "red"}, "favourite_colour"),
        ({"email": "a@example.com", "first_name": "x" * 101}, "first_name"),
        ({"email": 12345}, "email"),
        ({"email": "a@example.com", "attributes": "size=10"}, "attributes"),
        ({"email": "a@example.com", "attributes": {"k": ["nested"]}}, "attributes"),
        ({"email": "not-an-email"}, "email"),
        ({"first_name": "No identity"}, "email"),
        ({"email": "a@example.com", "captured_at": "last tuesday"}, "captured_at"),
        ({"email": "a@example.com", "touch": {"kind": "warp"}}, "touch"),
        ({"email": "a@example.com", "touch": {"kind": "event", "url": "u" * 501}}, "touch.url"),
    ],
)
def test_bad_input_is_400_json_naming_the_field(client_for, body, field):
    response = post(client_for("marketing"), "/api/leads/", body)
    assert response.status_code == 400
    error = response.json()["error"]
    details = error["details"].get("fields", error["details"])
    assert field in details, error
    assert not Lead.objects.exists()


def test_malformed_json_and_non_objects_are_400_json(client_for):
    client = client_for("marketing")
    broken = client.post("/api/leads/", "{oops", content_type="application/json")
    assert broken.status_code == 400 and broken.json()["error"]["code"] == "parse_error"
    listed = post(client, "/api/leads/", [{"email": "a@example.com"}])
    assert listed.status_code == 400 and "error" in listed.json()
    assert not Lead.objects.exists()


def test_unauthenticated_is_refused():
    assert Client().get("/api/leads/").status_code in (401, 403)
    assert post(Client(), "/api/leads/", {"email": "a@example.com"}).status_code in (401, 403)
    assert not Lead.objects.exists()


def test_bearer_token_works_and_a_revoked_one_fails(users):
    token, raw = api_token_create(user=users["marketing"], name="site")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert post(client, "/api/leads/", {"email": "t@example.com"}).status_code == 201
    api_token_revoke(token=token, actor=users["marketing"])
    refused = post(client, "/api/leads/", {"email": "u@example.com"})
    assert refused.status_code == 401
    assert refused.json()["error"]["message"] == "Invalid or revoked API token."
    assert Lead.objects.count() == 1


# --- read ----------------------------------------------------------------------------------


def test_list_filters_and_pages_with_a_cursor(client_for, django_assert_max_num_queries):
    campaign = CampaignFactory()
    LeadFactory.create_batch(3, source_campaign=campaign, state=LeadState.MQL)
    LeadFactory.create_batch(2, state=LeadState.NEW)
    client = client_for("sales_rep")
    with django_assert_max_num_queries(6):
        first = client.get("/api/leads/", {"state": "mql", "size": 2})
    body = first.json()
    assert first.status_code == 200
    assert body["total"] == 3 and len(body["results"]) == 2 and body["next_cursor"]
    rest = client.get("/api/leads/", {"state": "mql", "size": 2, "cursor": body["next_cursor"]})
    ids = [r["id"] for r in body["results"]] + [r["id"] for r in rest.json()["results"]]
    assert len(set(ids)) == 3
    assert all(r["source_campaign"]["id"] == campaign.pk for r in rest.json()["results"])


@pytest.mark.parametrize(
    "params",
    [{"state": "sleepy"}, {"sort": "email"}, {"cursor": "garbage"}, {"size": "0"}, {"size": "x"}],
)
def test_list_refuses_bad_parameters(client_for, params):
    response = client_for("marketing").get("/api/leads/", params)
    assert response.status_code == 400 and "error" in response.json()


def test_detail_and_timeline(client_for):
    lead = LeadFactory()
    client = client_for("sales_rep")
    assert client.get(f"/api/leads/{lead.pk}/").json()["email"] == lead.email
    assert client.get("/api/leads/999999/").status_code == 404
    post(client_for("marketing"), f"/api/leads/{lead.pk}/notes/", {"body": "Called, keen."})
    timeline = client.get(f"/api/leads/{lead.pk}/timeline/")
    assert timeline.status_code == 200
    assert timeline.json()[0]["kind"] == "note" and timeline.json()[0]["body"] == "Called, keen."


# --- edit ----------------------------------------------------------------------------------


def test_marketing_edits_a_lead_with_a_version_check(client_for):
    lead = LeadFactory(first_name="Al", company_name="Old Co")
    client = client_for("marketing")
    response = patch(
        client, f"/api/leads/{lead.pk}/", {"company_name": "New Co", "title": "", "version": 1}
    )
    assert response.status_code == 200, response.json()
    assert response.json()["company_name"] == "New Co" and response.json()["version"] == 2
    stale = patch(client, f"/api/leads/{lead.pk}/", {"first_name": "Alan", "version": 1})
    assert stale.status_code == 409
    lead.refresh_from_db()
    assert (lead.first_name, lead.company_key, lead.version) == ("Al", "new", 2)
    event = lead.timeline.get(kind=TimelineEvent.Kind.FIELD_CHANGE)
    assert event.data["changes"]["company_name"] == ["Old Co", "New Co"]
    assert event.actor.username == "marketer"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"state": "won"}, "state"),
        ({"owner": 1}, "owner"),
        ({"city": "c" * 101}, "city"),
        ({"city": 7}, "city"),
        ({"phone": "not a phone"}, "phone"),
        ({"email": ""}, "email"),
        ({"version": "one"}, "version"),
    ],
)
def test_patch_refuses_bad_input(client_for, body, field):
    lead = LeadFactory(external_id=None)
    response = patch(client_for("admin"), f"/api/leads/{lead.pk}/", body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert field in error["details"].get("fields", error["details"])
    lead.refresh_from_db()
    assert lead.version == 1


def test_patch_email_to_another_leads_is_a_conflict(client_for):
    LeadFactory(email="taken@example.com")
    lead = LeadFactory()
    response = patch(
        client_for("marketing"), f"/api/leads/{lead.pk}/", {"email": "Taken@example.com"}
    )
    assert response.status_code == 409


def test_a_rep_cannot_edit_or_move_a_lead_they_do_not_own(client_for, users):
    lead = LeadFactory(owner=users["other_rep"], state=LeadState.ACCEPTED)
    client = client_for("sales_rep")
    assert patch(client, f"/api/leads/{lead.pk}/", {"title": "X"}).status_code == 403
    moved = post(client, f"/api/leads/{lead.pk}/transitions/", {"action": "qualify"})
    assert moved.status_code == 403
    assert post(client, f"/api/leads/{lead.pk}/notes/", {"body": "hi"}).status_code == 403
    lead.refresh_from_db()
    assert lead.state == LeadState.ACCEPTED and lead.title != "X"
    assert not lead.timeline.exists()


def test_the_owner_rep_can_edit_their_own_lead(client_for, users):
    lead = LeadFactory(owner=users["sales_rep"], state=LeadState.ACCEPTED)
    response = patch(client_for("sales_rep"), f"/api/leads/{lead.pk}/", {"title": "Head of IT"})
    assert response.status_code == 200


# --- transitions ---------------------------------------------------------------------------


def test_handoff_through_the_api(client_for, users):
    lead = LeadFactory(state=LeadState.NEW)
    marketing, manager, rep = (
        client_for("marketing"),
        client_for("sales_manager"),
        client_for("sales_rep"),
    )
    path = f"/api/leads/{lead.pk}/transitions/"
    assert post(marketing, path, {"action": "mark_mql", "reason": "score 80"}).status_code == 200
    offered = post(manager, path, {"action": "offer", "rep": users["sales_rep"].pk})
    assert (
        offered.status_code == 200
        and offered.json()["lead"]["owner"]["id"] == users["sales_rep"].pk
    )
    accepted = post(rep, path, {"action": "accept"})
    assert accepted.status_code == 200 and accepted.json()["lead"]["state"] == "accepted"
    assert (
        post(rep, path, {"action": "qualify", "note": "BANT ok"}).json()["lead"]["state"] == "sql"
    )
    lead.refresh_from_db()
    assert lead.state == LeadState.SQL and lead.owner == users["sales_rep"]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"action": "teleport"}, 400),
        ({"action": "accept", "rep": 1}, 400),  # accept takes no rep
        ({"action": "offer"}, 400),  # offer needs a rep
        ({"action": "offer", "rep": 999999}, 400),
        ({"action": "disqualify"}, 400),  # needs a reason
        ({"action": "qualify"}, 409),  # a new lead cannot become SQL
        ({"action": "assign"}, 400),
        ({}, 400),
    ],
)
def test_transition_errors(client_for, body, status):
    lead = LeadFactory(state=LeadState.NEW)
    response = post(client_for("admin"), f"/api/leads/{lead.pk}/transitions/", body)
    assert response.status_code == status, response.json()
    lead.refresh_from_db()
    assert lead.state == LeadState.NEW and not lead.timeline.exists()


def test_reject_needs_a_reason_and_recycles(client_for, users):
    lead = LeadFactory(state=LeadState.OFFERED, owner=users["sales_rep"])
    path = f"/api/leads/{lead.pk}/transitions/"
    assert post(client_for("sales_rep"), path, {"action": "reject"}).status_code == 400
    done = post(client_for("sales_rep"), path, {"action": "reject", "reason": "No budget"})
    assert done.status_code == 200 and done.json()["lead"]["state"] == "recycled"


def test_assign_and_unassign(client_for, users):
    lead = LeadFactory(state=LeadState.MQL)
    path = f"/api/leads/{lead.pk}/transitions/"
    client = client_for("sales_manager")
    assert post(client, path, {"action": "assign", "rep": users["sales_rep"].pk}).status_code == 200
    lead.refresh_from_db()
    assert lead.owner == users["sales_rep"]
    assert post(client, path, {"action": "assign", "rep": None}).status_code == 200
    lead.refresh_from_db()
    assert lead.owner is None


# --- documentation -------------------------------------------------------------------------


def test_schema_lists_the_paths_and_docs_render_without_a_cdn(client_for):
    client = client_for("sales_rep")
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    paths = json.loads(schema.content)["paths"]
    for path in (
        "/api/leads/",
        "/api/leads/{id}/",
        "/api/leads/{id}/timeline/",
        "/api/leads/{id}/notes/",
        "/api/leads/{id}/transitions/",
        "/api/touches/bulk/",
        "/api/campaigns/",
        "/api/campaigns/{id}/",
        "/f/{key}",
    ):
        assert path in paths, path
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "swagger-ui" in html and "cdn.jsdelivr" not in html and "unpkg.com" not in html


def test_a_rep_may_capture_a_new_person_but_not_overwrite_someone_elses_lead(client_for, users):
    theirs = LeadFactory(email="theirs@example.com", owner=users["other_rep"], title="CTO")
    client = client_for("sales_rep")
    refused = post(client, "/api/leads/", {"email": "theirs@example.com", "title": "Intern"})
    assert refused.status_code == 403
    theirs.refresh_from_db()
    assert theirs.title == "CTO" and theirs.version == 1
    assert post(client, "/api/leads/", {"email": "fresh@example.com"}).status_code == 201
