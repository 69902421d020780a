from decimal import Decimal

import pytest

from leadpact.campaigns.models import Campaign
from leadpact.campaigns.services import campaign_create, campaign_update
from leadpact.common.errors import ApplicationError, PermissionDeniedError
from leadpact.factories import CampaignFactory

pytestmark = pytest.mark.django_db

GOOD = {"name": "Spring webinar", "code": "Spring-Webinar", "channel": "Webinar", "cost": "1200.50"}


def test_create_normalises_and_sets_the_owner(users):
    campaign = campaign_create(actor=users["marketing"], values=GOOD | {"currency": "eur"})
    assert (campaign.code, campaign.channel, campaign.currency) == (
        "spring-webinar",
        "webinar",
        "EUR",
    )
    assert campaign.cost == Decimal("1200.50")
    assert campaign.owner == users["marketing"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"code": "has space"}, "code"),
        ({"cost": "-1"}, "cost"),
        ({"cost": "1.005"}, "cost"),
        ({"cost": "NaN"}, "cost"),
        ({"cost": "lots"}, "cost"),
        ({"currency": "XXQ"}, "currency"),
        ({"start_date": "2024-05-02", "end_date": "2024-05-01"}, "end_date"),
        ({"start_date": "02/05/2024"}, "start_date"),
        ({"name": ""}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_create_refuses_bad_values_and_names_the_field(users, change, field):
    with pytest.raises(ApplicationError) as caught:
        campaign_create(actor=users["admin"], values=GOOD | change)
    assert field in caught.value.extra["fields"]
    assert not Campaign.objects.exists()


def test_code_is_unique(users):
    CampaignFactory(code="spring-webinar")
    with pytest.raises(ApplicationError, match="already used"):
        campaign_create(actor=users["marketing"], values=GOOD)


def test_sales_may_not_create_or_edit(users):
    with pytest.raises(PermissionDeniedError):
        campaign_create(actor=users["sales_rep"], values=GOOD)
    campaign = CampaignFactory()
    with pytest.raises(PermissionDeniedError):
        campaign_update(campaign=campaign, actor=users["sales_manager"], values={"cost": "1"})


def test_update_checks_end_against_the_stored_start(users):
    campaign = campaign_create(actor=users["marketing"], values=GOOD | {"start_date": "2024-03-01"})
    with pytest.raises(ApplicationError, match="before the start"):
        campaign_update(
            campaign=campaign, actor=users["marketing"], values={"end_date": "2024-02-01"}
        )
    campaign_update(campaign=campaign, actor=users["marketing"], values={"end_date": "2024-03-31"})
    campaign.refresh_from_db()
    assert str(campaign.end_date) == "2024-03-31"
