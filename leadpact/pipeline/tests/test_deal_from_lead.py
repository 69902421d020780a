"""A deal opened from an accepted lead qualifies it through the company's checklist."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from leadpact.common.errors import ApplicationError
from leadpact.factories import LeadFactory
from leadpact.leads.models import LeadState, TimelineEvent
from leadpact.pipeline.models import Deal
from leadpact.pipeline.services.deals import DealInput, deal_create
from leadpact.routing.models import QualificationItem


@pytest.fixture
def items(db):
    return [
        QualificationItem.objects.create(label="Budget known", position=1),
        QualificationItem.objects.create(label="Need confirmed", position=2),
        QualificationItem.objects.create(label="Retired item", position=3, is_active=False),
    ]


def _data(**kwargs):
    close = timezone.localdate() + dt.timedelta(days=7)
    return DealInput(
        **({"name": "", "amount": "900", "currency": "EUR", "close_date": close} | kwargs)
    )


def test_unticked_checklist_refuses_the_deal_and_writes_nothing(users, pipeline, items):
    rep = users["sales_rep"]
    lead = LeadFactory(state=LeadState.ACCEPTED, owner=rep, company_name="Globex")
    with pytest.raises(ApplicationError, match="Need confirmed") as err:
        deal_create(data=_data(), actor=rep, lead=lead, checked=[items[0].pk])
    assert err.value.code == "checklist_incomplete"
    lead.refresh_from_db()
    assert lead.state == LeadState.ACCEPTED and not Deal.objects.exists()
    with pytest.raises(ApplicationError, match="not on the checklist"):
        deal_create(data=_data(), actor=rep, lead=lead, checked=[i.pk for i in items])
    assert not Deal.objects.exists()


def test_ticked_checklist_qualifies_then_converts(users, pipeline, items):
    rep = users["sales_rep"]
    lead = LeadFactory(state=LeadState.ACCEPTED, owner=rep, company_name="Globex")
    deal = deal_create(data=_data(), actor=rep, lead=lead, checked=[items[0].pk, items[1].pk])
    lead.refresh_from_db()
    assert lead.state == LeadState.OPPORTUNITY and deal.lead == lead
    bodies = " ".join(
        TimelineEvent.objects.filter(lead=lead, kind=TimelineEvent.Kind.STATE_CHANGE).values_list(
            "body", flat=True
        )
    )
    assert "✓ Budget known" in bodies and "✓ Need confirmed" in bodies


def test_a_qualified_lead_needs_no_checklist(users, pipeline, items):
    rep = users["sales_rep"]
    lead = LeadFactory(state=LeadState.SQL, owner=rep, company_name="Initech")
    deal_create(data=_data(), actor=rep, lead=lead)
    lead.refresh_from_db()
    assert lead.state == LeadState.OPPORTUNITY


def test_new_deal_page_shows_and_enforces_the_checklist(users, pipeline, items, client_for):
    lead = LeadFactory(state=LeadState.ACCEPTED, owner=users["sales_rep"], company_name="Umbrella")
    client = client_for("sales_rep")
    url = f"/pipeline/deals/new/?lead={lead.pk}"
    page = client.get(url).content.decode()
    assert 'id="qualification"' in page and "Budget known" in page and "Retired item" not in page
    close = (timezone.localdate() + dt.timedelta(days=7)).isoformat()
    form = {"amount": "100", "currency": "EUR", "close_date": close, "item": [items[0].pk]}
    bad = client.post(url, form)
    assert bad.status_code == 400 and "Complete the qualification checklist" in bad.content.decode()
    assert not Deal.objects.exists()
    ok = client.post(url, form | {"item": [items[0].pk, items[1].pk]})
    assert ok.status_code == 302 and Deal.objects.get().lead == lead


def test_api_takes_the_ticked_items(users, pipeline, items, client_for):
    lead = LeadFactory(state=LeadState.ACCEPTED, owner=users["sales_rep"], company_name="Hooli")
    client = client_for("sales_rep")
    close = (timezone.localdate() + dt.timedelta(days=7)).isoformat()
    body = {"amount": "100", "currency": "EUR", "close_date": close, "lead": lead.pk}
    r = client.post("/api/pipeline/deals/", body, content_type="application/json")
    assert r.status_code == 400 and r.json()["error"]["code"] == "checklist_incomplete"
    r = client.post(
        "/api/pipeline/deals/",
        body | {"checked": [items[0].pk, items[1].pk]},
        content_type="application/json",
    )
    assert r.status_code == 201 and r.json()["lead"] == lead.pk
