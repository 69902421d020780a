"""factory_boy factories for tests and benchmarks."""

from __future__ import annotations

import factory
from django.utils import timezone

from leadpact.accounts.models import Role, Team, User
from leadpact.campaigns.models import Campaign, Touch, TouchKind
from leadpact.leads.models import Lead, LeadState
from leadpact.leads.normalize import (
    company_key,
    email_key,
    email_local_part,
    name_block_key,
    search_key,
)


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Team {n}")
    kind = Team.Kind.SALES


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    role = Role.SALES_REP
    password = factory.PostGenerationMethodCall("set_password", "pass-12345")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    name = factory.Sequence(lambda n: f"Campaign {n}")
    code = factory.Sequence(lambda n: f"campaign-{n}")
    channel = "paid_search"


class LeadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lead

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.Sequence(lambda n: f"lead{n}@example.com")
    email_key = factory.LazyAttribute(lambda lead: email_key(lead.email))
    company_name = factory.Faker("company")
    search_key = factory.LazyAttribute(lambda lead: search_key(lead.first_name, lead.last_name))
    company_key = factory.LazyAttribute(lambda lead: company_key(lead.company_name))
    name_block = factory.LazyAttribute(
        lambda lead: name_block_key(lead.last_name, lead.company_key)
    )
    email_local = factory.LazyAttribute(lambda lead: email_local_part(lead.email_key))
    source_channel = "paid_search"
    captured_at = factory.LazyFunction(timezone.now)
    state = LeadState.NEW


class TouchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Touch

    lead = factory.SubFactory(LeadFactory)
    channel = "paid_search"
    kind = TouchKind.PAGE_VIEW
    occurred_at = factory.LazyFunction(timezone.now)
    idempotency_key = factory.Sequence(lambda n: f"touch-{n}")
