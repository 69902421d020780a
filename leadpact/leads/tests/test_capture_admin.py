"""The admin edits through the same services as the API and the pages."""

import pytest
from django.urls import reverse

from leadpact.campaigns.models import Campaign
from leadpact.factories import CampaignFactory, LeadFactory, TouchFactory
from leadpact.leads.models import Company, TimelineEvent, WebForm

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "model",
    ["lead", "timelineevent", "webform", "importjob", "duplicatecandidate", "company"],
)
def test_leads_admin_pages_render(client_for, model):
    LeadFactory()
    Company.objects.create(name="Acme", name_key="acme")
    response = client_for("admin").get(reverse(f"admin:leads_{model}_changelist"))
    assert response.status_code == 200


def test_campaign_admin_pages_render(client_for):
    TouchFactory(campaign=CampaignFactory())
    client = client_for("admin")
    assert client.get(reverse("admin:campaigns_campaign_changelist")).status_code == 200
    assert client.get(reverse("admin:campaigns_touch_changelist")).status_code == 200


def test_editing_a_lead_in_the_admin_goes_through_lead_update(client_for):
    lead = LeadFactory(first_name="Old", title="", company_name="Co", country="", city="")
    url = reverse("admin:leads_lead_change", args=[lead.pk])
    data = {
        "first_name": "New",
        "last_name": lead.last_name,
        "email": lead.email,
        "phone": "",
        "title": "",
        "company_name": "Co",
        "country": "",
        "city": "",
        "timeline-TOTAL_FORMS": "0",
        "timeline-INITIAL_FORMS": "0",
        "timeline-MIN_NUM_FORMS": "0",
        "timeline-MAX_NUM_FORMS": "0",
    }
    response = client_for("admin").post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    lead.refresh_from_db()
    assert lead.first_name == "New" and lead.version == 2
    assert lead.search_key.startswith("new ")
    event = lead.timeline.get(kind=TimelineEvent.Kind.FIELD_CHANGE)
    assert event.data["changes"]["first_name"] == ["Old", "New"]
    bad = client_for("admin").post(url, data | {"phone": "123"})
    assert bad.status_code == 200 and "phone" in bad.content.decode()


def test_campaign_admin_uses_the_service_rules(client_for):
    client = client_for("admin")
    data = {"name": "Ad", "code": "ad-1", "channel": "Paid Search", "cost": "10", "currency": "usd"}
    response = client.post(reverse("admin:campaigns_campaign_add"), data)
    assert response.status_code == 302
    campaign = Campaign.objects.get()
    assert (campaign.channel, campaign.currency, campaign.owner.username) == (
        "paid_search",
        "USD",
        "admin",
    )
    bad = client.post(
        reverse("admin:campaigns_campaign_change", args=[campaign.pk]),
        data | {"currency": "QQQ"},
    )
    assert bad.status_code == 200
    campaign.refresh_from_db()
    assert campaign.currency == "USD"


def test_web_form_admin_creates_with_a_generated_key(client_for):
    response = client_for("admin").post(
        reverse("admin:leads_webform_add"),
        {
            "name": "Footer",
            "channel": "direct_traffic",
            "honeypot_field": "website",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    form = WebForm.objects.get()
    assert len(form.key) == 16
