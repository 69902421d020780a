import pytest
from django.urls import reverse

from leadpact.leads.models import LeadState
from leadpact.leads.services.lifecycle import lead_offer
from leadpact.routing.models import RoutingChange, RoutingRule, SlaPolicy

pytestmark = pytest.mark.django_db


def test_rep_lists_and_accepts_offers(users, client_for, mql, policies):
    lead_offer(lead=mql, rep=users["sales_rep"], actor=None)
    client = client_for("sales_rep")
    offers = client.get(reverse("api:routing-offers")).json()
    assert [o["lead"] for o in offers] == [mql.pk]
    assert offers[0]["expires_at"]
    response = client.post(reverse("api:routing-accept", args=[mql.pk]))
    assert response.status_code == 200 and response.json()["state"] == LeadState.ACCEPTED
    again = client.post(reverse("api:routing-accept", args=[mql.pk]))
    assert again.status_code == 409 and "not waiting" in again.json()["error"]["message"]


def test_offers_endpoint_refuses_marketing(client_for):
    response = client_for("marketing").get(reverse("api:routing-offers"))
    assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"


def test_reject_validates_input(users, client_for, mql):
    lead_offer(lead=mql, rep=users["sales_rep"], actor=None)
    client = client_for("sales_rep")
    url = reverse("api:routing-reject", args=[mql.pk])
    missing = client.post(url, {}, content_type="application/json")
    assert missing.status_code == 400 and "reason" in missing.json()["error"]["details"]
    unknown = client.post(url, {"reason": "x", "colour": "red"}, content_type="application/json")
    assert unknown.status_code == 400 and "colour" in unknown.json()["error"]["details"]
    other = client_for("other_rep").post(url, {"reason": "x"}, content_type="application/json")
    assert other.status_code in (403, 409)
    ok = client.post(url, {"reason": "No budget"}, content_type="application/json")
    assert ok.status_code == 200 and ok.json()["state"] == LeadState.RECYCLED


def test_marketing_cannot_accept(users, client_for, mql):
    lead_offer(lead=mql, rep=users["sales_rep"], actor=None)
    response = client_for("marketing").post(reverse("api:routing-accept", args=[mql.pk]))
    assert response.status_code in (403, 409)
    mql.refresh_from_db()
    assert mql.state == LeadState.OFFERED


def test_rules_api_roles_and_validation(users, client_for):
    team = users["sales_rep"].team
    body = {
        "name": "BR",
        "conditions": [{"field": "country", "op": "eq", "value": "BR"}],
        "team": team.pk,
    }
    assert (
        client_for("sales_rep")
        .post(reverse("api:routing-rules"), body, content_type="application/json")
        .status_code
        == 403
    )
    assert client_for("marketing").get(reverse("api:routing-rules")).status_code == 403
    bad = client_for("admin").post(
        reverse("api:routing-rules"),
        {**body, "conditions": [{"field": "x", "op": "eq", "value": 1}]},
        content_type="application/json",
    )
    assert bad.status_code == 400 and "unknown field" in bad.json()["error"]["message"]
    created = client_for("sales_manager").post(
        reverse("api:routing-rules"), body, content_type="application/json"
    )
    assert created.status_code == 201 and RoutingRule.objects.count() == 1
    assert client_for("sales_manager").get(reverse("api:routing-rules")).json()[0]["name"] == "BR"


def test_routing_run_and_policies_api(users, client_for, mql):
    assert client_for("sales_rep").post(reverse("api:routing-run")).status_code == 403
    assert client_for("admin").post(reverse("api:routing-run")).json() == {
        "offered": 0,
        "fallback": 1,
    }
    body = {"name": "Answer", "kind": "offer_response", "amount": 4}
    assert (
        client_for("marketing")
        .post(reverse("api:sla-policies"), body, content_type="application/json")
        .status_code
        == 403
    )
    assert (
        client_for("admin")
        .post(reverse("api:sla-policies"), body, content_type="application/json")
        .status_code
        == 201
    )
    assert client_for("sales_rep").get(reverse("api:sla-policies")).status_code == 403
    assert client_for("marketing").get(reverse("api:sla-policies")).json()[0]["amount"] == 4
    assert (
        RoutingChange.objects.filter(subject="policy", object_id=SlaPolicy.objects.get().pk).count()
        == 1
    )
    bad = client_for("admin").post(
        reverse("api:sla-policies"), {**body, "amount": 0}, content_type="application/json"
    )
    assert bad.status_code == 400
