"""bulk_insert: the lean INSERT (and COPY on PostgreSQL) stores what bulk_create would."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from leadpact.common import bulk
from leadpact.common.bulk import bulk_insert
from leadpact.leads.models import Lead, TimelineEvent

pytestmark = pytest.mark.django_db


def _rows(n: int, *, start: int = 0) -> list[dict]:
    at = timezone.now().replace(microsecond=0) - timedelta(days=3)
    return [
        {
            "first_name": f"Zoë {i}",
            "last_name": "O'Brien\tTab\\Slash",  # characters COPY's text format must escape
            "email": f"p{i}@example.com",
            "email_key": f"p{i}@example.com",
            "captured_at": at + timedelta(minutes=i),
            "attributes": {"segment": "home", "n": i, "quote": 'say "hi"\n'},
            "score": i % 100,
            "external_id": None,
        }
        for i in range(start, start + n)
    ]


@pytest.mark.parametrize("n", [3, bulk.COPY_MIN_ROWS + 70])
def test_rows_are_stored_as_given_and_ids_come_back(n):
    rows = _rows(n)
    returned = bulk_insert(Lead, rows, returning=("id", "email_key"))

    assert len(returned) == n
    stored = {lead.email_key: lead for lead in Lead.objects.all()}
    assert {email: pk for pk, email in returned} == {k: v.pk for k, v in stored.items()}
    for row in rows:
        lead = stored[row["email_key"]]
        assert lead.first_name == row["first_name"] and lead.last_name == row["last_name"]
        assert lead.captured_at == row["captured_at"]
        assert lead.attributes == row["attributes"]
        assert lead.score == row["score"] and lead.external_id is None
        # defaults and stamps, as bulk_create would fill them
        assert lead.state == "new" and lead.version == 1 and lead.created_at is not None


def test_ids_drawn_ahead_do_not_clash_with_later_inserts():
    bulk_insert(Lead, _rows(bulk.COPY_MIN_ROWS), returning=("id",))
    later = Lead.objects.create(email_key="later@example.com", captured_at=timezone.now())
    assert Lead.objects.count() == bulk.COPY_MIN_ROWS + 1
    assert later.pk > max(Lead.objects.exclude(pk=later.pk).values_list("pk", flat=True))


def test_without_returning_rows_are_inserted_too():
    lead = Lead.objects.create(email_key="x@example.com", captured_at=timezone.now())
    at = timezone.now()
    events = [
        {"lead_id": lead.pk, "kind": "note", "summary": f"n{i}", "occurred_at": at, "data": {}}
        for i in range(bulk.COPY_MIN_ROWS * 2)
    ]
    assert bulk_insert(TimelineEvent, events) == []
    assert TimelineEvent.objects.filter(lead=lead).count() == len(events)


def test_a_conflicting_row_fails_the_whole_insert():
    bulk_insert(Lead, _rows(1, start=7))
    with pytest.raises(IntegrityError), transaction.atomic():
        bulk_insert(Lead, _rows(bulk.COPY_MIN_ROWS + 10), returning=("id",))
    assert Lead.objects.count() == 1


def test_an_insert_is_one_logged_query_at_any_size(django_assert_max_num_queries):
    from django.db import connection

    bulk_insert(Lead, _rows(3, start=1000), returning=("id",))  # first use plans the model
    for n in (3, bulk.COPY_MIN_ROWS * 3):
        rows = _rows(n, start=n * 10)
        # PostgreSQL: ids drawn from the sequence, then one COPY (logged like any query)
        expected = 2 if connection.vendor == "postgresql" else 1
        with django_assert_max_num_queries(expected) as ctx:
            bulk_insert(Lead, rows, returning=("id",))
        assert len(ctx.captured_queries) == expected
