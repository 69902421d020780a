"""Merging, unmerging and dismissing: lead_merge, lead_unmerge, duplicate_dismiss."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from leadpact.campaigns.models import Touch
from leadpact.common.errors import ApplicationError, ConflictError, PermissionDeniedError
from leadpact.factories import CampaignFactory, LeadFactory, TouchFactory
from leadpact.leads.models import DuplicateCandidate, Lead, TimelineEvent
from leadpact.leads.services.dedupe import (
    duplicate_dismiss,
    lead_merge,
    lead_unmerge,
    survivor_ids,
)

MERGE, UNMERGE = TimelineEvent.Kind.MERGE, TimelineEvent.Kind.UNMERGE
PROFILE = ("first_name", "last_name", "title", "company_name", "country", "city", "phone")


def snapshot(lead: Lead) -> dict:
    lead.refresh_from_db()
    values = {f.attname: getattr(lead, f.attname) for f in Lead._meta.concrete_fields}
    for volatile in ("updated_at", "version"):
        values.pop(volatile)
    return values


@pytest.fixture
def pair(db):
    """A primary with gaps and an older duplicate that fills some of them."""
    now = timezone.now()
    primary = LeadFactory(
        first_name="John",
        last_name="Smith",
        company_name="Acme",
        title="",
        city="",
        phone="",
        captured_at=now - timedelta(days=1),
        source_channel="paid_search",
        attributes={"industry": "Retail", "size": ""},
    )
    duplicate = LeadFactory(
        first_name="Jon",
        last_name="Smith",
        company_name="ACME, Inc.",
        title="CTO",
        city="Leeds",
        phone="+442079460958",
        captured_at=now - timedelta(days=30),
        source_channel="webinar",
        source_campaign=CampaignFactory(),
        attributes={"industry": "Software", "size": "50", "budget": "10k"},
    )
    own = TouchFactory(lead=primary)
    theirs = [TouchFactory(lead=duplicate) for _ in range(2)]
    # a touch the duplicate had received from an even earlier merge keeps that origin
    earlier = LeadFactory(merged_into=duplicate)
    inherited = TouchFactory(lead=duplicate, original_lead=earlier)
    return primary, duplicate, own, [*theirs, inherited], earlier


def test_merge_moves_touches_fills_blanks_and_records_everything(pair, users):
    primary, duplicate, own, moved, earlier = pair
    original_campaign = duplicate.source_campaign_id

    result = lead_merge(primary=primary, duplicate=duplicate, actor=users["marketing"])

    assert result.pk == primary.pk
    duplicate.refresh_from_db()
    primary.refresh_from_db()
    assert duplicate.merged_into_id == primary.pk
    assert set(Touch.objects.filter(lead=primary).values_list("pk", flat=True)) == {
        own.pk,
        *(t.pk for t in moved),
    }
    origins = dict(Touch.objects.values_list("pk", "original_lead_id"))
    assert origins[own.pk] is None
    assert origins[moved[0].pk] == duplicate.pk and origins[moved[1].pk] == duplicate.pk
    assert origins[moved[2].pk] == earlier.pk
    # blanks filled, the primary's own values kept, the older first contact wins
    assert (primary.first_name, primary.company_name) == ("John", "Acme")
    assert (primary.title, primary.city, primary.phone) == ("CTO", "Leeds", "+442079460958")
    assert primary.attributes == {"industry": "Retail", "size": "50", "budget": "10k"}
    assert primary.captured_at == duplicate.captured_at
    assert primary.source_channel == "webinar"
    assert primary.source_campaign_id == original_campaign
    # identity stays with the duplicate and leads to the survivor
    assert duplicate.email_key != primary.email_key
    assert survivor_ids([earlier.pk, duplicate.pk]) == {
        earlier.pk: primary.pk,
        duplicate.pk: primary.pk,
    }

    on_primary = TimelineEvent.objects.get(lead=primary, kind=MERGE)
    on_duplicate = TimelineEvent.objects.get(lead=duplicate, kind=MERGE)
    assert on_primary.actor == users["marketing"]
    assert sorted(on_primary.data["touches"]) == sorted(t.pk for t in moved)
    assert on_primary.data["fields"]["title"] == ["", "CTO"]
    assert on_primary.data["fields"]["attributes.budget"] == [None, "10k"]
    assert "attributes.industry" not in on_primary.data["fields"]
    assert "3 touch(es)" in on_primary.summary and "title" in on_primary.summary
    assert on_duplicate.data["primary"] == primary.pk
    candidate = DuplicateCandidate.objects.get()
    assert candidate.status == DuplicateCandidate.Status.MERGED
    assert candidate.decided_by == users["marketing"] and candidate.decided_at is not None
    assert Lead.objects.count() == 3  # nothing deleted


def test_unmerge_restores_touches_and_fields_exactly(pair, users):
    primary, duplicate, _own, moved, _earlier = pair
    before_primary, before_duplicate = snapshot(primary), snapshot(duplicate)
    before_touches = {t.pk: (t.lead_id, t.original_lead_id) for t in Touch.objects.all()}
    DuplicateCandidate.objects.create(
        lead_a_id=min(primary.pk, duplicate.pk),
        lead_b_id=max(primary.pk, duplicate.pk),
        similarity=0.95,
        reason="same name",
    )
    lead_merge(primary=primary, duplicate=duplicate, actor=users["admin"])

    lead_unmerge(duplicate=duplicate, actor=users["marketing"])

    assert snapshot(primary) == before_primary
    assert snapshot(duplicate) == before_duplicate
    after = {t.pk: (t.lead_id, t.original_lead_id) for t in Touch.objects.all()}
    assert after == before_touches
    for lead in (primary, duplicate):
        event = TimelineEvent.objects.get(lead=lead, kind=UNMERGE)
        assert sorted(event.data["touches"]) == sorted(t.pk for t in moved)
        assert event.data["fields"]["city"] == ["Leeds", ""]
        assert event.actor == users["marketing"]
    candidate = DuplicateCandidate.objects.get()
    assert candidate.status == DuplicateCandidate.Status.OPEN  # back in the queue
    assert candidate.decided_by is None


def test_unmerge_keeps_values_the_primary_changed_since(pair, users):
    primary, duplicate, *_ = pair
    lead_merge(primary=primary, duplicate=duplicate, actor=users["admin"])
    Lead.objects.filter(pk=primary.pk).update(title="VP Engineering")
    primary.refresh_from_db()

    lead_unmerge(duplicate=duplicate, actor=users["admin"])

    primary.refresh_from_db()
    assert primary.title == "VP Engineering"
    assert primary.city == ""
    event = TimelineEvent.objects.get(lead=primary, kind=UNMERGE)
    assert "title" in event.data["kept"]


def test_bad_merges_are_refused_with_a_clear_message(pair, users):
    primary, duplicate, *_ = pair
    with pytest.raises(ApplicationError, match="into itself"):
        lead_merge(primary=primary, duplicate=primary, actor=users["admin"])
    lead_merge(primary=primary, duplicate=duplicate, actor=users["admin"])
    other = LeadFactory()
    with pytest.raises(ConflictError, match="already merged"):
        lead_merge(primary=other, duplicate=duplicate, actor=users["admin"])
    with pytest.raises(ConflictError, match="already merged"):
        lead_merge(primary=duplicate, duplicate=other, actor=users["admin"])
    with pytest.raises(ConflictError, match="not merged"):
        lead_unmerge(duplicate=other, actor=users["admin"])
    # a chain is undone from its end first
    lead_merge(primary=other, duplicate=primary, actor=users["admin"])
    with pytest.raises(ConflictError, match="undo that merge first"):
        lead_unmerge(duplicate=duplicate, actor=users["admin"])


def test_a_rep_cannot_merge_marketing_can(pair, users):
    primary, duplicate, *_ = pair
    primary.owner = users["sales_rep"]
    primary.save()
    with pytest.raises(PermissionDeniedError):
        lead_merge(primary=primary, duplicate=duplicate, actor=users["sales_rep"])
    assert Lead.objects.get(pk=duplicate.pk).merged_into_id is None
    assert not TimelineEvent.objects.filter(kind=MERGE).exists()

    lead_merge(primary=primary, duplicate=duplicate, actor=users["marketing"])
    with pytest.raises(PermissionDeniedError):
        lead_unmerge(duplicate=duplicate, actor=users["sales_rep"])
    assert Lead.objects.get(pk=duplicate.pk).merged_into_id == primary.pk


def test_dismiss_once(users):
    a, b = LeadFactory(), LeadFactory()
    candidate = DuplicateCandidate.objects.create(
        lead_a=a, lead_b=b, similarity=0.9, reason="same phone"
    )
    with pytest.raises(PermissionDeniedError):
        duplicate_dismiss(candidate=candidate, actor=users["sales_rep"])
    duplicate_dismiss(candidate=candidate, actor=users["marketing"])
    candidate.refresh_from_db()
    assert candidate.status == DuplicateCandidate.Status.DISMISSED
    assert candidate.decided_by == users["marketing"]
    with pytest.raises(ConflictError, match="already dismissed by"):
        duplicate_dismiss(candidate=candidate, actor=users["admin"])
