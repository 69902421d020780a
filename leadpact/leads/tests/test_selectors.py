from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from leadpact.common.errors import ApplicationError
from leadpact.factories import CampaignFactory, LeadFactory, TouchFactory, UserFactory
from leadpact.leads import selectors
from leadpact.leads.models import LeadState, TimelineEvent
from leadpact.leads.selectors import (
    SORTS,
    LeadFilters,
    lead_filters_from_params,
    lead_filters_to_params,
    lead_get,
    lead_page,
    lead_timeline,
)
from leadpact.leads.services.timeline import timeline_event

pytestmark = pytest.mark.django_db


def _leads(n: int, **kwargs):
    now = timezone.now()
    return [
        LeadFactory(captured_at=now - timedelta(hours=i), score=i % 7, **kwargs) for i in range(n)
    ]


# --- filters ---------------------------------------------------------------------------------


def test_filters_from_params_reads_every_filter():
    user = UserFactory(username="me")
    filters = lead_filters_from_params(
        {
            "q": "  Ada ",
            "state": "mql",
            "owner": "mine",
            "channel": "paid_search",
            "campaign": "7",
            "captured_from": "2026-01-01",
            "captured_to": "2026-01-31",
            "sort": "-score",
            "cursor": "ignored",
        },
        user=user,
    )
    assert filters == LeadFilters(
        q="Ada",
        state="mql",
        owner_id=user.pk,
        channel="paid_search",
        campaign_id=7,
        captured_from=date(2026, 1, 1),
        captured_to=date(2026, 1, 31),
        sort="-score",
    )
    assert lead_filters_from_params({"owner": "unassigned"}).unowned is True
    assert lead_filters_from_params({}) == LeadFilters()


def test_filters_round_trip_through_params():
    filters = LeadFilters(
        q="ad", state="won", unowned=True, captured_to=date(2026, 2, 3), sort="score"
    )
    assert lead_filters_from_params(lead_filters_to_params(filters)) == filters


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"state": "hot"}, "state"),
        ({"owner": "bob"}, "owner"),
        ({"owner": "mine"}, "owner"),  # no user given
        ({"channel": "Paid Search"}, "channel"),
        ({"campaign": "-3"}, "campaign"),
        ({"captured_from": "2026-13-01"}, "captured_from"),
        ({"captured_to": "yesterday"}, "captured_to"),
        ({"captured_from": "2026-02-01", "captured_to": "2026-01-01"}, "captured_to"),
        ({"sort": "email"}, "sort"),
        ({"q": "x" * 101}, "q"),
    ],
)
def test_bad_filter_values_name_the_field(params, field):
    with pytest.raises(ApplicationError) as info:
        lead_filters_from_params(params)
    assert info.value.code == "invalid_filter"
    assert field in info.value.extra["fields"]
    assert info.value.message


# --- filtering --------------------------------------------------------------------------------


def test_filters_select_the_right_leads():
    rep = UserFactory(username="r1")
    campaign = CampaignFactory()
    old = timezone.now() - timedelta(days=40)
    a = LeadFactory(state=LeadState.MQL, owner=rep, source_channel="email", captured_at=old)
    b = LeadFactory(state=LeadState.MQL, source_campaign=campaign)
    c = LeadFactory(state=LeadState.WON)

    def ids(**kw):
        return {lead.pk for lead in lead_page(filters=LeadFilters(**kw)).items}

    assert ids(state="mql") == {a.pk, b.pk}
    assert ids(owner_id=rep.pk) == {a.pk}
    assert ids(unowned=True) == {b.pk, c.pk}
    assert ids(channel="email") == {a.pk}
    assert ids(campaign_id=campaign.pk) == {b.pk}
    assert ids(captured_to=(old + timedelta(days=1)).date()) == {a.pk}
    assert ids(captured_from=old.date(), captured_to=old.date()) == {a.pk}
    assert ids(captured_from=timezone.now().date()) == {b.pk, c.pk}


def test_search_is_a_prefix_on_name_email_and_company():
    ada = LeadFactory(
        first_name="Ada",
        last_name="Lovelace",
        email="countess@engine.org",
        company_name="Babbage & Co",
    )
    LeadFactory(first_name="Grace", last_name="Hopper", email="grace@navy.mil", company_name="Navy")
    LeadFactory(
        first_name="Adam", last_name="Smith", email="adam@wealth.com", company_name="Nations"
    )

    def names(q):
        return sorted(lead.first_name for lead in lead_page(filters=LeadFilters(q=q)).items)

    assert names("ada") == ["Ada", "Adam"]
    assert names("Ada Lov") == ["Ada"]
    assert names("ÁDA") == ["Ada", "Adam"]  # folded like the stored key
    assert names("countess@") == ["Ada"]
    assert names("babbage") == ["Ada"]
    assert names("navy") == ["Grace"]
    assert names("lovelace") == []  # a prefix search: the middle of a name does not match
    assert names("100%_") == []
    assert ada.pk in {lead.pk for lead in lead_page(filters=LeadFilters(q="Babbage &")).items}


def test_merged_away_leads_are_excluded():
    keep = LeadFactory()
    LeadFactory(merged_into=keep)
    page = lead_page(filters=LeadFilters())
    assert [lead.pk for lead in page.items] == [keep.pk]
    assert page.total == 1


# --- keyset paging ----------------------------------------------------------------------------


@pytest.mark.parametrize("sort", SORTS)
def test_paging_forward_and_back_visits_every_lead_once_in_order(sort):
    leads = _leads(11)
    # ties on the sort value must still page correctly: give several leads the same last name
    for lead in leads[:5]:
        lead.last_name = "Same"
        lead.save()
    filters = LeadFilters(sort=sort)
    seen, pages, cursor = [], [], None
    while True:
        page = lead_page(filters=filters, cursor=cursor, size=3)
        pages.append(page)
        seen.extend(lead.pk for lead in page.items)
        assert page.total == 11 and not page.total_is_estimate
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert len(seen) == 11 and len(set(seen)) == 11
    name, desc = sort.lstrip("-"), sort.startswith("-")
    all_sorted = sorted(leads, key=lambda lead: (getattr(lead, name), lead.pk), reverse=desc)
    assert seen == [lead.pk for lead in all_sorted]
    assert pages[0].previous_cursor is None
    # walk back from the last page
    back = pages[-1]
    for expected in reversed(pages[:-1]):
        back = lead_page(filters=filters, cursor=back.previous_cursor, size=3)
        assert [lead.pk for lead in back.items] == [lead.pk for lead in expected.items]
    assert back.previous_cursor is None


def test_count_is_capped(monkeypatch):
    monkeypatch.setattr(selectors, "COUNT_CAP", 4)
    _leads(6)
    page = lead_page(filters=LeadFilters(), size=2)
    assert (page.total, page.total_is_estimate) == (4, True)
    page = lead_page(filters=LeadFilters(state="won"))
    assert (page.total, page.total_is_estimate) == (0, False)


@pytest.mark.parametrize(
    "cursor", ["garbage", "e30", "eyJzIjoiLWNhcHR1cmVkX2F0In0", "!!!", "a" * 5]
)
def test_bad_cursor_is_an_application_error(cursor):
    _leads(2)
    with pytest.raises(ApplicationError) as info:
        lead_page(filters=LeadFilters(), cursor=cursor)
    assert info.value.code == "invalid_cursor"


def test_cursor_of_another_sort_is_refused():
    _leads(3)
    page = lead_page(filters=LeadFilters(), size=1)
    with pytest.raises(ApplicationError, match="another sort"):
        lead_page(filters=LeadFilters(sort="score"), cursor=page.next_cursor)


def test_page_runs_a_fixed_number_of_queries_whatever_its_size(django_assert_num_queries):
    owner = UserFactory(username="o")
    campaign = CampaignFactory()
    _leads(30, owner=owner, source_campaign=campaign)
    # rows + capped count; a search on SQLite adds the query that picks the plan
    searching = 3 if connection.vendor == "sqlite" else 2
    for size in (5, 25):
        for filters, expected in ((LeadFilters(state="new"), 2), (LeadFilters(q="a"), searching)):
            with django_assert_num_queries(expected):
                page = lead_page(filters=filters, size=size)
                for lead in page.items:
                    _ = (lead.owner.username, lead.source_campaign and lead.source_campaign.name)


@pytest.mark.parametrize("sort", ["-captured_at", "score", "last_name"])
def test_broad_and_narrow_search_plans_page_the_same(monkeypatch, sort):
    """A search matching more than the cap walks the sort index on SQLite; same results."""
    now = timezone.now()
    for i in range(9):
        LeadFactory(
            first_name=f"An{i}",
            last_name="Ames",
            company_name="Zeta Corp",  # not a random company that could start with "an"
            captured_at=now - timedelta(hours=i),
            score=i % 3,
        )
    LeadFactory(first_name="Bob", last_name="Other", company_name="Zeta Corp")

    def walk(cap: int) -> list[int]:
        monkeypatch.setattr(selectors, "COUNT_CAP", cap)
        seen, cursor = [], None
        while True:
            page = lead_page(filters=LeadFilters(q="an", sort=sort), cursor=cursor, size=4)
            seen.extend(lead.pk for lead in page.items)
            if not page.next_cursor:
                return seen
            cursor = page.next_cursor

    narrow, broad = walk(10_000), walk(3)
    assert len(narrow) == 9 and narrow == broad
    page = lead_page(filters=LeadFilters(q="an"))
    assert (page.total, page.total_is_estimate) == (3, True)
    page = lead_page(filters=LeadFilters(q="an", state="won"))
    assert (page.total, page.total_is_estimate, page.items) == (0, False, [])


# --- one lead ----------------------------------------------------------------------------------


def test_lead_get_and_timeline_newest_first(django_assert_num_queries):
    lead = LeadFactory(owner=UserFactory(username="o2"))
    now = timezone.now()
    for i in range(3):
        timeline_event(
            lead=lead, kind="note", summary=f"n{i}", occurred_at=now + timedelta(minutes=i)
        )
    TouchFactory(lead=lead)
    with django_assert_num_queries(2):
        got = lead_get(lead_id=lead.pk)
        _ = got.owner.username
        events = lead_timeline(lead=got)
        _ = [e.touch for e in events]
    assert [e.summary for e in events] == ["n2", "n1", "n0"]
    assert all(isinstance(e, TimelineEvent) for e in events)
    assert len(lead_timeline(lead=got, limit=2)) == 2
    with pytest.raises(type(lead).DoesNotExist):
        lead_get(lead_id=lead.pk + 1000)
