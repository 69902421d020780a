"""The routing set-up is cached per process under a stamp that database triggers move with
every change: routing never uses a set-up from before a committed change."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from leadpact.accounts.models import Role, Team, User
from leadpact.factories import LeadFactory, TeamFactory, UserFactory
from leadpact.leads.models import LeadState
from leadpact.routing.models import (
    BusinessCalendar,
    Offer,
    RepAvailability,
    RoutingRule,
    RoutingSetupStamp,
    SlaPolicy,
)
from leadpact.routing.services.clocks import DEFAULT_CALENDAR
from leadpact.routing.services.router import leads_route
from leadpact.routing.setup import routing_setup
from leadpact.routing.tasks import route_leads_task


def _token() -> str:
    return RoutingSetupStamp.objects.get().token


@pytest.fixture
def world(db):
    team = TeamFactory(name="Brazil", kind=Team.Kind.SALES)
    ana, bruno = (
        UserFactory(username=name.lower(), first_name=name, role=Role.SALES_REP, team=team)
        for name in ("Ana", "Bruno")
    )
    rule = RoutingRule.objects.create(name="Everyone", position=1, conditions=[], rep=ana)
    policy = SlaPolicy.objects.create(name="Answer", kind=SlaPolicy.Kind.OFFER_RESPONSE, amount=4)
    return {"team": team, "ana": ana, "bruno": bruno, "rule": rule, "policy": policy}


CHANGES = {
    "rule added": lambda w: RoutingRule.objects.create(name="x", conditions=[], team=w["team"]),
    "rule retargeted in bulk": lambda w: RoutingRule.objects.update(rep=w["bruno"]),
    "rule deleted": lambda w: RoutingRule.objects.all().delete(),
    "availability added": lambda w: RepAvailability.objects.create(rep=w["ana"], weight=2),
    "rep out of office": lambda w: RepAvailability.objects.update_or_create(
        rep=w["ana"], defaults={"out_of_office_until": timezone.now() + timedelta(days=1)}
    ),
    "salesperson added": lambda w: UserFactory(role=Role.SALES_REP, team=w["team"]),
    "rep deactivated": lambda w: User.objects.filter(pk=w["ana"].pk).update(is_active=False),
    "rep changes team": lambda w: User.objects.filter(pk=w["ana"].pk).update(team=None),
    "rep renamed": lambda w: User.objects.filter(pk=w["ana"].pk).update(first_name="Anna"),
    "team renamed": lambda w: Team.objects.filter(pk=w["team"].pk).update(name="Brasil"),
    "policy changed": lambda w: SlaPolicy.objects.update(amount=8),
    "calendar added": lambda w: BusinessCalendar.objects.create(name="BR", team=w["team"]),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_every_change_to_what_routing_reads_moves_the_stamp(world, change):
    before = _token()
    CHANGES[change](world)
    assert _token() != before


def test_a_login_does_not_move_the_stamp(world):
    before = _token()
    User.objects.filter(pk=world["ana"].pk).update(last_login=timezone.now())
    assert _token() == before


def test_a_current_stamp_reads_nothing_else(world):
    LeadFactory(state=LeadState.MQL)
    leads_route()  # reads the set-up and caches it
    LeadFactory(state=LeadState.MQL)
    with CaptureQueriesContext(connection) as queries:
        leads_route()
    read = " ".join(q["sql"] for q in queries.captured_queries)
    for table in ("routing_routingrule", "routing_slapolicy", "accounts_team"):
        assert f'FROM "{table}"' not in read
    assert 'FROM "routing_routingsetupstamp"' in read


def _committed_elsewhere(change) -> None:
    """Make ``change`` in another thread (its own connection) and commit it there."""
    failure: list[BaseException] = []

    def run() -> None:
        try:
            change()
        except BaseException as exc:  # re-raised in the test's thread
            failure.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]


@pytest.mark.django_db(transaction=True)
def test_routing_never_uses_the_set_up_from_before_a_committed_change(world):
    ana, bruno = world["ana"], world["bruno"]
    first = LeadFactory(state=LeadState.MQL)
    assert leads_route().offered == {first.pk: ana.pk}
    assert routing_setup().rules  # cached now

    # A bulk update behind every service's back, committed by another connection.
    _committed_elsewhere(lambda: RoutingRule.objects.update(rep=bruno))
    second = LeadFactory(state=LeadState.MQL)
    assert leads_route().offered == {second.pk: bruno.pk}

    _committed_elsewhere(lambda: User.objects.filter(pk=bruno.pk).update(is_active=False))
    third = LeadFactory(state=LeadState.MQL)
    assert third.pk in leads_route().fallback  # the rule names a rep who is gone

    _committed_elsewhere(lambda: SlaPolicy.objects.update(amount=8))
    fourth = LeadFactory(state=LeadState.MQL, state_changed_at=timezone.now())
    _committed_elsewhere(
        lambda: RoutingRule.objects.update(rep=ana)  # and back to Ana
    )
    assert leads_route(lead_ids=[fourth.pk]).offered == {fourth.pk: ana.pk}
    offer = Offer.objects.get(lead=fourth)
    assert offer.expires_at == DEFAULT_CALENDAR.add(offer.offered_at, timedelta(hours=8))


def test_one_route_job_claims_once(world):
    """The job's own leads and the MQLs already waiting are claimed in one pass."""
    waiting = LeadFactory(state=LeadState.MQL)
    new = LeadFactory(state=LeadState.MQL)
    with CaptureQueriesContext(connection) as queries:
        result = route_leads_task.apply(args=[[new.pk]], throw=True).get()
    claims = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith("SELECT") and '"leads_lead"' in q["sql"] and "'mql'" in q["sql"]
    ]
    assert len(claims) == 1
    assert result == {"offered": 2, "fallback": 0}
    assert set(Offer.objects.values_list("lead_id", flat=True)) == {waiting.pk, new.pk}
