from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from leadpact.pipeline.services.deals import DealInput, deal_create
from leadpact.pipeline.services.pipelines import StageInput, pipeline_create


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
