from datetime import timedelta
from threading import Barrier, Thread

import pytest
from django.db import connection, connections
from django.utils import timezone

from leadpact.campaigns.models import Touch, TouchKind
from leadpact.factories import CampaignFactory, LeadFactory
from leadpact.leads.models import DuplicateCandidate, DuplicateScanQueue, Lead, TimelineEvent
from leadpact.leads.records import clean_lead_input
from leadpact.leads.services import capture
from leadpact.leads.services.capture import TouchInput, lead_capture

pytestmark = pytest.mark.django_db


def record(**values):
    cleaned, errors = clean_lead_input(values)
    assert not errors, errors
    return cleaned


def test_new_lead_is_created_with_a_created_event_saying_how_it_arrived(users):
    campaign = CampaignFactory(code="spring-webinar", channel="webinar")
    result = lead_capture(
        record=record(email="Ana@Example.com", first_name="Ana", campaign="spring-webinar"),
        actor=users["marketing"],
        via="api",
    )
    assert result.created and result.changed_fields == [] and not result.touch_created
    lead = Lead.objects.get()
    assert lead.email_key == "ana@example.com"
    assert lead.source_campaign == campaign
    assert lead.source_channel == "webinar"  # the campaign's channel when none was given
    event = lead.timeline.get()
    assert event.kind == TimelineEvent.Kind.CREATED
    assert event.data["via"] == "api"
    assert "via api" in event.summary
    assert event.actor == users["marketing"]


def test_same_person_again_merges_with_one_field_change_event():
    lead_capture(record=record(email="bo@example.com", first_name="Bo"), actor=None, via="form")
    result = lead_capture(
        record=record(email=" BO@example.com ", first_name="Bob", company_name="Acme Inc"),
        actor=None,
        via="import",
    )
    assert not result.created
    assert set(result.changed_fields) >= {"first_name", "company_name"}
    lead = Lead.objects.get()
    assert (lead.first_name, lead.company_name, lead.company_key) == ("Bob", "Acme Inc", "acme")
    assert lead.version == 2
    change = lead.timeline.get(kind=TimelineEvent.Kind.FIELD_CHANGE)
    assert change.data["changes"]["first_name"] == ["Bo", "Bob"]
    assert change.data["via"] == "import"
    assert "company_key" not in change.data["changes"]  # derived keys are not shown


def test_resending_the_same_record_changes_nothing():
    values = {"email": "cy@example.com", "first_name": "Cy", "attributes": {"size": "50"}}
    lead_capture(record=record(**values), actor=None, via="api")
    result = lead_capture(record=record(**values), actor=None, via="api")
    assert not result.created and result.changed_fields == []
    lead = Lead.objects.get()
    assert lead.version == 1
    assert lead.timeline.count() == 1


def test_match_by_external_id_when_there_is_no_email():
    first = lead_capture(
        record=record(external_source="crm", external_id="42", last_name="Diaz"),
        actor=None,
        via="import",
    )
    again = lead_capture(
        record=record(external_source="crm", external_id="42", email="d@example.com"),
        actor=None,
        via="import",
    )
    assert not again.created and again.lead.pk == first.lead.pk
    lead = Lead.objects.get()
    assert lead.email_key == "d@example.com"  # a blank e-mail is filled in


def test_external_id_of_another_lead_is_not_stolen_by_an_email_match():
    holder = LeadFactory(email="", email_key=None, external_source="crm", external_id="7")
    by_email = LeadFactory(email="e@example.com")
    result = lead_capture(
        record=record(email="e@example.com", external_source="crm", external_id="7", city="Oslo"),
        actor=None,
        via="import",
    )
    assert result.lead.pk == by_email.pk
    by_email.refresh_from_db()
    holder.refresh_from_db()
    assert by_email.city == "Oslo" and by_email.external_id is None
    assert holder.external_id == "7"


def test_a_merged_away_match_is_followed_to_the_survivor():
    survivor = LeadFactory(email="keep@example.com")
    merged = LeadFactory(email="old@example.com", merged_into=survivor)
    result = lead_capture(
        record=record(email="old@example.com", title="CTO"), actor=None, via="form"
    )
    assert result.lead.pk == survivor.pk and not result.created
    survivor.refresh_from_db()
    merged.refresh_from_db()
    assert survivor.title == "CTO"
    assert merged.title != "CTO"


def test_touch_is_recorded_once_with_a_timeline_event(users):
    campaign = CampaignFactory(code="q3-ads", channel="paid_search")
    touch = TouchInput(kind=TouchKind.AD_CLICK, utm_campaign="q3-ads", idempotency_key="t-1")
    first = lead_capture(record=record(email="f@example.com"), actor=None, via="api", touch=touch)
    again = lead_capture(record=record(email="f@example.com"), actor=None, via="api", touch=touch)
    assert first.touch_created and not again.touch_created
    stored = Touch.objects.get()
    assert stored.campaign == campaign and stored.channel == "paid_search"
    assert stored.lead_id == first.lead.pk
    events = TimelineEvent.objects.filter(kind=TimelineEvent.Kind.TOUCH)
    assert [e.touch_id for e in events] == [stored.pk]
    assert "Ad click" in events[0].summary


def test_campaign_matches_by_utm_campaign_too():
    campaign = CampaignFactory(code="summer", utm_campaign="Summer_Sale_2024")
    result = lead_capture(
        record=record(email="g@example.com", campaign="summer_sale_2024"), actor=None, via="api"
    )
    assert result.lead.source_campaign_id == campaign.pk


def test_unknown_campaign_code_is_kept_on_the_touch_and_creates_no_campaign():
    from leadpact.campaigns.models import Campaign

    result = lead_capture(
        record=record(email="h@example.com", campaign="no-such-code"),
        actor=None,
        via="api",
        touch=TouchInput(kind=TouchKind.FORM_FILL),
    )
    assert result.lead.source_campaign_id is None
    touch = Touch.objects.get()
    assert touch.campaign_id is None and touch.utm_campaign == "no-such-code"
    assert not Campaign.objects.exists()


def test_an_older_record_moves_the_first_touch_source():
    campaign = CampaignFactory(code="old-fair", channel="event")
    lead_capture(
        record=record(email="i@example.com", source_channel="social"), actor=None, via="api"
    )
    earlier = (timezone.now() - timedelta(days=30)).isoformat()
    lead_capture(
        record=record(email="i@example.com", captured_at=earlier, campaign="old-fair"),
        actor=None,
        via="import",
    )
    lead = Lead.objects.get()
    assert lead.source_campaign == campaign
    assert lead.captured_at < timezone.now() - timedelta(days=29)


def test_a_new_lead_waits_for_the_duplicate_scan_which_runs_after_commit(
    django_capture_on_commit_callbacks,
):
    other = LeadFactory(first_name="Jon", last_name="Smith", company_name="ACME, Inc.")
    with django_capture_on_commit_callbacks() as callbacks:
        created = lead_capture(
            record=record(
                email="j@example.com", first_name="John", last_name="Smith", company_name="Acme"
            ),
            actor=None,
            via="api",
        )
    lead = Lead.objects.get(pk=created.lead.pk)
    assert (lead.name_block, lead.email_local) == ("smith|a", "")
    assert list(DuplicateScanQueue.objects.values_list("lead_id", flat=True)) == [lead.pk]
    assert not DuplicateCandidate.objects.exists()  # nothing before commit
    for callback in callbacks:
        callback()
    pair = DuplicateCandidate.objects.get()
    assert {pair.lead_a_id, pair.lead_b_id} == {other.pk, lead.pk}
    assert not DuplicateScanQueue.objects.exists()


def test_a_merge_queues_a_new_scan_only_when_a_matched_value_changes(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        lead_capture(record=record(email="jo.ng@example.com"), actor=None, via="api")
    with django_capture_on_commit_callbacks() as callbacks:
        lead_capture(record=record(email="jo.ng@example.com", city="Rome"), actor=None, via="api")
    assert callbacks == []
    assert not DuplicateScanQueue.objects.exists()
    with django_capture_on_commit_callbacks() as callbacks:
        lead_capture(
            record=record(email="jo.ng@example.com", last_name="Ng", company_name="Initech"),
            actor=None,
            via="api",
        )
    lead = Lead.objects.get()
    assert len(callbacks) == 1
    assert list(DuplicateScanQueue.objects.values_list("lead_id", flat=True)) == [lead.pk]
    assert (lead.name_block, lead.email_local) == ("ng|i", "jo.ng")


def test_a_racing_insert_of_the_same_person_becomes_a_merge(monkeypatch):
    """The other request inserts between our lookup and our insert: the unique e-mail key
    refuses ours inside a savepoint and the capture merges into theirs."""
    real_find = capture._find
    calls = {"n": 0}

    def find_after_the_other_request_inserted(rec):
        calls["n"] += 1
        if calls["n"] == 1:
            LeadFactory(email="race@example.com", first_name="Other")
            return None
        return real_find(rec)

    monkeypatch.setattr(capture, "_find", find_after_the_other_request_inserted)
    result = lead_capture(
        record=record(email="race@example.com", title="VP"), actor=None, via="form"
    )
    assert not result.created
    lead = Lead.objects.get()
    assert lead.title == "VP" and lead.first_name == "Other"
    assert not lead.timeline.filter(kind=TimelineEvent.Kind.CREATED).exists()


@pytest.mark.django_db(transaction=True)
def test_two_threads_capturing_the_same_email_make_one_lead():
    if connection.vendor != "postgresql":
        pytest.skip("real concurrent writers need PostgreSQL (SQLite serialises writers)")
    barrier = Barrier(4)
    results: list[bool] = []
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            barrier.wait()
            out = lead_capture(
                record=record(email="same@example.com", city=f"City {n}"), actor=None, via="api"
            )
            results.append(out.created)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert Lead.objects.count() == 1
    assert sorted(results) == [False, False, False, True]


def test_a_new_lead_is_scored_and_qualified_at_capture_in_a_fixed_number_of_queries(
    users, django_assert_num_queries, django_capture_on_commit_callbacks
):
    """The capture scores the lead as it just saved it (no re-read, no touches to read for a
    new lead) and marks it MQL without reading its state again."""
    from leadpact.scoring.tests.pact import live

    live(users)
    fields = {"source_channel": "referral", "attributes": {"employees": 120}}
    lead_capture(record=record(email="warm@example.com", **fields), actor=None, via="api")
    with (
        django_capture_on_commit_callbacks(execute=False) as jobs,
        # find; savepoint, insert, scan queue, created event, release; live profile; score
        # and its event; MQL and its event; the capture's own savepoint and release
        django_assert_num_queries(13),
    ):
        result = lead_capture(
            record=record(email="ana@example.com", **fields), actor=None, via="api"
        )
    lead = Lead.objects.get(pk=result.lead.pk)
    assert (lead.score, lead.state) == (600, "mql")
    kinds = list(lead.timeline.order_by("id").values_list("kind", flat=True))
    assert kinds == ["created", "score_change", "state_change"]
    # The routing job is sent first, the duplicate scan after it.
    assert [(job.func.__self__.name, job.keywords["args"]) for job in jobs] == [
        ("leadpact.routing.route_leads", ([lead.pk],)),
        ("leads.duplicates_scan_pending", ()),
    ]
