"""The duplicates page: leads/views/duplicates.py."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils.html import escape

from leadpact.factories import LeadFactory, TouchFactory
from leadpact.leads.models import DuplicateCandidate, Lead

LIST = reverse("duplicates:list")
HTMX = {"HTTP_HX_REQUEST": "true"}


def make_pair(similarity: float = 0.95, **lead_b) -> DuplicateCandidate:
    a = LeadFactory(first_name="Jon", last_name="Smith", company_name="ACME, Inc.")
    b = LeadFactory(first_name="John", last_name="Smith", company_name="Acme", **lead_b)
    return DuplicateCandidate.objects.create(
        lead_a=a, lead_b=b, similarity=similarity, reason="same name; company 'ACME' ≈ 'Acme'"
    )


def merge_url(candidate: DuplicateCandidate) -> str:
    return reverse("duplicates:merge", args=[candidate.pk])


@pytest.mark.parametrize("role", ["admin", "marketing", "sales_manager"])
def test_reviewers_see_open_pairs_side_by_side(client_for, role):
    candidate = make_pair()
    response = client_for(role).get(LIST)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Jon Smith" in html and "John Smith" in html
    assert escape(candidate.reason) in html and "95% alike" in html
    assert "Merge into this one" in html  # unowned leads: every reviewer may merge


def test_a_manager_merges_only_leads_of_their_team(client_for, users):
    make_pair(owner=users["sales_rep"])
    html = client_for("sales_manager").get(LIST).content.decode()
    assert "Merge into this one" in html
    DuplicateCandidate.objects.all().delete()
    foreign = make_pair(owner=users["other_rep"])
    html = client_for("sales_manager").get(LIST).content.decode()
    assert "Merge into this one" not in html
    response = client_for("sales_manager").post(merge_url(foreign), {"primary": foreign.lead_a_id})
    assert response.status_code == 403
    assert not Lead.objects.filter(merged_into__isnull=False).exists()


def test_a_rep_may_not_see_or_act(client_for):
    candidate = make_pair()
    rep = client_for("sales_rep")
    assert rep.get(LIST).status_code == 403
    response = rep.post(merge_url(candidate), {"primary": candidate.lead_b_id}, **HTMX)
    assert response.status_code == 403
    assert rep.post(reverse("duplicates:dismiss", args=[candidate.pk])).status_code == 403
    assert rep.post(reverse("duplicates:scan")).status_code == 403
    candidate.refresh_from_db()
    assert candidate.status == DuplicateCandidate.Status.OPEN
    assert not Lead.objects.filter(merged_into__isnull=False).exists()


def test_the_page_runs_a_fixed_number_of_queries(client_for, users, django_assert_num_queries):
    client = client_for("sales_manager")
    make_pair(owner=users["sales_rep"])
    queries = 5  # session, user, managed teams, open pairs, recent merges
    with django_assert_num_queries(queries):
        client.get(LIST)
    for _ in range(8):
        make_pair(owner=users["other_rep"])
    merged = make_pair()
    client_for("admin").post(merge_url(merged), {"primary": merged.lead_b_id})
    with django_assert_num_queries(queries):
        response = client.get(LIST)
    assert response.content.decode().count('class="card duplicate-pair"') == 9


def test_merge_with_htmx_swaps_the_pair(client_for):
    candidate = make_pair()
    touch = TouchFactory(lead=candidate.lead_a)
    response = client_for("marketing").post(
        merge_url(candidate), {"primary": candidate.lead_b_id}, **HTMX
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="pair-{candidate.pk}"' in html and "Merged Jon Smith" in html
    assert "<html" not in html
    touch.refresh_from_db()
    assert touch.lead_id == candidate.lead_b_id
    assert Lead.objects.get(pk=candidate.lead_a_id).merged_into_id == candidate.lead_b_id
    page = client_for("marketing").get(LIST).content.decode()
    assert "Undo merge" in page and "No open pairs" in page


def test_undo_merge_from_the_page(client_for):
    candidate = make_pair()
    client = client_for("marketing")
    client.post(merge_url(candidate), {"primary": candidate.lead_a_id})
    response = client.post(reverse("duplicates:unmerge", args=[candidate.pk]), **HTMX)
    assert response.status_code == 200
    assert "Merge undone" in response.content.decode()
    assert Lead.objects.get(pk=candidate.lead_b_id).merged_into_id is None
    candidate.refresh_from_db()
    assert candidate.status == DuplicateCandidate.Status.OPEN
    again = client.post(reverse("duplicates:unmerge", args=[candidate.pk]), **HTMX)
    assert again.status_code == 200 and "already undone" in again.content.decode()


def test_dismiss_with_htmx(client_for, users):
    candidate = make_pair()
    response = client_for("admin").post(reverse("duplicates:dismiss", args=[candidate.pk]), **HTMX)
    assert response.status_code == 200 and "not a duplicate" in response.content.decode()
    candidate.refresh_from_db()
    assert candidate.status == DuplicateCandidate.Status.DISMISSED
    assert candidate.decided_by == users["admin"]


@pytest.mark.parametrize("htmx", [True, False])
def test_bad_input_gets_a_clear_message_never_a_500(client_for, htmx):
    client = client_for("marketing")
    headers = HTMX if htmx else {}
    decided = make_pair()
    client.post(reverse("duplicates:dismiss", args=[decided.pk]))
    stale = make_pair()
    Lead.objects.filter(pk=stale.lead_a_id).update(merged_into=LeadFactory())
    fresh = make_pair()

    cases = [
        (merge_url(decided), {"primary": decided.lead_a_id}, "already dismissed by"),
        (merge_url(stale), {"primary": stale.lead_b_id}, "already merged into lead"),
        (merge_url(fresh), {"primary": "abc"}, "Choose which of the two leads to keep"),
        (merge_url(fresh), {"primary": LeadFactory().pk}, "Choose which of the two leads"),
        (merge_url(fresh), {}, "Choose which of the two leads to keep"),
        (reverse("duplicates:dismiss", args=[decided.pk]), {}, "already dismissed"),
    ]
    for url, data, message in cases:
        response = client.post(url, data, follow=not htmx, **headers)
        assert response.status_code == 200, url
        assert message in response.content.decode(), (url, data)
    assert client.post(reverse("duplicates:merge", args=[999_999]), **headers).status_code == 404
    assert client.get(merge_url(fresh)).status_code == 405
    assert Lead.objects.filter(merged_into__isnull=False).count() == 1  # only the stale setup
    fresh.refresh_from_db()
    assert fresh.status == DuplicateCandidate.Status.OPEN


def test_scan_button_finds_pairs(client_for, django_capture_on_commit_callbacks):
    LeadFactory(first_name="Jon", last_name="Smith", company_name="ACME Inc")
    LeadFactory(first_name="John", last_name="Smith", company_name="Acme")
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for("marketing").post(reverse("duplicates:scan"), follow=True)
    assert "Scan started" in response.content.decode()
    assert DuplicateCandidate.objects.filter(status="open").count() == 1
    assert client_for("sales_manager").post(reverse("duplicates:scan")).status_code == 403
