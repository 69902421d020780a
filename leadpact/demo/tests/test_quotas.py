"""The demo's quotas and targets are set from the history it built."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from leadpact.demo.quotas import demo_quotas
from leadpact.factories import LeadFactory
from leadpact.leads.models import LeadState
from leadpact.leads.services.lifecycle import lead_mark_mql
from leadpact.pipeline.models import Deal, PeriodKind, Quota
from leadpact.pipeline.periods import period_of
from leadpact.pipeline.services.deals import DealInput, deal_create, deal_move
from leadpact.pipeline.services.pipelines import StageInput, pipeline_create


def test_demo_quotas_follow_the_history(users, sales_team):
    pipeline = pipeline_create(
        name="Demo",
        stages=[
            StageInput("Discovery", 10),
            StageInput("Won", 100, kind="won"),
            StageInput("Lost", 0, kind="lost"),
        ],
    )
    rep = users["sales_rep"]
    now = timezone.now()
    for months_back in range(1, 4):
        deal = deal_create(
            data=DealInput(
                name=f"Won {months_back}",
                amount="6000.00",
                currency="EUR",
                close_date=timezone.localdate(),
                account_name="Acme",
                owner=rep,
            ),
            actor=rep,
        )
        deal = deal_move(deal=deal, actor=rep, stage=pipeline.stages.get(kind="won"), version=1)
        Deal.objects.filter(pk=deal.pk).update(closed_at=now - dt.timedelta(days=31 * months_back))
    for _ in range(3):
        lead_mark_mql(lead=LeadFactory(state=LeadState.NEW))
    written = demo_quotas(now=now)
    month = period_of(PeriodKind.MONTH, timezone.localdate())
    mine = Quota.objects.filter(kind="revenue", rep=rep)
    assert mine.count() == 8  # six months back, this month and the next
    # About the rep's average month (3 x 6000 over six months = 3000), stretched 0.85-1.25.
    assert Decimal("2500") <= mine.get(start=month.start).target <= Decimal("3800")
    team = Quota.objects.filter(kind="revenue", team=sales_team)
    assert team.count() == 2 and team.first().period_kind == "quarter"
    assert Quota.objects.filter(kind="marketing_pipeline").count() == 8
    assert written == Quota.objects.count()
    assert not Quota.objects.filter(set_by__isnull=False).exists()  # set by the system
