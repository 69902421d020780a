import pytest
from django.test import Client
from django.urls import reverse

from leadpact.campaigns.models import Campaign
from leadpact.factories import CampaignFactory, LeadFactory, TouchFactory

pytestmark = pytest.mark.django_db

FORM = {
    "name": "Spring fair",
    "code": "spring-fair",
    "channel": "event",
    "cost": "1000",
    "currency": "USD",
    "start_date": "2025-03-01",
    "end_date": "2025-03-31",
    "is_active": "on",
}


@pytest.mark.parametrize("role", ["admin", "marketing", "sales_rep", "sales_manager"])
def test_everyone_signed_in_reads_list_and_detail(client_for, role):
    campaign = CampaignFactory(name="Visible one")
    LeadFactory(source_campaign=campaign)
    TouchFactory(campaign=campaign, utm_source="newsletter")
    client = client_for(role)
    page = client.get(reverse("campaigns:list"))
    assert page.status_code == 200 and "Visible one" in page.content.decode()
    detail = client.get(reverse("campaigns:detail", args=[campaign.pk]))
    assert detail.status_code == 200 and "newsletter" in detail.content.decode()
    assert detail.context["campaign"].sourced_leads_count == 1


def test_list_page_runs_a_fixed_number_of_queries(client_for, django_assert_num_queries):
    client = client_for("sales_rep")
    for _ in range(5):
        campaign = CampaignFactory()
        TouchFactory.create_batch(2, campaign=campaign)
    with django_assert_num_queries(3):  # session, user, campaigns with counts and owners
        assert client.get(reverse("campaigns:list")).status_code == 200


def test_marketing_creates_and_edits_through_the_pages(client_for):
    client = client_for("marketing")
    created = client.post(reverse("campaigns:create"), FORM)
    campaign = Campaign.objects.get()
    assert created.status_code == 302 and created["Location"].endswith(f"/campaigns/{campaign.pk}/")
    edit_url = reverse("campaigns:edit", args=[campaign.pk])
    assert client.get(edit_url).status_code == 200
    bad = client.post(edit_url, FORM | {"end_date": "2025-02-01"})
    assert bad.status_code == 400 and "before the start date" in bad.content.decode()
    client.post(edit_url, FORM | {"cost": "1500.5"})
    campaign.refresh_from_db()
    assert str(campaign.cost) == "1500.50" and str(campaign.end_date) == "2025-03-31"


@pytest.mark.parametrize("role", ["sales_rep", "sales_manager"])
def test_sales_may_not_create_or_edit(client_for, role):
    campaign = CampaignFactory(name="Keep")
    client = client_for(role)
    assert client.get(reverse("campaigns:create")).status_code == 403
    assert client.post(reverse("campaigns:create"), FORM).status_code == 403
    assert client.post(reverse("campaigns:edit", args=[campaign.pk]), FORM).status_code == 403
    campaign.refresh_from_db()
    assert campaign.name == "Keep" and Campaign.objects.count() == 1


def test_anonymous_is_sent_to_login_and_unknown_campaign_is_404(client_for):
    assert Client().get(reverse("campaigns:list")).status_code == 302
    assert client_for("marketing").get(reverse("campaigns:detail", args=[999])).status_code == 404
