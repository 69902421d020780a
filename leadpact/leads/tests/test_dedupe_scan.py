"""Finding likely duplicates: leads/matching.py and duplicates_scan in leads/services/dedupe.py."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pytest
from django.db.models import Q

from leadpact.factories import LeadFactory
from leadpact.leads.matching import COLUMNS, likely_duplicate_pairs
from leadpact.leads.models import DuplicateCandidate, DuplicateScanQueue, Lead
from leadpact.leads.services.dedupe import (
    duplicates_scan,
    duplicates_scan_enqueue,
    duplicates_scan_pending,
    duplicates_scan_queue,
    survivor_ids,
)
from leadpact.leads.tasks import duplicates_scan_task


def lead(first: str, last: str, company: str = "", **extra):
    return LeadFactory(first_name=first, last_name=last, company_name=company, **extra)


def pair_of(a, b) -> tuple[int, int]:
    return (min(a.pk, b.pk), max(a.pk, b.pk))


def open_pairs() -> dict[tuple[int, int], DuplicateCandidate]:
    return {(c.lead_a_id, c.lead_b_id): c for c in DuplicateCandidate.objects.all()}


@pytest.mark.django_db
def test_scan_finds_similar_name_at_same_company_and_says_why():
    jon = lead("Jon", "Smith", "ACME, Inc.")
    john = lead("John", "Smith", "Acme")
    lead("Mary", "Jones", "Acme")  # a colleague, not a duplicate
    lead("Jane", "Smith", "Acme Corp")  # same last name, same company, another person

    assert duplicates_scan() == 1

    pairs = open_pairs()
    assert list(pairs) == [pair_of(jon, john)]
    candidate = pairs[pair_of(jon, john)]
    assert candidate.status == DuplicateCandidate.Status.OPEN
    assert 0.9 < candidate.similarity <= 1
    assert "name 'Jon Smith' ≈ 'John Smith'" in candidate.reason
    assert "company 'ACME, Inc.' ≈ 'Acme'" in candidate.reason or (
        "company 'Acme' ≈ 'ACME, Inc.'" in candidate.reason
    )


@pytest.mark.django_db
def test_scan_does_not_pair_different_people_at_one_company():
    for first, last in [("Ann", "Lee"), ("Bob", "Stone"), ("Carla", "Diaz"), ("John", "Smith")]:
        lead(first, last, "Globex")
    lead("Jane", "Smith", "Globex Ltd")
    assert duplicates_scan() == 0


@pytest.mark.django_db
def test_scan_finds_same_phone_and_same_mailbox_at_another_domain():
    a = lead("Robert", "Stone", "Stone Ltd", phone="+14155550100")
    b = lead("", "", "", phone="+14155550100", email="r.stone@gmail.com")
    c = lead("Ann", "Lee", "", email="ann.lee@a-corp.com")
    d = lead("Ann", "Lee", "Initech", email="ann.lee@b-corp.com")
    lead("Pat", "Kim", "", email="info@a-corp.com")
    lead("Lou", "Fox", "", email="info@b-corp.com")  # a shared mailbox says nothing

    assert duplicates_scan() == 2

    pairs = open_pairs()
    assert pairs[pair_of(a, b)].reason == "same phone"
    assert pairs[pair_of(c, d)].reason == "same e-mail name at another domain"


@pytest.mark.django_db
def test_running_the_scan_twice_creates_nothing_new_and_respects_decisions():
    jon = lead("Jon", "Smith", "ACME Inc")
    john = lead("John", "Smith", "Acme")
    ann = lead("Ann", "Lee", "Initech")
    anne = lead("Anne", "Lee", "Initech")
    assert duplicates_scan() == 2
    DuplicateCandidate.objects.filter(lead_a=min(ann.pk, anne.pk)).update(
        status=DuplicateCandidate.Status.DISMISSED
    )

    assert duplicates_scan() == 0
    assert duplicates_scan(lead_ids=[jon.pk, john.pk, ann.pk]) == 0
    duplicates_scan_task.apply(args=([jon.pk],), throw=True)
    assert DuplicateCandidate.objects.count() == 2
    assert DuplicateCandidate.objects.filter(status="dismissed").count() == 1


@pytest.mark.django_db
def test_targeted_scan_pairs_only_the_given_leads_and_skips_merged_ones():
    jon = lead("Jon", "Smith", "ACME Inc")
    john = lead("John", "Smith", "Acme")
    ann = lead("Ann", "Lee", "Initech")
    anne = lead("Anne", "Lee", "Initech")
    gone = lead("Ann", "Lee", "Initech", merged_into=ann)

    assert duplicates_scan(lead_ids=[jon.pk]) == 1
    assert list(open_pairs()) == [pair_of(jon, john)]
    # an id of a merged-away lead is followed to its survivor; the merged one is never paired
    assert duplicates_scan(lead_ids=[gone.pk]) == 1
    assert pair_of(ann, anne) in open_pairs()
    assert all(gone.pk not in pair for pair in open_pairs())


@pytest.mark.django_db
def test_enqueue_runs_the_scan_after_commit(django_capture_on_commit_callbacks):
    jon = lead("Jon", "Smith", "ACME Inc")
    lead("John", "Smith", "Acme")
    with django_capture_on_commit_callbacks(execute=True):
        duplicates_scan_enqueue([jon.pk, jon.pk])
    assert DuplicateCandidate.objects.count() == 1


@pytest.mark.django_db
def test_survivor_ids_follow_chains_in_few_queries(django_assert_max_num_queries):
    c = lead("C", "C")
    b = lead("B", "B", merged_into=c)
    a = lead("A", "A", merged_into=b)
    alone = lead("D", "D")
    with django_assert_max_num_queries(3):
        result = survivor_ids([a.pk, b.pk, c.pk, alone.pk, 999_999])
    assert result == {a.pk: c.pk, b.pk: c.pk, c.pk: c.pk, alone.pk: alone.pk}


def test_matcher_blocks_large_groups_without_comparing_everything():
    # 300 leads share a switchboard number: too big a block to mean anything
    rows = [
        (i, f"First{i}", f"Last{i}", f"first{i} last{i}", "", "", "+14155550100", f"x{i}@a.com")
        for i in range(1, 301)
    ]
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    assert likely_duplicate_pairs(frame).empty


@pytest.mark.django_db
def test_targeted_scan_reaches_every_block_through_the_database():
    # company keys differ, last name and company initial shared: found through the last name
    kim = lead("Dana", "Kim", "Globex Industries")
    kim2 = lead("Dana", "KIM", "Globex Industry")
    # nothing in common but the mailbox name
    box = lead("Ali", "Veli", "", email="ali.veli@one.com")
    box2 = lead("", "", "", email="ali.veli@two.com")
    # the same phone, one record without a name
    tel = lead("Eve", "Ng", "", phone="+14155550111")
    tel2 = lead("", "", "Ng Ltd", phone="+14155550111")
    lead("Dana", "Kim", "Initech")  # same name, other company: not a duplicate

    assert duplicates_scan(lead_ids=[kim2.pk, box2.pk, tel.pk]) == 3

    assert set(open_pairs()) == {pair_of(kim, kim2), pair_of(box, box2), pair_of(tel, tel2)}


# --- stored block keys, the indexed targeted scan and the queue of pending scans -------------


def _varied_people(n: int, seed: int) -> list[Lead]:
    """Leads that meet in every kind of block: names with accents and odd case, companies with
    and without legal suffixes, shared phones, mailbox names at several domains."""
    rng = random.Random(seed)
    firsts = ["Jon", "John", "Jonathan", "Ana", "Anna", "Zoë", "Zoe", "Lee", ""]
    lasts = ["Smith", "SMITH", "Smyth", "Núñez", "Nunez", "García", "Garcia", "Ng", ""]
    companies = ["ACME, Inc.", "Acme", "Acme Corp", "Globex", "Globex Ltd", "Initech", "", "Ácme"]
    phones = ["", "", "", "+14155550100", "+14155550111", "+351912345678"]
    locals_ = ["j.smith", "ana.nunez", "info", "zoe", "x" + str(seed)]
    domains = ["a.com", "b.org", "c.net"]
    made = []
    for i in range(n):
        local = rng.choice(locals_)
        made.append(
            lead(
                rng.choice(firsts),
                rng.choice(lasts),
                rng.choice(companies),
                phone=rng.choice(phones),
                email=f"{local}+{i}@{rng.choice(domains)}" if rng.random() < 0.5 else f"p{i}@z.io",
            )
        )
    return made


def _full_scan_pairs(targets: set[int]) -> set[tuple[int, int]]:
    """What a scan of every live lead finds for ``targets``: the reference."""
    frame = pd.DataFrame.from_records(
        list(Lead.objects.filter(merged_into__isnull=True).values_list(*COLUMNS)),
        columns=list(COLUMNS),
    )
    pairs = likely_duplicate_pairs(frame)
    return {
        (int(a), int(b))
        for a, b in zip(pairs["lead_a"], pairs["lead_b"], strict=True)
        if a in targets or b in targets
    }


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_targeted_scan_finds_exactly_the_pairs_a_full_scan_finds_for_its_leads(seed):
    people = _varied_people(80, seed)
    targets = {p.pk for p in random.Random(seed).sample(people, 12)}
    expected = _full_scan_pairs(targets)
    assert expected, "the fixture should hold duplicates"

    created = duplicates_scan(lead_ids=sorted(targets))

    assert created == len(expected)
    assert set(open_pairs()) == expected


@pytest.mark.django_db
def test_accented_last_names_meet_in_one_block_through_the_stored_key():
    # lower() in the database kept "núñez" apart from "nunez"; the stored key is folded
    a = lead("Ana", "Núñez", "Initech Corp")
    b = lead("Ana", "NUNEZ", "Initech")
    assert (a.name_block, b.name_block) == ("nunez|i", "nunez|i")
    assert duplicates_scan(lead_ids=[b.pk]) == 1
    assert list(open_pairs()) == [pair_of(a, b)]


@pytest.mark.django_db
def test_the_targeted_scan_looks_leads_up_by_index(django_assert_max_num_queries):
    from django.db import connection

    from leadpact.leads.services.dedupe import _block_pool

    target = lead("Jon", "Smith", "Acme", phone="+14155550100", email="jon.smith@a.com")
    _varied_people(30, 4)
    live = Lead.objects.filter(merged_into__isnull=True)
    with django_assert_max_num_queries(2):
        pool = _block_pool(live, np.array([target.pk]))
    assert target.pk in set(pool["id"])
    if connection.vendor != "sqlite":
        return  # PostgreSQL's planner rightly seq-scans a table this small
    with connection.cursor() as cursor:
        sql, params = live.filter(
            Q(pk__in=[target.pk])
            | Q(company_key__in=["acme"])
            | Q(phone__in=["+14155550100"])
            | Q(name_block__in=["smith|a"])
            | Q(email_local__in=["jon.smith"])
        ).query.sql_with_params()
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        plan = " / ".join(str(row[-1]) for row in cursor.fetchall())
    assert "USING INDEX" in plan and "SCAN leads_lead" not in plan.replace("USING INDEX", ""), plan


@pytest.mark.django_db
def test_edits_keep_the_block_keys_and_queue_a_new_scan(users, django_capture_on_commit_callbacks):
    from leadpact.leads.services.profile import lead_update

    jon = lead("Jon", "Smith", "Acme", email="jon@a.com")
    other = lead("Ann", "Lee", "Initech", email="ann.lee@b.com")
    with django_capture_on_commit_callbacks(execute=True):
        lead_update(
            lead=other,
            actor=users["admin"],
            values={"first_name": "John", "last_name": "Smith", "company_name": "ACME Inc"},
        )
    other.refresh_from_db()
    assert (other.name_block, other.email_local) == ("smith|a", "ann.lee")
    assert not DuplicateScanQueue.objects.exists()  # queued, then scanned after commit
    assert list(open_pairs()) == [pair_of(jon, other)]


@pytest.mark.django_db
def test_queued_leads_are_scanned_in_batches_and_leave_the_queue():
    jon = lead("Jon", "Smith", "Acme")
    john = lead("John", "Smith", "ACME Inc")
    ann = lead("Ann", "Lee", "Initech")
    anne = lead("Anne", "Lee", "Initech")
    solos = [lead(f"Solo{i}", f"Person{i}", f"Firm {i}") for i in range(5)]
    duplicates_scan_queue([john.pk, ann.pk, anne.pk, *(s.pk for s in solos), 999_999])

    assert duplicates_scan_pending(batch=2) == 2

    assert set(open_pairs()) == {pair_of(jon, john), pair_of(ann, anne)}
    assert not DuplicateScanQueue.objects.exists()
    assert duplicates_scan_pending() == 0


@pytest.mark.django_db
def test_a_lead_queued_again_during_its_scan_stays_queued(monkeypatch):
    from leadpact.leads.services import dedupe

    edited = lead("Jon", "Smith", "Acme")
    calm = lead("Ann", "Lee", "Initech")
    duplicates_scan_queue([edited.pk, calm.pk])
    real_scan = dedupe.duplicates_scan
    calls = []

    def scan_while_someone_edits(*, lead_ids):
        if not calls:  # an edit commits while the first batch is being scanned
            duplicates_scan_queue([edited.pk])
        calls.append(lead_ids)
        return real_scan(lead_ids=lead_ids)

    monkeypatch.setattr(dedupe, "duplicates_scan", scan_while_someone_edits)
    duplicates_scan_pending(batch=10)
    assert calls == [sorted([edited.pk, calm.pk]), [edited.pk]]  # scanned again
    assert not DuplicateScanQueue.objects.exists()


@pytest.mark.django_db
def test_the_drain_locks_no_lead_so_routing_never_skips_one():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    jon = lead("Jon", "Smith", "Acme")
    duplicates_scan_queue([jon.pk])
    with CaptureQueriesContext(connection) as ctx:
        duplicates_scan_pending()
    writes = [q["sql"] for q in ctx.captured_queries if '"leads_lead"' in q["sql"]]
    assert not [
        sql for sql in writes if sql.startswith(("UPDATE", "DELETE")) or "FOR UPDATE" in sql
    ]


@pytest.mark.django_db
def test_the_migration_fills_the_block_keys_of_existing_leads():
    from importlib import import_module

    from django.apps import apps

    migration = import_module("leadpact.leads.migrations.0002_dedupe_block_keys")
    a = lead("Zoë", "Núñez", "Ácme Corp", email="zoe.nunez@a.com")
    b = lead("Pat", "", "Globex", email="info@b.com")
    Lead.objects.update(name_block="", email_local="")

    migration.fill_block_keys(apps, None)

    assert Lead.objects.get(pk=a.pk).name_block == "nunez|a"
    assert Lead.objects.get(pk=a.pk).email_local == "zoe.nunez"
    assert (Lead.objects.get(pk=b.pk).name_block, Lead.objects.get(pk=b.pk).email_local) == ("", "")


@pytest.mark.django_db
def test_only_one_process_drains_the_queue_at_a_time():
    from django.db import connection

    from leadpact.leads.services import dedupe

    if connection.vendor != "postgresql":
        pytest.skip("across processes the drain is claimed with a PostgreSQL advisory lock")
    import psycopg

    jon = lead("Jon", "Smith", "Acme")
    john = lead("John", "Smith", "ACME Inc")
    duplicates_scan_queue([john.pk])
    db = connection.settings_dict
    other = psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"],
        password=db.get("PASSWORD") or None,
        dbname=db["NAME"],
        autocommit=True,
    )
    try:  # another worker process is draining
        other.execute("SELECT pg_advisory_lock(%s)", [dedupe._DRAIN_LOCK_KEY])
        assert duplicates_scan_pending() == 0
        assert DuplicateScanQueue.objects.exists()  # left for that drain
        other.execute("SELECT pg_advisory_unlock(%s)", [dedupe._DRAIN_LOCK_KEY])
        assert duplicates_scan_pending() == 1
    finally:
        other.close()
    assert list(open_pairs()) == [pair_of(jon, john)]


@pytest.mark.django_db
def test_leads_queued_while_a_drain_runs_elsewhere_are_scanned_before_it_stops(monkeypatch):
    """Another process's job that found the drain taken returns at once and leaves its lead
    queued (its 'go round again' flag is its own): the running drain takes it after it lets go
    of the lock."""
    from leadpact.leads.services import dedupe

    jon = lead("Jon", "Smith", "Acme")
    john = lead("John", "Smith", "ACME Inc")
    duplicates_scan_queue([jon.pk])
    real_drain, calls = dedupe._drain, []

    def drain_while_another_process_queues(batch: int) -> int:
        calls.append(batch)
        created = real_drain(batch)
        if len(calls) == 1:
            duplicates_scan_queue([john.pk])  # committed by the other process meanwhile
        return created

    monkeypatch.setattr(dedupe, "_drain", drain_while_another_process_queues)
    duplicates_scan_pending()
    assert len(calls) == 2
    assert not DuplicateScanQueue.objects.exists()
    assert list(open_pairs()) == [pair_of(jon, john)]
