from datetime import timedelta

import pytest
from django.utils import timezone

from leadpact.campaigns.models import Touch
from leadpact.campaigns.services import touch_record, touches_ingest
from leadpact.campaigns.touch_input import TouchInput
from leadpact.common.errors import ApplicationError, PermissionDeniedError
from leadpact.factories import CampaignFactory, LeadFactory
from leadpact.leads.models import TimelineEvent

pytestmark = pytest.mark.django_db


def batch(lead, other):
    return [
        {"lead_id": lead.pk, "kind": "email_open", "idempotency_key": "k1", "campaign": "nl-1"},
        {
            "email": other.email.upper(),
            "kind": "page_view",
            "idempotency_key": "k2",
            "occurred_at": (timezone.now() - timedelta(days=2)).isoformat(),
            "url": "https://x.io/p",
        },
        {"lead_id": lead.pk, "kind": "email_click", "idempotency_key": "k3", "utm_campaign": "zzz"},
    ]


def test_batch_is_stored_with_timeline_events_and_sending_it_again_adds_nothing(users):
    campaign = CampaignFactory(code="nl-1", channel="email")
    lead, other = LeadFactory(), LeadFactory()
    first = touches_ingest(items=batch(lead, other), actor=users["marketing"])
    assert (first.received, first.created, first.skipped) == (3, 3, 0)
    again = touches_ingest(items=batch(lead, other), actor=users["marketing"])
    assert (again.created, again.skipped) == (0, 3)
    assert Touch.objects.count() == 3
    assert TimelineEvent.objects.filter(kind=TimelineEvent.Kind.TOUCH).count() == 3
    t1 = Touch.objects.get(idempotency_key="k1")
    assert t1.campaign == campaign and t1.channel == "email"
    assert Touch.objects.get(idempotency_key="k2").lead == other
    unknown = Touch.objects.get(idempotency_key="k3")
    assert unknown.campaign is None and unknown.utm_campaign == "zzz"
    events = TimelineEvent.objects.filter(touch__isnull=False)
    assert {e.touch_id for e in events} == set(Touch.objects.values_list("pk", flat=True))


def test_a_key_repeated_inside_the_batch_is_stored_once(users):
    lead = LeadFactory()
    item = {"lead_id": lead.pk, "kind": "event", "idempotency_key": "same"}
    result = touches_ingest(items=[item, dict(item)], actor=None)
    assert (result.created, result.skipped) == (1, 1)


def test_one_bad_item_rejects_the_batch_with_per_index_errors(users):
    lead = LeadFactory()
    future = (timezone.now() + timedelta(days=1)).isoformat()
    items = [
        {"lead_id": lead.pk, "kind": "event", "idempotency_key": "ok-1"},
        {"lead_id": 999999, "kind": "event", "idempotency_key": "x"},
        {"email": "nobody@example.com", "kind": "event", "idempotency_key": "y"},
        {"lead_id": lead.pk, "kind": "teleport", "idempotency_key": "z"},
        {"lead_id": lead.pk, "kind": "event", "occurred_at": future, "idempotency_key": "f"},
        {"lead_id": lead.pk, "kind": "event", "occurred_at": "yesterday", "idempotency_key": "g"},
        {"lead_id": lead.pk, "kind": "event"},
        {"lead_id": lead.pk, "kind": "event", "idempotency_key": "k" * 201},
        {"lead_id": lead.pk, "kind": "event", "idempotency_key": "u", "utm_source": "s" * 101},
        {"lead_id": lead.pk, "kind": "event", "idempotency_key": "v", "mood": "happy"},
        "not an object",
    ]
    with pytest.raises(ApplicationError) as caught:
        touches_ingest(items=items, actor=users["admin"])
    errors = caught.value.extra["errors"]
    assert "0" not in errors
    assert errors["1"] == {"lead_id": "no lead with id 999999"}
    assert "email" in errors["2"]
    assert "kind" in errors["3"]
    assert errors["4"]["occurred_at"] == "is in the future"
    assert "occurred_at" in errors["5"]
    assert "idempotency_key" in errors["6"] and "idempotency_key" in errors["7"]
    assert "utm_source" in errors["8"] and errors["9"] == {"mood": "unknown field"}
    assert "item" in errors["10"]
    assert not Touch.objects.exists() and not TimelineEvent.objects.exists()


def test_touches_on_a_merged_away_lead_land_on_the_survivor(users):
    survivor = LeadFactory()
    merged = LeadFactory(merged_into=survivor)
    touches_ingest(
        items=[{"lead_id": merged.pk, "kind": "webinar", "idempotency_key": "m1"}], actor=None
    )
    assert Touch.objects.get().lead == survivor


def test_sales_may_not_ingest(users):
    with pytest.raises(PermissionDeniedError):
        touches_ingest(items=[], actor=users["sales_rep"])


def test_ingest_runs_a_fixed_number_of_queries(users, django_assert_max_num_queries):
    leads = LeadFactory.create_batch(5)
    CampaignFactory(code="c1")
    items = [
        {"lead_id": lead.pk, "kind": "page_view", "idempotency_key": f"q{i}-{n}", "campaign": "c1"}
        for n, lead in enumerate(leads)
        for i in range(40)
    ]
    with django_assert_max_num_queries(12):
        result = touches_ingest(items=items, actor=None)
    assert result.created == 200


def test_touch_record_is_idempotent():
    lead = LeadFactory()
    touch = TouchInput(kind="call", idempotency_key="call-1")
    first, created = touch_record(lead=lead, touch=touch)
    again, created_again = touch_record(lead=lead, touch=touch)
    assert created and not created_again and first.pk == again.pk
    assert lead.timeline.filter(kind=TimelineEvent.Kind.TOUCH).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_batches_racing_on_the_same_keys_store_each_touch_once():
    from threading import Barrier, Thread

    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("real concurrent writers need PostgreSQL (SQLite serialises writers)")
    leads = LeadFactory.create_batch(3)
    items = [
        {"lead_id": lead.pk, "kind": "page_view", "idempotency_key": f"race-{lead.pk}-{i}"}
        for lead in leads
        for i in range(20)
    ]
    barrier = Barrier(3)
    created: list[int] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            created.append(touches_ingest(items=items, actor=None).created)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert sum(created) == 60
    assert Touch.objects.count() == 60
    assert TimelineEvent.objects.filter(kind=TimelineEvent.Kind.TOUCH).count() == 60
