import json

import pytest
from django.test import Client

from leadpact.campaigns.models import Campaign, Touch
from leadpact.factories import CampaignFactory, LeadFactory, TouchFactory

pytestmark = pytest.mark.django_db

NEW = {"name": "Fair", "code": "fair-2025", "channel": "event", "cost": "500.00", "currency": "EUR"}


def send(client, method, path, body):
    return getattr(client, method)(path, json.dumps(body), content_type="application/json")


def test_marketing_creates_and_updates_a_campaign(client_for):
    client = client_for("marketing")
    created = send(client, "post", "/api/campaigns/", NEW)
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["code"] == "fair-2025" and body["sourced_leads_count"] == 0
    changed = send(client, "patch", f"/api/campaigns/{body['id']}/", {"cost": "750.25"})
    assert changed.status_code == 200 and changed.json()["cost"] == "750.25"


@pytest.mark.parametrize(
    "body",
    [
        NEW | {"cost": "-5"},
        NEW | {"cost": "abc"},
        NEW | {"currency": "ZZZ"},
        NEW | {"start_date": "2025-02-01", "end_date": "2025-01-01"},
        NEW | {"code": "Not A Slug!"},
        NEW | {"extra": 1},
        NEW | {"is_active": "maybe"},
        {"name": "No code"},
    ],
)
def test_bad_campaigns_are_400(client_for, body):
    response = send(client_for("admin"), "post", "/api/campaigns/", body)
    assert response.status_code == 400 and "error" in response.json()
    assert not Campaign.objects.exists()


@pytest.mark.parametrize("role", ["sales_rep", "sales_manager"])
def test_sales_read_but_may_not_write(client_for, role):
    campaign = CampaignFactory()
    client = client_for(role)
    assert client.get("/api/campaigns/").status_code == 200
    assert client.get(f"/api/campaigns/{campaign.pk}/").status_code == 200
    assert send(client, "post", "/api/campaigns/", NEW).status_code == 403
    assert send(client, "patch", f"/api/campaigns/{campaign.pk}/", {"cost": "1"}).status_code == 403
    assert send(client, "post", "/api/touches/bulk/", {"touches": []}).status_code == 403
    assert Campaign.objects.count() == 1


def test_list_counts_in_a_fixed_number_of_queries(client_for, django_assert_num_queries):
    client = client_for("marketing")
    client.get("/api/campaigns/")  # warm the session and user lookups
    for _ in range(4):
        campaign = CampaignFactory()
        LeadFactory.create_batch(2, source_campaign=campaign)
        TouchFactory.create_batch(3, campaign=campaign)
    with django_assert_num_queries(3):  # session, user, campaigns with both counts
        response = client.get("/api/campaigns/")
    rows = response.json()
    assert len(rows) == 4
    assert all(r["sourced_leads_count"] == 2 and r["touches_count"] == 3 for r in rows)


def test_bulk_touches_endpoint_is_idempotent(client_for):
    lead = LeadFactory()
    client = client_for("marketing")
    batch = {"touches": [{"lead_id": lead.pk, "kind": "email_open", "idempotency_key": "o1"}]}
    first = send(client, "post", "/api/touches/bulk/", batch)
    again = send(client, "post", "/api/touches/bulk/", batch)
    assert first.status_code == 201 and first.json() == {"received": 1, "created": 1, "skipped": 0}
    assert again.status_code == 200 and again.json()["created"] == 0
    assert Touch.objects.count() == 1
    bad = send(client, "post", "/api/touches/bulk/", {"touches": [{"lead_id": lead.pk}]})
    assert bad.status_code == 400
    assert "0" in bad.json()["error"]["details"]["errors"]
    assert send(client, "post", "/api/touches/bulk/", {"touches": "x"}).status_code == 400


def test_unauthenticated_is_refused():
    assert Client().get("/api/campaigns/").status_code in (401, 403)
