"""Bulk updates for managers: one change to many deals, all or nothing, versions respected."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from leadpact.common.errors import ApplicationError, ConflictError
from leadpact.factories import UserFactory
from leadpact.pipeline.models import Deal, DealEvent
from leadpact.pipeline.services.deals import BulkItem, deal_update, deals_bulk_update


@pytest.fixture
def two(make_deal):
    return make_deal(name="One"), make_deal(name="Two")


def _items(*deals):
    return [BulkItem(d.pk, d.version) for d in deals]


def test_owner_category_and_date_in_one_go(two, users, sales_team):
    manager = users["sales_manager"]
    teammate = UserFactory(username="rep3", role="sales_rep", team=sales_team)
    close = timezone.localdate() + dt.timedelta(days=40)
    done = deals_bulk_update(
        actor=manager,
        items=_items(*two),
        owner=teammate.pk,
        forecast_category="commit",
        close_date=close,
    )
    assert len(done) == 2
    for deal in Deal.objects.all():
        assert (deal.owner, deal.forecast_category, deal.close_date, deal.version) == (
            teammate,
            "commit",
            close,
            2,
        )
        assert deal.events.filter(kind=DealEvent.Kind.FIELD, actor=manager).count() == 3


def test_a_stale_version_rolls_everything_back(two, users):
    one, other = two
    deal_update(deal=other, actor=users["sales_rep"], version=1, amount="5.00")  # meanwhile
    with pytest.raises(ConflictError, match=r"Nothing was changed.*Two: Someone changed") as err:
        deals_bulk_update(
            actor=users["sales_manager"],
            items=_items(one, Deal(pk=other.pk, version=1, name="Two")),
            forecast_category="commit",
        )
    assert err.value.extra["failed"]
    assert set(Deal.objects.values_list("forecast_category", flat=True)) == {"pipeline"}
    one.refresh_from_db()
    assert one.version == 1 and not one.events.filter(kind=DealEvent.Kind.FIELD).exists()


def test_stage_change_checks_exit_criteria(two, pipeline, users):
    proposal = pipeline.stages.get(name="Proposal")
    with pytest.raises(ConflictError, match="Confirm the exit criteria"):
        deals_bulk_update(actor=users["sales_manager"], items=_items(*two), stage=proposal.pk)
    assert not Deal.objects.filter(stage=proposal).exists()
    deals_bulk_update(
        actor=users["sales_manager"],
        items=_items(*two),
        stage=proposal.pk,
        confirmed=["Budget confirmed", "Decision maker known"],
    )
    assert Deal.objects.filter(stage=proposal).count() == 2


def test_someone_elses_deal_is_refused(make_deal, users):
    mine = make_deal(name="Mine")
    theirs = make_deal(name="Theirs", owner=users["other_rep"])  # not the manager's team
    with pytest.raises(ConflictError, match="Theirs: You may not change"):
        deals_bulk_update(
            actor=users["sales_manager"], items=_items(mine, theirs), forecast_category="commit"
        )
    assert not Deal.objects.filter(forecast_category="commit").exists()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "Choose what to change"),
        ({"forecast_category": "maybe"}, "Forecast category"),
        ({"owner": 999999}, "No such owner"),
        ({"stage": 999999}, "No such stage"),
        ({"close_date": dt.date(2000, 1, 1)}, "in the past"),
    ],
)
def test_bad_bulk_input(two, users, kwargs, message):
    with pytest.raises(ApplicationError, match=message):
        deals_bulk_update(actor=users["sales_manager"], items=_items(*two), **kwargs)
    assert set(Deal.objects.values_list("version", flat=True)) == {1}


def test_nothing_ticked(users):
    with pytest.raises(ApplicationError, match="Tick the deals"):
        deals_bulk_update(actor=users["admin"], items=[], forecast_category="commit")


def test_bulk_from_the_review_page(two, users, client_for):
    client = client_for("sales_manager")
    form = {"deal": [f"{d.pk}:{d.version}" for d in two], "forecast_category": "best_case"}
    r = client.post("/pipeline/review/bulk/", form, follow=True)
    assert "2 deals updated" in r.content.decode()
    assert set(Deal.objects.values_list("forecast_category", flat=True)) == {"best_case"}
    r = client.post("/pipeline/review/bulk/", form | {"forecast_category": "commit"}, follow=True)
    assert "Nothing was changed" in r.content.decode()  # the versions are stale now
    r = client.post("/pipeline/review/bulk/", {"deal": ["x:1"], "owner": "1"}, follow=True)
    assert "Deal must be a whole number" in r.content.decode()
    rep = client_for("sales_rep").post("/pipeline/review/bulk/", form)
    assert rep.status_code == 403
    assert set(Deal.objects.values_list("forecast_category", flat=True)) == {"best_case"}


def test_bulk_api(two, client_for):
    body = {
        "deals": [{"id": d.pk, "version": d.version} for d in two],
        "forecast_category": "commit",
    }
    r = client_for("sales_manager").post(
        "/api/pipeline/deals/bulk/", body, content_type="application/json"
    )
    assert r.status_code == 200 and {d["version"] for d in r.json()} == {2}
    r = client_for("sales_manager").post(
        "/api/pipeline/deals/bulk/", body, content_type="application/json"
    )
    assert r.status_code == 409 and r.json()["error"]["code"] == "bulk_refused"
    r = client_for("sales_rep").post(
        "/api/pipeline/deals/bulk/", body, content_type="application/json"
    )
    assert r.status_code == 403


def test_board_bulk_update_for_managers_only(make_deal, users, client_for, pipeline):
    mine, other = make_deal(name="Mine"), make_deal(name="Other")
    rep_page = client_for("sales_rep").get("/pipeline/").content.decode()
    assert 'id="bulk"' not in rep_page and 'form="bulk"' not in rep_page
    client = client_for("sales_manager")
    page = client.get(f"/pipeline/?pipeline={pipeline.pk}").content.decode()
    assert page.count('form="bulk" data-tick') == 2 and 'id="bulk"' in page
    assert f'value="{mine.pk}:{mine.version}" form="bulk"' in page
    response = client.post(
        "/pipeline/review/bulk/",
        {
            "deal": [f"{mine.pk}:{mine.version}", f"{other.pk}:{other.version}"],
            "forecast_category": "best_case",
            "back": f"/pipeline/?pipeline={pipeline.pk}",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == f"/pipeline/?pipeline={pipeline.pk}"
    assert set(Deal.objects.values_list("forecast_category", flat=True)) == {"best_case"}
    # A rep posting the same form is refused and nothing changes.
    refused = client_for("sales_rep").post(
        "/pipeline/review/bulk/", {"deal": [f"{mine.pk}:2"], "forecast_category": "commit"}
    )
    assert refused.status_code == 403
    assert set(Deal.objects.values_list("forecast_category", flat=True)) == {"best_case"}


def test_board_bulk_refusal_keeps_every_deal(make_deal, client_for):
    one, two = make_deal(name="One"), make_deal(name="Two")
    client = client_for("sales_manager")
    response = client.post(
        "/pipeline/review/bulk/",
        {
            "deal": [f"{one.pk}:{one.version}", f"{two.pk}:{two.version + 5}"],
            "close_date": "not a date",
            "back": "/pipeline/",
        },
        follow=True,
    )
    assert response.status_code == 200 and "Close date must be a date" in response.content.decode()
    response = client.post(
        "/pipeline/review/bulk/",
        {
            "deal": [f"{one.pk}:{one.version}", f"{two.pk}:{two.version + 5}"],
            "forecast_category": "commit",
            "back": "/pipeline/",
        },
        follow=True,
    )
    assert "Nothing was changed" in response.content.decode()
    assert set(Deal.objects.values_list("forecast_category", flat=True)) == {"pipeline"}


def test_manager_board_runs_a_fixed_number_of_queries(
    make_deal, client_for, django_assert_max_num_queries, django_assert_num_queries
):
    make_deal(name="Deal 0")
    client = client_for("sales_manager")
    client.get("/pipeline/")  # warm the session
    with django_assert_max_num_queries(13) as few:
        client.get("/pipeline/")
    for i in range(1, 20):
        make_deal(name=f"Deal {i}")
    with django_assert_num_queries(len(few.captured_queries)):  # 20 cards cost what 1 did
        response = client.get("/pipeline/")
    assert response.content.decode().count('form="bulk" data-tick') == 20


@pytest.mark.parametrize("bad", ["²:1", "99999999999999999999:1", "1:²"])
def test_odd_numbers_in_a_bulk_post_are_refused_not_a_500(make_deal, client_for, bad):
    make_deal()
    response = client_for("sales_manager").post(
        "/pipeline/review/bulk/", {"deal": [bad], "forecast_category": "commit"}, follow=True
    )
    assert response.status_code == 200 and "must be a whole number" in response.content.decode()
    assert set(Deal.objects.values_list("forecast_category", flat=True)) == {"pipeline"}


def test_odd_numbers_in_the_review_and_quota_forms_are_refused(client_for, pipeline):
    client = client_for("sales_manager")
    assert client.get("/pipeline/review/?team=²").status_code == 400
    assert client.get("/pipeline/review/?days=99999999999999999999").status_code == 400
    response = client.post(
        "/pipeline/quotas/set/",
        {"who": "rep:²", "period": "2026-11", "target": "10", "currency": "EUR"},
        follow=True,
    )
    assert response.status_code == 200
    assert "Choose the rep or the sales team" in response.content.decode()
