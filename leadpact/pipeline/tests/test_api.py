from __future__ import annotations

import datetime as dt

from django.utils import timezone

from leadpact.pipeline.models import Deal, Pipeline


def _close() -> str:
    return (timezone.localdate() + dt.timedelta(days=7)).isoformat()


def test_create_and_conflict(pipeline, client_for):
    client = client_for("sales_rep")
    body = {
        "name": "API deal",
        "amount": "10.00",
        "currency": "EUR",
        "close_date": _close(),
        "account_name": "Acme",
    }
    created = client.post("/api/pipeline/deals/", body, content_type="application/json")
    assert created.status_code == 201, created.json()
    deal_id = created.json()["id"]
    first = client.patch(
        f"/api/pipeline/deals/{deal_id}/",
        {"version": 1, "amount": "20.00"},
        content_type="application/json",
    )
    assert first.status_code == 200 and first.json()["version"] == 2
    stale = client_for("sales_manager").patch(
        f"/api/pipeline/deals/{deal_id}/",
        {"version": 1, "amount": "30.00"},
        content_type="application/json",
    )
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "stale_version"
    assert str(Deal.objects.get().amount) == "20.00"


def test_bad_input_is_a_clear_400(pipeline, client_for):
    client = client_for("sales_rep")
    for body, field in [
        (
            {
                "name": "n",
                "amount": "1.001",
                "currency": "EUR",
                "close_date": _close(),
                "account_name": "A",
            },
            "amount",
        ),
        (
            {
                "name": "n",
                "amount": "1",
                "currency": "XXX1",
                "close_date": _close(),
                "account_name": "A",
            },
            "currency",
        ),
        (
            {
                "name": "n",
                "amount": "1",
                "currency": "EUR",
                "close_date": "2001-01-01",
                "account_name": "A",
            },
            "close_date",
        ),
        ({"amount": "1", "currency": "EUR", "close_date": _close(), "bogus": 1}, "bogus"),
    ]:
        response = client.post("/api/pipeline/deals/", body, content_type="application/json")
        assert response.status_code == 400, body
        error = response.json()["error"]
        assert field in error["details"], error
    assert not Deal.objects.exists()


def test_roles_on_the_api(make_deal, client_for, users):
    deal = make_deal()
    url = f"/api/pipeline/deals/{deal.pk}/"
    assert client_for("other_rep").get(url).status_code == 403
    assert client_for("marketing").get(url).status_code == 200
    assert (
        client_for("marketing")
        .patch(url, {"version": 1, "name": "x"}, content_type="application/json")
        .status_code
        == 403
    )
    assert (
        client_for("marketing")
        .post("/api/pipeline/deals/", {}, content_type="application/json")
        .status_code
        == 403
    )
    assert [d["id"] for d in client_for("other_rep").get("/api/pipeline/deals/").json()] == []
    move = client_for("sales_rep").post(
        f"{url}move/", {"version": 1, "stage": deal.stage_id + 1}, content_type="application/json"
    )
    assert move.status_code == 400 and move.json()["error"]["code"] == "exit_criteria"


def test_pipeline_config_roles_and_rules(pipeline, client_for, make_deal):
    body = {"name": "Renewals", "stages": [{"name": "Open", "probability": 50}]}
    assert (
        client_for("sales_rep")
        .post("/api/pipeline/pipelines/", body, content_type="application/json")
        .status_code
        == 403
    )
    refused = client_for("sales_manager").post(
        "/api/pipeline/pipelines/", body, content_type="application/json"
    )
    assert refused.status_code == 400 and "won stage" in refused.json()["error"]["message"]
    body["stages"].append({"name": "Won", "probability": 100, "kind": "won"})
    assert (
        client_for("admin")
        .post("/api/pipeline/pipelines/", body, content_type="application/json")
        .status_code
        == 201
    )
    assert Pipeline.objects.count() == 2
    deal = make_deal()
    gone = client_for("admin").delete(f"/api/pipeline/stages/{deal.stage_id}/")
    assert gone.status_code == 409 and gone.json()["error"]["code"] == "stage_has_deals"


def test_forecast_api(make_deal, client_for):
    make_deal(amount="1000.00")
    start = timezone.localdate().replace(day=1)
    end = timezone.localdate() + dt.timedelta(days=60)
    response = client_for("sales_rep").get(
        f"/api/pipeline/forecast/?start={start}&end={end}&quota=100"
    )
    data = response.json()
    assert response.status_code == 200
    assert (
        data["deals"] == 1
        and data["p10"] in (0.0, 1000.0)
        and 0 <= data["attainment_probability"] <= 1
    )
    assert client_for("sales_rep").get("/api/pipeline/forecast/?start=x&end=y").status_code == 400
    assert (
        client_for("other_rep")
        .get(f"/api/pipeline/forecast/?start={start}&end={end}")
        .json()["deals"]
        == 0
    )
