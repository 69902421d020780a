"""Going live rescores every open lead in bulk; crossing the threshold makes an MQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from leadpact.factories import LeadFactory, TouchFactory
from leadpact.leads.models import Lead, LeadState, TimelineEvent
from leadpact.leads.services.lifecycle import leads_mark_mql_bulk
from leadpact.scoring.services.profiles import profile_go_live
from leadpact.scoring.services.rescoring import (
    lead_score_refresh,
    leads_rescore_all,
    rescore_run_execute,
)
from leadpact.scoring.tests.pact import approved, live

pytestmark = pytest.mark.django_db
SCORE = TimelineEvent.Kind.SCORE_CHANGE


def test_going_live_scores_explains_and_qualifies(users, django_capture_on_commit_callbacks):
    hot = LeadFactory(source_channel="referral", attributes={"employees": 120})  # 600
    cold = LeadFactory(source_channel="paid_search", attributes={"employees": 5})  # 510
    won = LeadFactory(source_channel="referral", state=LeadState.WON, score=7)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _, run = profile_go_live(profile=approved(users), actor=users["marketing"])
    assert len(callbacks) == 1  # the rescore job, started after the switch commits
    hot.refresh_from_db()
    assert hot.score == 0  # the switch itself does not score: it stays short
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run, result = rescore_run_execute(run_id=run.pk)
    hot.refresh_from_db()
    cold.refresh_from_db()
    won.refresh_from_db()
    assert (hot.score, cold.score, won.score) == (600, 510, 7)  # closed leads keep theirs
    assert hot.state == LeadState.MQL and cold.state == LeadState.NEW
    assert result.became_mql == [hot.pk]
    assert (run.status, run.scored, run.changed, run.became_mql) == ("done", 2, 2, 1)
    event = TimelineEvent.objects.get(lead=hot, kind=SCORE)
    assert event.data["points"] == {"source_channel": 60, "employees": 40}
    assert event.data["base"] == 500 and event.data["from"] == 0 and event.data["to"] == 600
    mql = TimelineEvent.objects.get(lead=hot, kind=TimelineEvent.Kind.STATE_CHANGE)
    assert mql.data["from"] == "new" and mql.data["to"] == "mql" and "560" in mql.summary
    assert len(callbacks) == 1  # route_leads_task(hot) enqueued after commit


def test_unchanged_scores_write_nothing(users):
    live(users)
    lead = LeadFactory(source_channel="paid_search", attributes={"employees": 5})
    lead_score_refresh([lead.pk])
    assert TimelineEvent.objects.filter(lead=lead, kind=SCORE).count() == 1
    result = lead_score_refresh([lead.pk])
    assert result.changed == 0
    assert TimelineEvent.objects.filter(lead=lead, kind=SCORE).count() == 1


def test_500_leads_go_live_in_a_bounded_number_of_queries(users, django_assert_max_num_queries):
    Lead.objects.bulk_create(
        LeadFactory.build(
            source_channel="referral" if i % 2 else "paid_search",
            attributes={"employees": i % 200},
            email_key=f"bulk{i}@example.com",
        )
        for i in range(500)
    )
    first = Lead.objects.get(email_key="bulk0@example.com")  # paid_search, 0 employees: 510
    TouchFactory.create_batch(20, lead=first, kind="form_fill")
    profile = approved(users)
    with django_assert_max_num_queries(15):  # the switch: no lead is read
        _, run = profile_go_live(profile=profile, actor=users["marketing"])
    with django_assert_max_num_queries(3 * 15):  # three chunks of 200, a few queries each
        run, result = rescore_run_execute(run_id=run.pk, chunk_size=200)
    assert run.chunks == 3 and run.status == "done"
    assert result.scored == run.scored == 500 and result.changed == 500
    assert TimelineEvent.objects.filter(kind=SCORE).count() == 500
    # every referral (odd i) reaches 560 = the threshold; paid search tops out at 550
    assert Lead.objects.filter(state=LeadState.MQL).count() == len(result.became_mql) == 250
    assert Lead.objects.get(pk=first.pk).score == 510 + 40  # 20 fresh fills, capped at 40


def test_engagement_decays_and_is_capped(users):
    profile = live(users)
    lead = LeadFactory(source_channel="paid_search", attributes={"employees": 5})
    now = timezone.now()
    TouchFactory(lead=lead, kind="form_fill", occurred_at=now)
    TouchFactory(lead=lead, kind="form_fill", occurred_at=now - timedelta(days=30))
    for _ in range(10):
        TouchFactory(lead=lead, kind="page_view", occurred_at=now)
    lead_score_refresh([lead.pk], now=now)
    lead.refresh_from_db()
    # 510 fit + 20 (fresh fill) + 10 (a fill one half-life old, next period) + 5 (views capped)
    assert lead.score == 545
    later = now + timedelta(days=60)
    leads_rescore_all(profile=profile, reason="decay", now=later)
    lead.refresh_from_db()
    assert 510 < lead.score < 545


def test_recycled_lead_requalifies_only_when_it_crosses(users):
    live(users)
    lead = LeadFactory(
        source_channel="referral", attributes={"employees": 120}, state=LeadState.RECYCLED
    )
    Lead.objects.filter(pk=lead.pk).update(score=590)  # already above: sales said no
    lead_score_refresh([lead.pk])
    lead.refresh_from_db()
    assert lead.state == LeadState.RECYCLED and lead.score == 600
    Lead.objects.filter(pk=lead.pk).update(score=100)  # was below: now it crosses
    lead_score_refresh([lead.pk])
    lead.refresh_from_db()
    assert lead.state == LeadState.MQL


def test_bulk_mql_leaves_leads_that_moved_meanwhile(users):
    new = LeadFactory()
    offered = LeadFactory(state=LeadState.OFFERED)
    won = LeadFactory(state=LeadState.WON)
    moved = leads_mark_mql_bulk([new.pk, offered.pk, won.pk], reason="test", now=timezone.now())
    assert moved == [new.pk]
    assert set(Lead.objects.values_list("state", flat=True)) == {"mql", "offered", "won"}


def test_refresh_without_a_live_profile_does_nothing(users):
    lead = LeadFactory(source_channel="referral")
    assert lead_score_refresh([lead.pk]).scored == 0
    assert not TimelineEvent.objects.filter(kind=SCORE).exists()


def test_capture_scores_the_lead_and_makes_it_an_mql(users):
    from leadpact.leads.records import clean_lead_input
    from leadpact.leads.services.capture import lead_capture

    live(users)
    record, errors = clean_lead_input(
        {"email": "hot@example.com", "source_channel": "referral", "attributes": {"employees": 90}}
    )
    assert not errors
    lead = lead_capture(record=record, actor=None, via="form").lead
    lead.refresh_from_db()
    assert lead.score == 600 and lead.state == LeadState.MQL
    event = TimelineEvent.objects.get(lead=lead, kind=SCORE)
    assert event.data["points"] == {"source_channel": 60, "employees": 40}
