from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from leadpact.factories import CampaignFactory, LeadFactory
from leadpact.leads.models import LeadState

pytestmark = pytest.mark.django_db
URL = reverse("leads:list")


def _content(response) -> str:
    return response.content.decode()


@pytest.mark.parametrize("role", ["admin", "marketing", "sales_rep", "sales_manager"])
def test_every_role_sees_the_same_list(client_for, role):
    lead = LeadFactory(first_name="Ada", last_name="Lovelace", company_name="Engines Ltd")
    response = client_for(role).get(URL)
    assert response.status_code == 200
    html = _content(response)
    assert "Ada Lovelace" in html and "Engines Ltd" in html
    assert reverse("leads:detail", args=[lead.pk]) in html


def test_anonymous_is_sent_to_log_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def test_columns_and_filters(client_for, users):
    campaign = CampaignFactory(name="Spring webinar")
    LeadFactory(
        first_name="Ada",
        last_name="Lovelace",
        state=LeadState.MQL,
        owner=users["sales_rep"],
        source_channel="webinar",
        source_campaign=campaign,
        score=42,
    )
    LeadFactory(first_name="Grace", last_name="Hopper", state=LeadState.WON)
    client = client_for("marketing")
    html = _content(client.get(URL, {"state": "mql"}))
    assert "Ada Lovelace" in html and "Grace Hopper" not in html
    assert "Marketing qualified (MQL)" in html and "Spring webinar" in html and "Webinar" in html
    assert ">42<" in html
    assert users["sales_rep"].display_name in html
    html = _content(client.get(URL, {"owner": "unassigned"}))
    assert "Grace Hopper" in html and "Ada Lovelace" not in html
    html = _content(client.get(URL, {"q": "grac"}))
    assert "Grace Hopper" in html and "Ada Lovelace" not in html


def test_mine_means_the_viewer(client_for, users):
    LeadFactory(first_name="Mine", owner=users["sales_rep"])
    LeadFactory(first_name="Theirs", owner=users["other_rep"])
    html = _content(client_for("sales_rep").get(URL, {"owner": "mine"}))
    assert "Mine" in html and "Theirs" not in html


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"state": "hot"}, "is not a lead state"),
        ({"captured_from": "31/12/2026"}, "is not a date"),
        ({"captured_from": "2026-02-30"}, "is not a date"),
        ({"owner": "somebody"}, "is not an owner"),
        ({"sort": "email"}, "is not a sort order"),
        ({"size": "100000"}, "is not a page size"),
    ],
)
def test_bad_filters_give_a_clear_message_not_a_500(client_for, params, message):
    LeadFactory(first_name="Visible")
    response = client_for("sales_rep").get(URL, params)
    assert response.status_code == 200
    html = _content(response)
    assert message in html
    assert 'aria-invalid="true"' in html


def test_bad_cursor_says_so_and_shows_the_first_page(client_for):
    LeadFactory(first_name="Visible")
    response = client_for("sales_rep").get(URL, {"cursor": "not-a-cursor"})
    assert response.status_code == 200
    html = _content(response)
    assert "This page link is no longer valid" in html and "Visible" in html


def test_pager_walks_forward_and_back(client_for):
    now = timezone.now()
    for i in range(30):
        LeadFactory(first_name=f"P{i:02d}", captured_at=now - timedelta(minutes=i))
    client = client_for("marketing")
    first = client.get(URL, {"size": "25"})
    assert "P00" in _content(first) and "P25" not in _content(first)
    next_url = first.context["next_url"]
    assert "cursor=" in next_url and "size=25" in next_url and "offset" not in next_url
    second = client.get(next_url)
    assert "P25" in _content(second) and "P29" in _content(second) and "P00" not in _content(second)
    assert second.context["next_url"] == ""
    back = client.get(second.context["previous_url"])
    assert [lead.first_name for lead in back.context["page"].items] == [
        f"P{i:02d}" for i in range(25)
    ]


def test_count_is_capped_on_the_page(client_for, monkeypatch):
    from leadpact.leads import selectors

    monkeypatch.setattr(selectors, "COUNT_CAP", 3)
    for _ in range(5):
        LeadFactory()
    assert "3+ leads" in _content(client_for("marketing").get(URL))


def test_htmx_request_gets_the_results_only_and_a_clean_url(client_for):
    LeadFactory(first_name="Ada", state=LeadState.MQL)
    response = client_for("marketing").get(
        URL, {"q": "", "state": "mql", "owner": ""}, headers={"HX-Request": "true"}
    )
    html = _content(response)
    assert response.status_code == 200
    assert html.lstrip().startswith("{% load") is False
    assert 'id="lead-results"' in html and "<html" not in html and "Ada" in html
    assert response["HX-Push-Url"] == f"{URL}?state=mql"
    assert 'hx-swap-oob="true"' in html  # the sort menu follows header clicks


def test_history_restore_gets_the_full_page(client_for):
    response = client_for("marketing").get(
        URL, headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )
    assert "<html" in _content(response)


@pytest.mark.parametrize("size", [5, 40])
def test_fixed_number_of_queries_whatever_the_page_size(
    client_for, users, django_assert_num_queries, size
):
    campaign = CampaignFactory()
    for i in range(size):
        LeadFactory(owner=users["sales_rep"] if i % 2 else None, source_campaign=campaign)
    client = client_for("marketing")
    # session, user, rows, capped count, owners menu, campaigns menu
    with django_assert_num_queries(6):
        response = client.get(URL, {"size": "25" if size < 25 else "100"})
    assert len(response.context["page"].items) == size
    with django_assert_num_queries(4):  # HTMX: no filter menus
        client.get(URL, {"state": "new"}, headers={"HX-Request": "true"})
