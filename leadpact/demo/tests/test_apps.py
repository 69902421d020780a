"""The demo fills the later apps too: a live lead profile, a pipeline of deals, routing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.db.models import Count, F
from django.test import Client
from django.urls import reverse

from leadpact.accounts.models import Team, User
from leadpact.demo.staff import MANAGER
from leadpact.demo.world import demo_build
from leadpact.leads.models import Lead, LeadState
from leadpact.pipeline.models import Activity, Deal, DealEvent, Pipeline
from leadpact.pipeline.services.forecast.learning import stage_rates
from leadpact.pipeline.services.forecast.period import forecast_period
from leadpact.routing.models import (
    BusinessCalendar,
    Offer,
    QualificationItem,
    RejectionReason,
    RepAvailability,
    RoutingRule,
)
from leadpact.scoring.models import LeadProfile, ProfileStatus
from leadpact.scoring.services.rescoring import leads_rescore_all

NOW = datetime.now(UTC).replace(microsecond=0)
NO_DATASETS = Path("/nonexistent/datasets")


@pytest.fixture
def world(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):  # the new MQLs get routed
        return demo_build(seed=11, leads=2500, now=NOW, datasets_dir=NO_DATASETS)


def test_a_learned_profile_is_live_and_scores_every_open_lead(world):
    live = LeadProfile.objects.get(status=ProfileStatus.LIVE)
    assert live.author.username == "maria"
    attributes = {a["attribute"] for a in live.scorecard["attributes"]}
    # the attributes the demo makes carry signal are learned; the city is left out
    assert {"source_channel", "lead_type", "business_type"} <= attributes
    assert "city" not in attributes
    # Better than chance on this small (2,500-lead) demo, deterministically: 0.599 measured.
    assert live.report["validation"]["auc_mean"] > 0.55
    assert world.profile.rescored > 1000 and world.profile.new_mqls > 0
    # every open lead already has the score this profile gives: rescoring changes nothing
    assert leads_rescore_all(profile=live, reason="check", now=NOW).changed == 0
    # the leads that crossed the threshold became MQLs and were routed right away
    crossed = Lead.objects.filter(score__gte=live.threshold, offers__isnull=False)
    assert crossed.filter(state__in=[LeadState.MQL, LeadState.OFFERED]).exists()


def test_the_pipeline_has_deals_in_every_stage_with_history(world):
    pipeline = Pipeline.objects.get(is_default=True)
    assert all(s.exit_criteria for s in pipeline.stages.filter(kind="open"))
    stages = dict(Deal.objects.values_list("stage__name").annotate(n=Count("id")))
    assert set(stages) == set(pipeline.stages.values_list("name", flat=True))
    # every lead that reached opportunity has its deal, owned by the lead's owner
    won = Lead.objects.filter(state=LeadState.WON)
    assert Deal.objects.filter(status=Deal.Status.WON).count() == won.count() > 0
    assert not won.exclude(deal__owner_id=F("owner_id")).exists()
    assert not Deal.objects.filter(status=Deal.Status.LOST, lost_reason__isnull=True).exists()
    open_deals = Deal.objects.filter(status=Deal.Status.OPEN)
    assert open_deals.count() == Lead.objects.filter(state=LeadState.OPPORTUNITY).count()
    assert open_deals.filter(close_date__gte=NOW.date()).exists()
    # the stage history over the past months teaches the stage probabilities
    assert DealEvent.objects.filter(kind=DealEvent.Kind.STAGE).count() > Deal.objects.count()
    assert DealEvent.objects.filter(occurred_at__lt=NOW - timedelta(days=90)).exists()
    rates = {r.stage.name: r for r in stage_rates(pipeline=pipeline)}
    assert rates["Discovery"].reached > 50 and 0 < rates["Discovery"].learned < 1
    assert rates["Negotiation"].learned > rates["Discovery"].learned
    # next steps, some overdue
    steps = Activity.objects.exclude(next_step="")
    assert steps.filter(next_step_due__lt=NOW.date()).exists()
    assert steps.filter(next_step_due__gte=NOW.date()).exists()
    manager = User.objects.get(username=MANAGER)
    forecast = forecast_period(
        user=manager, start=NOW.date(), end=NOW.date() + timedelta(days=90), n_trials=500
    )
    assert forecast.deals > 0 and 0 < forecast.p10 <= forecast.p50 <= forecast.p90


def test_routing_is_set_up_and_the_new_mqls_were_routed(world):
    assert RoutingRule.objects.count() == world.routing.rules == 4
    assert not RoutingRule.objects.filter(team__isnull=True, rep__isnull=True).exists()
    for team in Team.objects.all():
        assert BusinessCalendar.objects.filter(team=team).exists(), team
    away = RepAvailability.objects.get(out_of_office_until__gt=NOW)
    assert away.rep.username == "priya"
    assert RejectionReason.objects.count() == 6 and QualificationItem.objects.count() == 5
    routed = Offer.objects.filter(status=Offer.Status.PENDING, rule__isnull=False)
    reps = set(routed.values_list("rep__username", flat=True))
    # The weighted round-robin counts the last 30 days of offers (the demo's answered-offer
    # history included), so who gets the new MQLs depends on that history; priya is away.
    assert "sam" in reps and len(reps) >= 2 and "priya" not in reps


def test_the_pages_show_the_demo(world):
    client = Client()
    client.force_login(User.objects.get(username=MANAGER))
    deal = Deal.objects.filter(status=Deal.Status.OPEN).first()
    pages = {
        reverse("scoring:live"): "lead_type",
        reverse("pipeline:board"): deal.name,
        reverse("pipeline:deal", args=[deal.pk]): deal.stage.name,
        reverse("pipeline:forecast"): "P50",
        reverse("pipeline:review"): "",
        reverse("routing:rules"): "Everyone else to sales development",
        reverse("routing:policies"): "Answer an offered lead within 8 business hours",
    }
    for url, text in pages.items():
        response = client.get(url)
        assert response.status_code == 200, url
        assert text in response.content.decode(), url
