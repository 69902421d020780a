"""The demo world builds, is the same for the same seed, and is coherent enough to demo."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.db.models import Count

from leadpact.accounts.models import Role, Team, User
from leadpact.campaigns.models import Campaign, Touch
from leadpact.common.errors import ApplicationError
from leadpact.demo.funnel import builtin_funnel, olist_funnel
from leadpact.demo.world import demo_build, demo_reset
from leadpact.leads.models import DuplicateCandidate, Lead, LeadState, TimelineEvent, WebForm
from leadpact.leads.normalize import normalize_phone
from leadpact.routing.models import FallbackItem, Offer, SlaClock

NOW = datetime(2025, 3, 14, 15, 30, tzinfo=UTC)
NO_DATASETS = Path("/nonexistent/datasets")


def snapshot() -> dict:
    first = Lead.objects.order_by("id").first()
    return {
        "leads": Lead.objects.count(),
        "touches": Touch.objects.count(),
        "events": TimelineEvent.objects.count(),
        "states": dict(Lead.objects.values_list("state").annotate(n=Count("id"))),
        "first": (first.email, first.first_name, first.last_name, first.state, first.score),
    }


@pytest.mark.django_db
def test_same_seed_same_world_and_another_seed_another():
    demo_build(seed=7, leads=300, now=NOW, datasets_dir=NO_DATASETS)
    first = snapshot()
    demo_reset()
    assert not Lead.objects.exists() and not User.objects.exists()
    demo_build(seed=7, leads=300, now=NOW, datasets_dir=NO_DATASETS)
    assert snapshot() == first
    demo_reset()
    demo_build(seed=8, leads=300, now=NOW, datasets_dir=NO_DATASETS)
    assert snapshot()["first"] != first["first"]


@pytest.mark.django_db
def test_full_demo_world_is_coherent(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        summary = demo_build(leads=2000, now=NOW, datasets_dir=NO_DATASETS)
    assert summary.funnel_source == "built-in constants"
    assert Lead.objects.count() == 2000 + summary.duplicates
    roles = dict(User.objects.values_list("role").annotate(n=Count("id")))
    assert roles == {Role.ADMIN: 1, Role.MARKETING: 2, Role.SALES_REP: 5, Role.SALES_MANAGER: 1}
    assert Team.objects.filter(kind=Team.Kind.SALES, manager__username="grace").count() == 2
    assert 10 <= Campaign.objects.count() <= 14
    assert WebForm.objects.count() == 2
    assert WebForm.objects.filter(submissions__gt=0).count() == 2

    # every state of the lifecycle is present but MQL: going live routed every waiting MQL
    # (an MQL stays only where no rep could take it, in the fallback queue); the year ends today
    states = set(Lead.objects.values_list("state", flat=True))
    assert states | {LeadState.MQL} == set(LeadState.values)
    in_fallback = FallbackItem.objects.filter(resolved_at__isnull=True).values("lead_id")
    assert not Lead.objects.filter(state=LeadState.MQL).exclude(pk__in=in_fallback).exists()
    assert Lead.objects.filter(captured_at__gt=NOW).count() == 0
    assert Lead.objects.filter(captured_at__lt=NOW.replace(year=2024)).count() == 0
    # worked leads have an owner, leads back with marketing have none
    worked = [LeadState.OFFERED, LeadState.ACCEPTED, LeadState.SQL, LeadState.OPPORTUNITY]
    assert not Lead.objects.filter(state__in=worked, owner__isnull=True).exists()
    assert not Lead.objects.filter(state=LeadState.RECYCLED, owner__isnull=False).exists()
    # leads waiting for an answer have a pending offer to their owner, with its SLA clock
    offered = Lead.objects.filter(state=LeadState.OFFERED)
    pending = Offer.objects.filter(status=Offer.Status.PENDING)
    # (the journeys' offers, plus the new MQLs the live profile made, routed after commit)
    assert 0 < summary.offers < offered.count() == pending.count()
    assert set(pending.values_list("lead_id", "rep_id")) == set(
        offered.values_list("id", "owner_id")
    )
    assert SlaClock.objects.filter(offer__in=pending).count() == pending.count()
    # channel mix follows Olist: organic search is the largest channel
    channels = dict(Lead.objects.values_list("source_channel").annotate(n=Count("id")))
    assert max(channels, key=channels.get) == "organic_search"

    # 1 to 8 touches per lead, with UTM codes of the campaign they belong to
    per_lead = Touch.objects.values("lead").annotate(n=Count("id"))
    counts = {row["n"] for row in per_lead}
    assert min(counts) >= 1 and max(counts) <= 8
    assert per_lead.count() == Lead.objects.count()
    touch = Touch.objects.filter(campaign__isnull=False).select_related("campaign").first()
    assert touch.utm_campaign == touch.campaign.code

    # the timeline tells the same story as the state: last state change lands on the state
    won = Lead.objects.filter(state=LeadState.WON).first()
    events = list(won.timeline.order_by("occurred_at", "id"))
    assert events[0].kind == TimelineEvent.Kind.CREATED
    last_change = [e for e in events if e.kind == TimelineEvent.Kind.STATE_CHANGE][-1]
    assert last_change.data["to"] == LeadState.WON
    assert last_change.actor_id == won.owner_id
    rejected = TimelineEvent.objects.filter(data__rejected=True).first()
    assert rejected.data["reason"] and rejected.actor.role == Role.SALES_REP
    assert TimelineEvent.objects.filter(kind=TimelineEvent.Kind.NOTE).exists()

    # realistic contact data: phones valid for their country, no duplicate e-mails
    for phone in Lead.objects.exclude(phone="").values_list("phone", flat=True)[:200]:
        assert normalize_phone(phone, "US") == phone
    # a handful of the same people arrived twice under slightly different names, and the
    # duplicate scan that runs after capture found them for the duplicates page
    assert summary.duplicates == 8
    assert DuplicateCandidate.objects.filter(status=DuplicateCandidate.Status.OPEN).count() >= 6
    assert Lead.objects.filter(phone__in=["", None]).count() < Lead.objects.count() // 4

    # deal timelines name their stages as the services write them (the review reads these)
    from leadpact.pipeline.models import DealEvent

    moves = DealEvent.objects.filter(kind__in=[DealEvent.Kind.CREATED, DealEvent.Kind.STAGE])
    assert moves.exists() and not moves.filter(stage__isnull=True).exists()
    for e in moves.filter(kind=DealEvent.Kind.STAGE)[:200]:
        assert (e.stage_id, e.from_stage_id) == (e.data["to_stage"], e.data["from_stage"])
    for e in moves.filter(kind=DealEvent.Kind.CREATED)[:200]:
        assert e.stage_id == e.data["stage"]


@pytest.mark.django_db
def test_refuses_a_database_that_has_users(users):
    with pytest.raises(ApplicationError, match="--reset"):
        demo_build(leads=100, now=NOW)
    assert not Lead.objects.exists()


def test_builtin_constants_match_the_olist_files(datasets_dir):
    read, builtin = olist_funnel(datasets_dir), builtin_funnel()
    assert read.source == "olist files"
    assert read.channels == builtin.channels
    assert read.lead_types == builtin.lead_types
    assert read.segments == builtin.segments
    assert read.business_types == builtin.business_types
    assert [round(x, 2) for x in read.days_to_win] == list(builtin.days_to_win)
    assert [round(x, 4) for x in read.weekdays] == list(builtin.weekdays)
