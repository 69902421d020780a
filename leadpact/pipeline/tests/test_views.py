"""Pages: who may and who may not, and that they do what they say."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from leadpact.factories import LeadFactory
from leadpact.leads.models import LeadState
from leadpact.pipeline.models import Activity, Deal


def test_board_shows_each_user_what_they_may_see(make_deal, users, client_for):
    mine = make_deal(name="Mine")
    theirs = make_deal(name="Theirs", owner=users["other_rep"])
    page = client_for("sales_rep").get("/pipeline/").content.decode()
    assert "Mine" in page and "Theirs" not in page
    page = client_for("marketing").get("/pipeline/").content.decode()
    assert (
        "Mine" in page and "Theirs" in page and 'class="move-form"' not in page
    )  # marketing reads
    page = client_for("sales_manager").get("/pipeline/").content.decode()
    assert "Mine" in page and "Theirs" not in page  # other_rep is not on the manager's team
    assert mine.pk and theirs.pk


def test_board_runs_a_fixed_number_of_queries(
    make_deal, users, client_for, django_assert_max_num_queries
):
    for i in range(30):
        make_deal(name=f"Deal {i}")
    client = client_for("sales_rep")
    with django_assert_max_num_queries(12):
        response = client.get("/pipeline/")
    assert response.status_code == 200 and response.content.decode().count("data-deal=") == 30


def test_board_cards_link_to_their_deal_and_move_form(make_deal, client_for):
    from django.urls import reverse

    deal = make_deal(name="Linked")
    page = client_for("sales_rep").get("/pipeline/").content.decode()
    assert f'href="{reverse("pipeline:deal", args=[deal.pk])}"' in page
    assert f'data-href="{reverse("pipeline:deal", args=[deal.pk])}"' in page
    assert f'action="{reverse("pipeline:deal_move", args=[deal.pk])}"' in page


def test_deal_page_may_and_may_not(make_deal, client_for):
    deal = make_deal()
    url = f"/pipeline/deals/{deal.pk}/"
    assert client_for("sales_rep").get(url).status_code == 200
    assert client_for("sales_manager").get(url).status_code == 200
    assert client_for("marketing").get(url).status_code == 200
    assert client_for("other_rep").get(url).status_code == 403
    assert (
        client_for("marketing")
        .post(f"{url}activities/", {"kind": "call", "outcome": "x"})
        .status_code
        == 403
    )
    assert not Activity.objects.exists()


def test_one_click_activity_and_bad_date(make_deal, client_for):
    deal = make_deal()
    client = client_for("sales_rep")
    response = client.post(
        f"/pipeline/deals/{deal.pk}/activities/",
        {"kind": "call", "outcome": "Spoke", "next_step_due": "tomorrow"},
        follow=True,
    )
    assert "Due date must be a date" in response.content.decode()
    client.post(f"/pipeline/deals/{deal.pk}/activities/", {"kind": "call", "outcome": "Spoke"})
    assert deal.activities.get().outcome == "Spoke"


def test_board_move_asks_for_exit_criteria(make_deal, pipeline, client_for):
    deal = make_deal()
    proposal = pipeline.stages.get(name="Proposal")
    client = client_for("sales_rep")
    url = f"/pipeline/deals/{deal.pk}/move/"
    response = client.post(
        url, {"stage": proposal.pk, "version": 1, "back": "/pipeline/"}, follow=True
    )
    assert "Confirm the exit criteria" in response.content.decode()
    client.post(
        url,
        {
            "stage": proposal.pk,
            "version": 1,
            "confirmed": ["Budget confirmed", "Decision maker known"],
        },
    )
    deal.refresh_from_db()
    assert deal.stage == proposal
    assert (
        client_for("other_rep").post(url, {"stage": proposal.pk, "version": 2}).status_code == 403
    )


def test_new_deal_from_a_lead_page(users, pipeline, client_for):
    lead = LeadFactory(state=LeadState.SQL, owner=users["sales_rep"], company_name="Initech")
    close = (timezone.localdate() + dt.timedelta(days=5)).isoformat()
    client = client_for("sales_rep")
    bad = client.post(
        f"/pipeline/deals/new/?lead={lead.pk}",
        {"amount": "1.234", "currency": "EUR", "close_date": close},
    )
    assert bad.status_code == 400 and "2 decimal places" in bad.content.decode()
    ok = client.post(
        f"/pipeline/deals/new/?lead={lead.pk}",
        {"amount": "900", "currency": "EUR", "close_date": close},
    )
    deal = Deal.objects.get()
    assert ok.status_code == 302 and deal.lead == lead and deal.name == "Initech"
    assert client_for("marketing").get("/pipeline/deals/new/").status_code == 403


def test_forecast_page(make_deal, client_for):
    make_deal(amount="1000.00")
    page = client_for("sales_manager").get("/pipeline/forecast/?quota=50").content.decode()
    assert "P10 / P50 / P90" in page and 'id="attainment"' in page and "chart-4.6.1" in page
    bad = client_for("sales_manager").get("/pipeline/forecast/?start=yesterday")
    assert bad.status_code == 400 and "Start must be a date" in bad.content.decode()


def test_review_lists_stale_and_overdue(make_deal, users, client_for):
    deal = make_deal(name="Quiet")
    Deal.objects.filter(pk=deal.pk).update(close_date=timezone.localdate() - dt.timedelta(days=1))
    page = client_for("sales_rep").get("/pipeline/review/").content.decode()
    assert "Quiet" in page
    assert "Quiet" not in client_for("other_rep").get("/pipeline/review/").content.decode()


@pytest.mark.django_db
def test_anonymous_is_sent_to_login(client):
    assert client.get("/pipeline/").status_code == 302
