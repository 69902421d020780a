"""The quota page, the forecast page's new parts and their posts, and the quota / attainment
/ adjustment / accuracy API: who may, bad input as a message or a 400, never a 500."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from leadpact.pipeline.models import ForecastAdjustment, PeriodKind, Quota
from leadpact.pipeline.periods import period_of
from leadpact.pipeline.services.deals import deal_move
from leadpact.pipeline.services.forecast.snapshots import (
    forecast_snapshots_score,
    forecast_snapshots_take,
)
from leadpact.pipeline.services.quotas import quota_set

pytestmark = pytest.mark.django_db


def month():
    return period_of(PeriodKind.MONTH, timezone.localdate())


def flash(response) -> str:
    return " | ".join(str(m) for m in response.wsgi_request._messages)


@pytest.fixture
def rep_quota(users):
    return quota_set(
        actor=users["admin"],
        kind="revenue",
        period=month(),
        target="10000",
        currency="EUR",
        rep=users["sales_rep"],
    ).quota


def test_quota_page_for_every_role(users, client_for, rep_quota):
    for role in ("admin", "marketing", "sales_manager", "sales_rep", "other_rep"):
        page = client_for(role).get("/pipeline/quotas/")
        assert page.status_code == 200, role
    manager = client_for("sales_manager").get("/pipeline/quotas/").content.decode()
    assert "10,000.00 EUR" in manager and "attainment-chart" in manager
    assert 'id="set-quota"' in manager and 'id="set-target"' not in manager
    marketing = client_for("marketing").get("/pipeline/quotas/").content.decode()
    assert 'id="set-target"' in marketing and 'id="set-quota"' not in marketing
    other = client_for("other_rep").get("/pipeline/quotas/").content.decode()
    assert "10,000.00" not in other and 'id="set-quota"' not in other
    bad = client_for("admin").get("/pipeline/quotas/?period=2026-13")
    assert bad.status_code == 400 and "month like 2026-11" in bad.content.decode()
    quarter = client_for("admin").get("/pipeline/quotas/?period=2026-Q4")
    assert quarter.status_code == 200 and "2026-Q4" in quarter.content.decode()


def test_quota_page_marks_a_rep_who_left(users, client_for, rep_quota):
    rep = users["sales_rep"]
    rep.is_active = False
    rep.save()
    page = client_for("admin").get("/pipeline/quotas/").content.decode()
    assert "This rep has left" in page and "10,000.00 EUR" in page


def test_setting_quotas_from_the_page(users, client_for):
    rep = users["sales_rep"]
    label = month().label
    client = client_for("sales_manager")
    ok = client.post(
        "/pipeline/quotas/set/",
        {"who": f"rep:{rep.pk}", "period": label, "target": "25000", "currency": "EUR"},
    )
    assert ok.status_code == 302 and f"period={label}" in ok["Location"]
    assert "set to 25000.00 EUR" in flash(ok)
    again = client.post(
        "/pipeline/quotas/set/",
        {"who": f"rep:{rep.pk}", "period": label, "target": "26000", "currency": "EUR"},
    )
    assert "updated to 26000.00" in flash(again) and Quota.objects.count() == 1
    for data, message in (
        ({"who": f"rep:{rep.pk}", "period": label, "target": "-5", "currency": "EUR"}, "negative"),
        ({"who": f"rep:{rep.pk}", "period": label, "target": "5", "currency": "XYZ1"}, "ISO 4217"),
        ({"who": f"rep:{rep.pk}", "period": "soon", "target": "5", "currency": "EUR"}, "2026-Q4"),
        ({"who": "", "period": label, "target": "5", "currency": "EUR"}, "Choose the rep"),
        ({"who": "rep:999999", "period": label, "target": "5", "currency": "EUR"}, "No such rep"),
    ):
        response = client.post("/pipeline/quotas/set/", data)
        assert response.status_code == 302 and message in flash(response), data
    assert Quota.objects.get().target == Decimal("26000.00")
    # Another team's rep: refused outright.
    outsider = users["other_rep"]
    refused = client.post(
        "/pipeline/quotas/set/",
        {"who": f"rep:{outsider.pk}", "period": label, "target": "5", "currency": "EUR"},
    )
    assert refused.status_code == 403
    assert client_for("marketing").post("/pipeline/quotas/set/", {}).status_code == 403
    assert client_for("sales_rep").post("/pipeline/quotas/set/", {}).status_code == 403
    rep.is_active = False
    rep.save()
    left = client_for("admin").post(
        "/pipeline/quotas/set/",
        {"who": f"rep:{rep.pk}", "period": month().next().label, "target": "5", "currency": "EUR"},
    )
    assert "has left" in flash(left)


def test_setting_marketing_targets_from_the_page(client_for):
    label = month().label
    client = client_for("marketing")
    ok = client.post(
        "/pipeline/quotas/targets/", {"kind": "mqls", "period": label, "target": "300"}
    )
    assert "set to 300.00" in flash(ok)
    bad = client.post(
        "/pipeline/quotas/targets/", {"kind": "revenue", "period": label, "target": "300"}
    )
    assert "MQLs or marketing-sourced pipeline" in flash(bad)
    assert client_for("sales_manager").post("/pipeline/quotas/targets/", {}).status_code == 403
    page = client.get("/pipeline/quotas/").content.decode()
    assert 'id="target-mqls"' in page and "300" in page


def test_forecast_page_shows_stored_quota_rollup_model_and_accuracy(
    users, client_for, make_deal, rep_quota, pipeline
):
    rep = users["sales_rep"]
    make_deal(amount="1000.00", forecast_category="commit", close_date=timezone.localdate())
    page = client_for("sales_rep").get("/pipeline/forecast/").content.decode()
    assert "stored quota" in page and 'id="quota-attainment"' in page
    assert "beginAtZero: true" in page and "P10 / P50 / P90" in page
    assert 'id="probability-source"' in page and "Slip out of the period" in page
    assert 'id="rollup"' in page and 'id="adjustment-form"' not in page
    assert "No closed period has weekly snapshots yet" in page
    manager = client_for("sales_manager").get(f"/pipeline/forecast/?scope=rep:{rep.pk}")
    assert manager.status_code == 200 and 'id="adjustment-form"' in manager.content.decode()
    assert client_for("other_rep").get(f"/pipeline/forecast/?scope=rep:{rep.pk}").status_code == 403
    bad = client_for("admin").get("/pipeline/forecast/?scope=nobody")
    assert bad.status_code == 400 and "A scope is" in bad.content.decode()
    forecast_snapshots_take()
    forecast_snapshots_score(today=month().end + dt.timedelta(days=1))
    scored = client_for("sales_rep").get("/pipeline/forecast/").content.decode()
    assert 'id="accuracy-table"' in scored and "accuracy-chart" in scored


def test_adjustment_post(users, client_for, make_deal):
    rep, period = users["sales_rep"], month()
    data = {
        "rep": rep.pk,
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
        "currency": "EUR",
        "commit": "800",
        "best_case": "1200",
        "note": "Pushing Acme",
        "back": f"/pipeline/forecast/?scope=rep:{rep.pk}",
    }
    ok = client_for("sales_manager").post("/pipeline/forecast/adjustments/", data)
    assert ok.status_code == 302 and ok["Location"] == data["back"]
    assert ForecastAdjustment.objects.get().commit == Decimal("800.00")
    bad = client_for("sales_manager").post(
        "/pipeline/forecast/adjustments/", data | {"best_case": "100"}
    )
    assert "below the commit" in flash(bad)
    worse = client_for("sales_manager").post(
        "/pipeline/forecast/adjustments/", data | {"end": "2000-01-01"}
    )
    assert "before it starts" in flash(worse)
    assert client_for("sales_rep").post("/pipeline/forecast/adjustments/", data).status_code == 403
    assert client_for("marketing").post("/pipeline/forecast/adjustments/", data).status_code == 403
    stranger = data | {"rep": users["other_rep"].pk}
    assert (
        client_for("sales_manager").post("/pipeline/forecast/adjustments/", stranger).status_code
        == 403
    )


def test_quota_api(users, client_for, sales_team, make_deal, pipeline):
    label = month().label
    rep = users["sales_rep"]
    body = {"kind": "revenue", "period": label, "target": "5000", "currency": "EUR", "rep": rep.pk}
    api = client_for("sales_manager")
    created = api.post("/api/pipeline/quotas/", body, content_type="application/json")
    assert created.status_code == 201 and created.json()["target"] == "5000.00"
    updated = api.post(
        "/api/pipeline/quotas/", body | {"target": "6000"}, content_type="application/json"
    )
    assert updated.status_code == 200 and updated.json()["id"] == created.json()["id"]
    for bad, code in (
        (body | {"target": "-1"}, 400),
        (body | {"currency": "EURO"}, 400),
        (body | {"period": "2026-11-01"}, 400),
        (body | {"kind": "bonus"}, 400),
        (body | {"extra": 1}, 400),
        (body | {"rep": 999999}, 404),
    ):
        response = api.post("/api/pipeline/quotas/", bad, content_type="application/json")
        assert response.status_code == code, bad
        assert "error" in response.json()
    for role in ("marketing", "sales_rep"):
        refused = client_for(role).post(
            "/api/pipeline/quotas/", body, content_type="application/json"
        )
        assert refused.status_code == 403, role
    target = client_for("marketing").post(
        "/api/pipeline/quotas/",
        {"kind": "mqls", "period": label, "target": "100"},
        content_type="application/json",
    )
    assert target.status_code == 201
    deal = make_deal(amount="1500.00")
    deal_move(
        deal=deal,
        actor=rep,
        stage=pipeline.stages.get(kind="won"),
        version=1,
        confirmed=["Budget confirmed", "Decision maker known"],
    )
    board = client_for("sales_manager").get(f"/api/pipeline/quotas/?period={label}").json()
    mine = next(r for r in board["reps"] if r["rep"] == rep.pk)
    assert mine["target"] == "6000.00" and mine["actual"] == "1500.00"
    assert mine["attainment"] == pytest.approx(0.25)
    assert board["marketing"][0]["target"] == "100.00"
    assert client_for("admin").get("/api/pipeline/quotas/?period=x").status_code == 400


def test_attainment_api(users, client_for, sales_team, rep_quota):
    rep = users["sales_rep"]
    mine = client_for("sales_rep").get("/api/pipeline/attainment/")
    assert mine.status_code == 200 and mine.json()["rep"] == rep.pk
    assert mine.json()["target"] == "10000.00"
    team = client_for("sales_manager").get(f"/api/pipeline/attainment/?team={sales_team.pk}")
    assert team.status_code == 200 and team.json()["target_source"] == "sum of reps' quotas"
    assert client_for("other_rep").get(f"/api/pipeline/attainment/?rep={rep.pk}").status_code == 403
    assert (
        client_for("sales_rep").get(f"/api/pipeline/attainment/?team={sales_team.pk}").status_code
        == 403
    )
    backwards = client_for("admin").get(
        f"/api/pipeline/attainment/?rep={rep.pk}&start=2026-11-30&end=2026-11-01"
    )
    assert (
        backwards.status_code == 400 and "before it starts" in backwards.json()["error"]["message"]
    )
    mqls = client_for("marketing").get("/api/pipeline/attainment/?kind=mqls")
    assert mqls.status_code == 200 and mqls.json()["currency"] == ""


def test_adjustment_and_accuracy_api(users, client_for, make_deal):
    rep, period = users["sales_rep"], month()
    body = {
        "rep": rep.pk,
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
        "currency": "EUR",
        "commit": "900",
    }
    url = "/api/pipeline/forecast/adjustments/"
    ok = client_for("sales_manager").post(url, body, content_type="application/json")
    assert ok.status_code == 200 and ok.json()["commit"] == "900.00"
    bad = client_for("sales_manager").post(
        url, body | {"commit": "-3"}, content_type="application/json"
    )
    assert bad.status_code == 400
    for role in ("sales_rep", "marketing", "other_rep"):
        assert client_for(role).post(url, body, content_type="application/json").status_code == 403
    make_deal(amount="1000.00", close_date=timezone.localdate())
    forecast = client_for("sales_manager").get(
        f"/api/pipeline/forecast/?start={period.start}&end={period.end}&scope=rep:{rep.pk}"
    )
    data = forecast.json()
    assert forecast.status_code == 200 and data["scope"] == f"rep:{rep.pk}"
    assert data["adjusted_commit"] == "900.00" and data["probability_source"] == "stages"
    forecast_snapshots_take()
    forecast_snapshots_score(today=period.end + dt.timedelta(days=1))
    accuracy = client_for("admin").get("/api/pipeline/forecast/accuracy/?scope=company")
    assert accuracy.status_code == 200 and len(accuracy.json()["periods"]) == 1
    assert client_for("admin").get("/api/pipeline/forecast/accuracy/?scope=x").status_code == 400
    assert (
        client_for("other_rep")
        .get(f"/api/pipeline/forecast/accuracy/?scope=rep:{rep.pk}")
        .status_code
        == 403
    )


def test_the_api_schema_lists_the_new_paths(client_for):
    import json

    schema = client_for("sales_rep").get(
        "/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json"
    )
    assert schema.status_code == 200
    paths = json.loads(schema.content)["paths"]
    for path in (
        "/api/pipeline/quotas/",
        "/api/pipeline/attainment/",
        "/api/pipeline/forecast/adjustments/",
        "/api/pipeline/forecast/accuracy/",
    ):
        assert path in paths, path
    assert "post" in paths["/api/pipeline/quotas/"] and "get" in paths["/api/pipeline/quotas/"]


def test_quota_page_runs_a_fixed_number_of_queries(users, client_for, sales_team):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from leadpact.accounts.models import Role
    from leadpact.factories import UserFactory

    client = client_for("sales_manager")

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/pipeline/quotas/").status_code == 200
        return len(ctx.captured_queries)

    few = count()
    for i in range(6):
        rep = UserFactory(username=f"more{i}", role=Role.SALES_REP, team=sales_team)
        quota_set(
            actor=users["admin"],
            kind="revenue",
            period=month(),
            target="100",
            currency="EUR",
            rep=rep,
        )
    assert count() == few
