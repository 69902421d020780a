"""Two people answering the same offer at the same instant: exactly one wins.

Needs PostgreSQL: SQLite serialises every write transaction, so there is no race to prove.
Each thread has its own database connection (Django opens one per thread).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections

from leadpact.common.errors import ConflictError
from leadpact.factories import LeadFactory
from leadpact.leads.models import LeadState, TimelineEvent
from leadpact.leads.services.lifecycle import lead_accept, lead_offer, lead_reject
from leadpact.routing.models import Offer

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: SQLite serialises write transactions, no race to test",
    ),
]


def run_at_once(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run ``calls`` in threads released together; each result is a value or the exception."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def worker(index: int) -> None:
        try:
            barrier.wait()
            results[index] = calls[index]()
        except Exception as exc:  # the loser's error is the result we check
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def test_simultaneous_accepts_exactly_one_wins(users):
    lead = LeadFactory(state=LeadState.MQL)
    lead_offer(lead=lead, rep=users["sales_rep"], actor=None)
    deciders = [users["sales_rep"], users["sales_manager"], users["sales_rep"], users["admin"]]
    results = run_at_once([lambda u=u: lead_accept(lead=lead, actor=u) for u in deciders])
    wins = [r for r in results if not isinstance(r, Exception)]
    losses = [r for r in results if isinstance(r, Exception)]
    assert len(wins) == 1
    assert all(isinstance(r, ConflictError) for r in losses), losses
    assert all("not waiting for an answer (offer accepted by" in r.message for r in losses)
    offer = Offer.objects.get(lead=lead)
    assert offer.status == Offer.Status.ACCEPTED
    accepted_events = TimelineEvent.objects.filter(
        lead=lead, kind=TimelineEvent.Kind.STATE_CHANGE, data__to=LeadState.ACCEPTED
    )
    assert accepted_events.count() == 1


def test_simultaneous_accept_and_reject_exactly_one_wins(users):
    lead = LeadFactory(state=LeadState.MQL)
    lead_offer(lead=lead, rep=users["sales_rep"], actor=None)
    results = run_at_once(
        [
            lambda: lead_accept(lead=lead, actor=users["sales_rep"]),
            lambda: lead_reject(lead=lead, actor=users["sales_manager"], reason="Too small"),
        ]
    )
    assert sum(not isinstance(r, Exception) for r in results) == 1
    lead.refresh_from_db()
    offer = Offer.objects.get(lead=lead)
    expected = {
        Offer.Status.ACCEPTED: LeadState.ACCEPTED,
        Offer.Status.REJECTED: LeadState.RECYCLED,
    }
    assert expected[offer.status] == lead.state


def test_two_sweepers_at_once_act_once(users):
    from datetime import timedelta

    from leadpact.notifications.models import Notification
    from leadpact.routing.models import SlaClock, SlaPolicy
    from leadpact.routing.services.sweep import sla_sweep

    SlaPolicy.objects.create(name="Answer", kind="offer_response", amount=4)
    leads = [LeadFactory(state=LeadState.MQL) for _ in range(30)]
    for lead in leads:
        lead_offer(lead=lead, rep=users["sales_rep"], actor=None)
    Notification.objects.all().delete()
    warn_at = SlaClock.objects.order_by("-warn_at").first().warn_at
    results = run_at_once([lambda: sla_sweep(now=warn_at, batch=7) for _ in range(3)])
    assert sum(r.warned for r in results) == 30, results
    assert Notification.objects.filter(kind="sla_warning").count() == 30
    deadline = SlaClock.objects.order_by("-deadline_at").first().deadline_at + timedelta(seconds=1)
    results = run_at_once([lambda: sla_sweep(now=deadline, batch=7) for _ in range(3)])
    assert sum(r.breached for r in results) == 30, results
    assert Notification.objects.filter(kind="sla_breach").count() == 60  # rep and manager


def test_parallel_http_accepts_exactly_one_wins(users):
    from django.test import Client
    from django.urls import reverse

    lead = LeadFactory(state=LeadState.MQL)
    lead_offer(lead=lead, rep=users["sales_rep"], actor=None)
    url = reverse("api:routing-accept", args=[lead.pk])

    def post_as(user):
        def call():
            client = Client()
            client.force_login(user)
            return client.post(url)

        return call

    people = [users["sales_rep"], users["sales_manager"], users["sales_rep"]]
    responses = run_at_once([post_as(u) for u in people])
    codes = sorted(r.status_code for r in responses)
    assert codes == [200, 409, 409], codes
    losers = [r.json()["error"] for r in responses if r.status_code == 409]
    assert all(e["code"] == "already_answered" for e in losers)
    assert all("accepted by" in e["message"] for e in losers)
