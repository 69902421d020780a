from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from leadpact.common.errors import ApplicationError, ConflictError, PermissionDeniedError
from leadpact.factories import LeadFactory
from leadpact.leads.models import LeadState
from leadpact.pipeline.models import Deal, DealEvent
from leadpact.pipeline.services.deals import DealInput, deal_create, deal_move, deal_update


def test_create_writes_the_timeline(make_deal):
    deal = make_deal()
    assert deal.stage.name == "Discovery" and deal.version == 1
    assert str(deal.amount) == "1200.50"
    event = deal.events.get()
    assert event.kind == DealEvent.Kind.CREATED and event.actor == deal.owner


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"currency": "EURO"}, "ISO 4217"),
        ({"amount": "10.123"}, "2 decimal places"),
        ({"amount": 10.5}, "not a float"),
        ({"amount": "abc"}, "not an amount"),
        ({"close_date": dt.date(2000, 1, 1)}, "in the past"),
        ({"forecast_category": "maybe"}, "Forecast category"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(make_deal, changes, message):
    with pytest.raises(ApplicationError, match=message):
        make_deal(**changes)
    assert not Deal.objects.exists()


def test_deal_from_an_accepted_lead_converts_it(users, pipeline):
    rep = users["sales_rep"]
    lead = LeadFactory(state=LeadState.ACCEPTED, owner=rep, company_name="Globex", score=42)
    deal = deal_create(
        data=DealInput(name="", amount="5000", currency="usd", close_date=timezone.localdate()),
        actor=rep,
        lead=lead,
    )
    lead.refresh_from_db()
    assert lead.state == LeadState.OPPORTUNITY
    assert deal.lead == lead and deal.account_name == "Globex" and deal.lead_score == 42
    assert deal.currency == "USD" and deal.owner == rep
    with pytest.raises(ConflictError):
        deal_create(
            data=DealInput(name="x", amount="1", currency="USD", close_date=timezone.localdate()),
            actor=rep,
            lead=lead,
        )


def test_a_new_lead_cannot_become_a_deal(users, pipeline):
    lead = LeadFactory(state=LeadState.NEW, owner=users["sales_rep"])
    with pytest.raises(ConflictError, match="accepted or qualified"):
        deal_create(
            data=DealInput(name="x", amount="1", currency="USD", close_date=timezone.localdate()),
            actor=users["sales_rep"],
            lead=lead,
        )


def test_stale_version_gets_a_409_and_nothing_is_overwritten(make_deal, users):
    deal = make_deal()
    deal_update(deal=deal, actor=users["sales_rep"], version=1, amount="2000")
    with pytest.raises(ConflictError) as err:
        deal_update(deal=deal, actor=users["sales_manager"], version=1, amount="3000")
    assert err.value.status == 409
    deal.refresh_from_db()
    assert str(deal.amount) == "2000.00" and deal.version == 2
    amount_event = deal.events.get(kind=DealEvent.Kind.AMOUNT)
    assert amount_event.data == {"from": "1200.50", "to": "2000.00", "currency": "EUR"}


def test_moving_on_needs_the_exit_criteria(make_deal, pipeline, users):
    deal = make_deal()
    proposal = pipeline.stages.get(name="Proposal")
    rep = users["sales_rep"]
    with pytest.raises(ApplicationError, match="Decision maker known"):
        deal_move(deal=deal, actor=rep, stage=proposal, version=1, confirmed=["Budget confirmed"])
    moved = deal_move(
        deal=deal,
        actor=rep,
        stage=proposal,
        version=1,
        confirmed=["Budget confirmed", "Decision maker known"],
    )
    assert moved.stage == proposal and moved.version == 2
    event = moved.events.get(kind=DealEvent.Kind.STAGE)
    assert event.data["from_name"] == "Discovery" and event.actor == rep


def test_winning_closes_the_lead(users, pipeline):
    rep = users["sales_rep"]
    lead = LeadFactory(state=LeadState.SQL, owner=rep)
    deal = deal_create(
        data=DealInput(name="d", amount="10", currency="EUR", close_date=timezone.localdate()),
        actor=rep,
        lead=lead,
    )
    won = deal_move(
        deal=deal,
        actor=rep,
        stage=pipeline.stages.get(kind="won"),
        version=1,
        confirmed=["Budget confirmed", "Decision maker known"],
    )
    lead.refresh_from_db()
    assert won.status == Deal.Status.WON and won.forecast_category == "closed"
    assert lead.state == LeadState.WON
    with pytest.raises(ConflictError, match="closed"):
        deal_move(deal=won, actor=rep, stage=pipeline.stages.get(name="Proposal"), version=2)


def test_losing_needs_a_reason(make_deal, pipeline, users):
    deal = make_deal()
    lost = pipeline.stages.get(kind="lost")
    with pytest.raises(ApplicationError, match="why"):
        deal_move(deal=deal, actor=users["sales_rep"], stage=lost, version=1)
    closed = deal_move(
        deal=deal, actor=users["sales_rep"], stage=lost, version=1, lost_reason="Price"
    )
    assert closed.status == Deal.Status.LOST and closed.lost_reason.label == "Price"


def test_only_owner_and_their_manager_may_change(make_deal, users):
    deal = make_deal()
    for role in ("other_rep", "marketing"):
        with pytest.raises(PermissionDeniedError):
            deal_update(deal=deal, actor=users[role], version=1, name="Mine now")
    updated = deal_update(deal=deal, actor=users["sales_manager"], version=1, name="Renamed")
    assert updated.name == "Renamed"


def test_a_rep_cannot_give_a_deal_to_someone_else(make_deal, users):
    with pytest.raises(PermissionDeniedError):
        deal_create(
            data=DealInput(
                name="x",
                amount="1",
                currency="EUR",
                close_date=timezone.localdate(),
                account_name="A",
                owner=users["other_rep"],
            ),
            actor=users["sales_rep"],
        )
