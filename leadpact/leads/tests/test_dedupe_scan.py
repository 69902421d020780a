"""Finding likely duplicates: leads/matching.py and duplicates_scan in leads/services/dedupe.py."""

from __future__ import annotations

import pandas as pd
import pytest

from leadpact.factories import LeadFactory
from leadpact.leads.matching import COLUMNS, likely_duplicate_pairs
from leadpact.leads.models import DuplicateCandidate
from leadpact.leads.services.dedupe import (
    duplicates_scan,
    duplicates_scan_enqueue,
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
