"""The pipeline review over REST: the page's figures, filters and permission rules, bad input,
the OpenAPI schema, a fixed number of queries."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from leadpact.accounts.models import User
from leadpact.factories import LeadFactory
from leadpact.leads.models import LeadState
from leadpact.pipeline.models import Deal, Pipeline
from leadpact.pipeline.services.deals import DealInput, deal_create, deal_move
from leadpact.pipeline.tests.helpers import CRITERIA
from leadpact.pipeline.tests.helpers import deal_age as _age

URL = "/api/pipeline/review/"


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def test_the_review_as_json(make_deal, pipeline, users, client_for, sales_team):
    rep = users["sales_rep"]
    proposal = pipeline.stages.get(name="Proposal")
    make_deal(name="Small", amount="100.00")
    make_deal(name="Committed", amount="250.50", forecast_category="commit")
    moved = make_deal(name="Moved", amount="1000.00")
    deal_move(deal=moved, actor=rep, stage=proposal, version=1, confirmed=CRITERIA)
    quiet = make_deal(name="Quiet", owner=users["other_rep"])
    _age(quiet, 30)
    Deal.objects.filter(pk=quiet.pk).update(close_date=timezone.localdate() - dt.timedelta(days=1))
    make_deal(name="Dollars", amount="999.00", currency="USD")

    response = client_for("admin").get(URL)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["filters"]["pipeline"] == pipeline.pk and body["filters"]["source"] == "all"
    assert (body["filters"]["days"], body["filters"]["since"], body["filters"]["history"]) == (
        14,
        7,
        90,
    )
    assert body["currency"] == "EUR" and body["other_currencies"] == ["USD"]
    discovery = body["matrix"][0]
    assert discovery["stage"]["name"] == "Discovery" and discovery["count"] == 4
    cells = {c["category"]: c for c in discovery["cells"]}
    assert cells["commit"] == {"category": "commit", "count": 1, "amount": "250.50"}
    assert body["matrix"][1]["amount"] == "1000.00"
    assert body["totals"]["count"] == 5 and body["totals"]["amount"] == "2551.00"
    reps = {r["name"]: r for r in body["reps"]}
    mine = reps[str(rep)]
    assert (mine["count"], mine["amount"], mine["commit"]) == (4, "1350.50", "250.50")
    assert mine["team"] == sales_team.pk
    other = reps[str(users["other_rep"])]
    assert (other["stale"], other["overdue"]) == (1, 1)
    assert {t["name"] for t in body["teams"]} == {"Sales East", None}
    movement = {m["kind"]: m for m in body["movement"]}
    assert [m["kind"] for m in body["movement"]] == ["new", "advanced", "slipped", "won", "lost"]
    assert movement["advanced"]["count"] == 1 and movement["advanced"]["amount"] == "1000.00"
    (line,) = movement["advanced"]["deals"]
    assert line["name"] == "Moved" and line["stage_name"] == "Proposal"
    assert line["amount"] == "1000.00" and line["version"] == 2
    flows = {f["stage"]["name"]: f for f in body["flows"]}
    assert (flows["Discovery"]["entered"], flows["Discovery"]["advanced"]) == (5, 1)
    assert flows["Discovery"]["conversion"] == 1.0
    assert body["stale"]["count"] == 1 and body["stale"]["deals"][0]["name"] == "Quiet"
    assert body["overdue"]["count"] == 1 and body["overdue"]["deals"][0]["name"] == "Quiet"


def test_the_same_figures_as_the_page(make_deal, pipeline, users, client_for):
    make_deal(name="One")
    make_deal(name="Two", owner=users["other_rep"], amount="10.00")
    client = client_for("admin")
    page = client.get("/pipeline/review/").context
    body = client.get(URL).json()
    data = page["data"]
    assert body["totals"]["count"] == data.totals["count"]
    assert body["totals"]["amount"] == str(data.totals["amount"])
    assert [r["owner"] for r in body["reps"]] == [r.owner_id for r in data.reps]
    assert [(f["entered"], f["left"]) for f in body["flows"]] == [
        (f.entered, f.left) for f in data.flows
    ]


def test_filters_narrow_the_review(make_deal, users, client_for, sales_team):
    make_deal(name="Reps deal")
    make_deal(name="Others deal", owner=users["other_rep"])
    lead = LeadFactory(state=LeadState.SQL, owner=users["sales_rep"], company_name="Lead Co")
    deal_create(
        data=DealInput(
            name="From a lead",
            amount="700",
            currency="EUR",
            close_date=timezone.localdate() + dt.timedelta(days=3),
        ),
        actor=users["sales_rep"],
        lead=lead,
    )
    admin = client_for("admin")

    def names(query: str, client: Client = admin) -> set[str]:
        body = client.get(f"{URL}?{query}").json()
        return {d["name"] for m in body["movement"] for d in m["deals"]}

    assert names("") == {"Reps deal", "Others deal", "From a lead"}
    assert names(f"team={sales_team.pk}") == {"Reps deal", "From a lead"}
    assert names(f"rep={users['other_rep'].pk}") == {"Others deal"}
    assert names("source=leads") == {"From a lead"}
    # marketing always reviews the deals from its leads
    assert names("", client_for("marketing")) == {"From a lead"}
    assert client_for("marketing").get(URL).json()["filters"]["source"] == "leads"
    # a rep sees their own deals
    assert names("", client_for("sales_rep")) == {"Reps deal", "From a lead"}
    body = admin.get(f"{URL}?days=30&since=1&history=10").json()["filters"]
    assert (body["days"], body["since"], body["history"]) == (30, 1, 10)


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("days=0", None, "No-activity days must be between 1 and 365."),
        ("since=93", None, "Movement days must be between 1 and 92."),
        ("history=0", None, "History days must be between 1 and 730."),
        ("pipeline=999999", None, "No such pipeline; choose one from the list."),
        ("days=abc", "days", "The request is not valid."),
        ("team=x", "team", "The request is not valid."),
        ("source=everything", "source", "The request is not valid."),
        ("colour=red", "colour", "The request is not valid."),
    ],
)
def test_bad_filters_are_a_clear_400(make_deal, client_for, query, field, message):
    make_deal()
    response = client_for("sales_manager").get(f"{URL}?{query}")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["message"] == message
    if field:
        assert field in error["details"]


def test_who_may_review_what(make_deal, users, client_for, sales_team):
    make_deal(name="Theirs", owner=users["other_rep"])
    refused = client_for("sales_rep").get(f"{URL}?rep={users['other_rep'].pk}")
    assert refused.status_code == 403
    assert refused.json()["error"]["message"] == (
        "You can't review that person's deals; choose one from the list."
    )
    assert "Theirs" not in refused.content.decode()
    team = client_for("sales_rep").get(f"{URL}?team={sales_team.pk}")
    assert team.status_code == 403
    assert client_for("sales_manager").get(f"{URL}?team={sales_team.pk}").status_code == 200
    assert Client().get(URL).status_code in (401, 403)
    # a user without a leadpact role
    User.objects.filter(pk=users["other_rep"].pk).update(role="")
    assert client_for("other_rep").get(URL).status_code == 403


def test_no_pipeline_yet(users, client_for):
    assert not Pipeline.objects.exists()
    response = client_for("admin").get(URL)
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "No pipeline is set up yet."


def test_in_the_openapi_schema(client_for):
    schema = client_for("sales_rep").get(
        "/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json"
    )
    assert schema.status_code == 200
    operation = json.loads(schema.content)["paths"][URL]["get"]
    params = {p["name"] for p in operation["parameters"]}
    assert params >= {"pipeline", "team", "rep", "source", "days", "since", "history"}
    assert "200" in operation["responses"]


def test_a_fixed_number_of_queries(review_seed, users, client_for, django_assert_num_queries):
    seed = review_seed
    seed(6)
    client = client_for("sales_manager")
    client.get(URL)
    cache.clear()
    with django_assert_num_queries(16) as few:
        assert client.get(URL).status_code == 200
    seed(30)
    cache.clear()
    with django_assert_num_queries(len(few.captured_queries)):
        response = client.get(URL)
    assert response.status_code == 200 and len(response.json()["stale"]["deals"]) > 10
