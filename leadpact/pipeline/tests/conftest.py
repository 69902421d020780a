from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from leadpact.pipeline.services.deals import DealInput, deal_create
from leadpact.pipeline.services.pipelines import StageInput, pipeline_create
from leadpact.pipeline.tests.helpers import CRITERIA, deal_age


@pytest.fixture
def pipeline(db):
    return pipeline_create(
        name="New business",
        stages=[
            StageInput("Discovery", 10, exit_criteria=["Budget confirmed", "Decision maker known"]),
            StageInput("Proposal", 40),
            StageInput("Negotiation", 70, exit_criteria=["Terms agreed"]),
            StageInput("Won", 100, kind="won"),
            StageInput("Lost", 0, kind="lost"),
        ],
    )


@pytest.fixture
def make_deal(users, pipeline):
    def make(owner=None, **kwargs):
        owner = owner or users["sales_rep"]
        values = {
            "name": "Acme renewal",
            "amount": "1200.50",
            "currency": "EUR",
            "close_date": timezone.localdate() + dt.timedelta(days=10),
            "account_name": "Acme",
            "owner": owner,
        } | kwargs
        return deal_create(data=DealInput(**values), actor=owner)

    return make


@pytest.fixture
def review_seed(make_deal, pipeline, users):
    """``review_seed(n)`` adds ``n`` deals that fill every section of the review: half moved
    to Proposal, a third aged 40 days (no activity), a third past their close date."""
    from leadpact.pipeline.models import Deal
    from leadpact.pipeline.services.deals import deal_move

    rep = users["sales_rep"]
    proposal = pipeline.stages.get(name="Proposal")

    def seed(n: int) -> None:
        for i in range(n):
            deal = make_deal(name=f"Deal {Deal.objects.count()}")
            if i % 2:
                deal_move(deal=deal, actor=rep, stage=proposal, version=1, confirmed=CRITERIA)
            if i % 3 == 0:
                deal_age(deal, 40)
            if i % 3 == 1:
                Deal.objects.filter(pk=deal.pk).update(
                    close_date=timezone.localdate() - dt.timedelta(days=i + 1)
                )

    return seed
