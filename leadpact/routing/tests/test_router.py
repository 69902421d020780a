from datetime import timedelta

import pytest
from django.db.models import Count
from django.utils import timezone

from leadpact.accounts.models import Role
from leadpact.accounts.services import user_deactivate
from leadpact.common.errors import ApplicationError, PermissionDeniedError
from leadpact.factories import LeadFactory, UserFactory
from leadpact.leads.models import Lead, LeadState, TimelineEvent
from leadpact.leads.services.lifecycle import lead_accept, lead_offer
from leadpact.routing.models import FallbackItem, Offer, RepAvailability, SlaClock
from leadpact.routing.services.router import (
    lead_reassign,
    leads_assign_bulk,
    leads_route,
    rep_offers_reroute,
)
from leadpact.routing.services.rules import availability_set, rule_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def brazil_rule(users, team_with_reps):
    team, _, _ = team_with_reps
    return rule_create(
        actor=users["admin"],
        name="Brazil",
        conditions=[{"field": "country", "op": "eq", "value": "Brazil"}],
        team=team,
    )


def test_matching_lead_is_offered_and_the_decision_explained(users, team_with_reps, brazil_rule):
    _, _, reps = team_with_reps
    lead = LeadFactory(state=LeadState.MQL, country="Brazil")
    result = leads_route()
    assert result.offered == {lead.pk: reps[0].pk}
    lead.refresh_from_db()
    assert (lead.state, lead.owner) == (LeadState.OFFERED, reps[0])
    offer = Offer.objects.get(lead=lead)
    assert (offer.rule, offer.rep, offer.status) == (brazil_rule, reps[0], "pending")
    event = lead.timeline.get(kind=TimelineEvent.Kind.STATE_CHANGE)
    assert "rule “Brazil” fired (country is Brazil)" in event.summary
    assert "Ana had the lowest load in team Brazil" in event.data["reason"]
    assert event.data["rule"] == "Brazil"


def test_no_rule_goes_to_fallback_once_with_the_reason(users, brazil_rule):
    lead = LeadFactory(state=LeadState.MQL, country="Chile")
    assert leads_route().fallback == {lead.pk: "no routing rule matched"}
    leads_route()  # a second run does not queue or note it twice
    item = FallbackItem.objects.get(lead=lead)
    assert item.resolved_at is None
    notes = lead.timeline.filter(kind=TimelineEvent.Kind.ROUTING)
    assert [n.summary for n in notes] == ["Routing: no routing rule matched → fallback queue"]
    lead.refresh_from_db()
    assert lead.state == LeadState.MQL


def test_team_without_available_rep_falls_back_with_reason(users, team_with_reps, brazil_rule):
    _, _, reps = team_with_reps
    until = timezone.now() + timedelta(days=3)
    for rep in reps:
        RepAvailability.objects.create(rep=rep, out_of_office_until=until)
    lead = LeadFactory(state=LeadState.MQL, country="Brazil")
    reason = leads_route().fallback[lead.pk]
    assert "team Brazil has no available rep" in reason
    assert "Ana: out of office until" in reason


def test_caps_and_weights_over_ten_thousand_leads(users, team_with_reps, brazil_rule):
    _, _, reps = team_with_reps
    RepAvailability.objects.create(rep=reps[0], weight=3, max_open_leads=5000)
    RepAvailability.objects.create(rep=reps[1], weight=1, max_open_leads=2000)
    RepAvailability.objects.create(rep=reps[2], weight=1, max_open_leads=1000)
    now = timezone.now()
    Lead.objects.bulk_create(
        [
            Lead(
                email=f"bulk{i}@example.com",
                email_key=f"bulk{i}@example.com",
                country="Brazil",
                state=LeadState.MQL,
                score=i % 100,
                captured_at=now,
            )
            for i in range(10_000)
        ],
        batch_size=2000,
    )
    result = leads_route()
    assert len(result.offered) == 8000 and len(result.fallback) == 2000
    per_rep = dict(
        Offer.objects.values("rep_id").annotate(n=Count("id")).values_list("rep_id", "n")
    )
    assert per_rep == {reps[0].pk: 5000, reps[1].pk: 2000, reps[2].pk: 1000}
    assert Lead.objects.filter(state=LeadState.OFFERED).count() == 8000
    assert Offer.objects.values("lead_id").distinct().count() == 8000
    # The best leads were handed out first: every fallback lead scores at most the lowest offered.
    offered_min = Lead.objects.filter(state=LeadState.OFFERED).order_by("score").first().score
    fallback_max = Lead.objects.filter(state=LeadState.MQL).order_by("-score").first().score
    assert fallback_max <= offered_min
    # A second run offers nothing twice.
    again = leads_route()
    assert again.offered == {} and Offer.objects.count() == 8000


def test_named_rep_rule(users, team_with_reps):
    rule_create(
        actor=users["sales_manager"],
        name="VIP",
        conditions=[{"field": "score", "op": "gte", "value": 90}],
        rep=users["sales_rep"],
    )
    lead = LeadFactory(state=LeadState.MQL, score=95)
    assert leads_route().offered == {lead.pk: users["sales_rep"].pk}


def test_rule_validation_and_roles(users, team_with_reps):
    team, _, _ = team_with_reps
    with pytest.raises(PermissionDeniedError):
        rule_create(actor=users["sales_rep"], name="x", conditions=[], team=team)
    with pytest.raises(PermissionDeniedError):
        rule_create(actor=users["marketing"], name="x", conditions=[], team=team)
    with pytest.raises(ApplicationError, match="exactly one"):
        rule_create(
            actor=users["admin"], name="x", conditions=[], team=team, rep=users["sales_rep"]
        )
    with pytest.raises(ApplicationError, match="unknown operator"):
        rule_create(
            actor=users["admin"],
            name="x",
            conditions=[{"field": "country", "op": "~", "value": "x"}],
            team=team,
        )


def test_deactivated_rep_pending_offers_are_rerouted(users, team_with_reps, brazil_rule):
    _, _, reps = team_with_reps
    leads = [LeadFactory(state=LeadState.MQL, country="Brazil") for _ in range(3)]
    leads_route()
    ana_leads = list(Offer.objects.filter(rep=reps[0]).values_list("lead_id", flat=True))
    assert ana_leads
    # Deactivating the rep re-routes their pending offers in the same step.
    user_deactivate(user=reps[0], actor=users["admin"])
    rerouted = Offer.objects.filter(lead_id__in=ana_leads, status="pending")
    assert set(rerouted.values_list("lead_id", flat=True)) == set(ana_leads)
    assert reps[0].pk not in set(rerouted.values_list("rep_id", flat=True))
    assert not rep_offers_reroute(rep=reps[0], actor=users["admin"]).offered  # nothing left
    assert not Offer.objects.filter(rep=reps[0], status="pending").exists()
    assert Offer.objects.filter(status="pending").count() == len(leads)
    cancelled = SlaClock.objects.filter(offer__rep=reps[0], status="cancelled").count()
    assert cancelled == SlaClock.objects.filter(offer__rep=reps[0]).count()


def test_manager_reassigns_by_hand(users, team_with_reps, brazil_rule):
    _, manager, reps = team_with_reps
    lead = LeadFactory(state=LeadState.MQL, country="Brazil")
    leads_route()
    lead_reassign(lead=lead, rep=reps[2], actor=manager, reason="speaks the client's dialect")
    lead.refresh_from_db()
    assert lead.owner == reps[2]
    offers = dict(Offer.objects.filter(lead=lead).values_list("rep_id", "status"))
    assert offers == {reps[0].pk: "withdrawn", reps[2].pk: "pending"}
    lead_accept(lead=lead, actor=reps[2])
    lead_reassign(lead=lead, rep=reps[1], actor=manager)
    lead.refresh_from_db()
    assert (lead.state, lead.owner) == (LeadState.ACCEPTED, reps[1])
    with pytest.raises(PermissionDeniedError, match="not in a team you manage"):
        lead_reassign(lead=lead, rep=users["sales_rep"], actor=manager)
    with pytest.raises(PermissionDeniedError):
        lead_reassign(lead=lead, rep=reps[0], actor=reps[1])


def test_bulk_assign_from_fallback(users, team_with_reps):
    _, manager, reps = team_with_reps
    leads = [LeadFactory(state=LeadState.MQL, country="Chile") for _ in range(3)]
    leads_route()
    assert FallbackItem.objects.filter(resolved_at__isnull=True).count() == 3
    leads_assign_bulk(lead_ids=[lead.pk for lead in leads], rep=reps[1], actor=manager)
    assert not FallbackItem.objects.filter(resolved_at__isnull=True).exists()
    assert Offer.objects.filter(rep=reps[1], status="pending").count() == 3
    with pytest.raises(ApplicationError, match="no longer waiting"):
        leads_assign_bulk(lead_ids=[leads[0].pk], rep=reps[1], actor=manager)


def test_availability_permissions(users, team_with_reps):
    _, manager, reps = team_with_reps
    availability_set(rep=reps[0], actor=manager, weight=3, max_open_leads=10)
    # A rep may set their own out-of-office but not their weight.
    availability_set(rep=reps[0], actor=reps[0], weight=50, out_of_office_until=timezone.now())
    a = RepAvailability.objects.get(rep=reps[0])
    assert (a.weight, a.max_open_leads) == (3, 10)
    assert a.out_of_office_until is not None
    with pytest.raises(PermissionDeniedError):
        availability_set(rep=reps[0], actor=reps[1], weight=1)
    with pytest.raises(PermissionDeniedError):
        availability_set(rep=reps[0], actor=users["sales_manager"], weight=1)
    with pytest.raises(ApplicationError, match="1 to 100"):
        availability_set(rep=reps[1], actor=manager, weight=0)
    other = UserFactory(username="x", role=Role.SALES_REP, team=reps[0].team)
    availability_set(rep=other, actor=users["admin"], weight=2)


def test_deactivated_rep_worked_leads_are_handed_over(users, team_with_reps, brazil_rule):
    """Leads a rep was working (accepted, SQL) go to the next rep of the team, clocks too."""
    from leadpact.routing.models import SlaPolicy

    SlaPolicy.objects.create(name="Contact", kind=SlaPolicy.Kind.FIRST_CONTACT, amount=2)
    _, manager, reps = team_with_reps
    ana = reps[0]
    leads = [LeadFactory(state=LeadState.MQL, country="Brazil") for _ in range(3)]
    for lead in leads:
        lead_offer(lead=lead, rep=ana, actor=manager)
        lead_accept(lead=lead, actor=ana)
    result = rep_offers_reroute(rep=ana, actor=users["admin"])  # as user_deactivate calls it
    assert set(result.handed_over) == {lead.pk for lead in leads}
    assert set(result.handed_over.values()) <= {reps[1].pk, reps[2].pk}
    for lead in leads:
        lead.refresh_from_db()
        assert lead.owner_id == result.handed_over[lead.pk]
        assert lead.state == LeadState.ACCEPTED
        clock = SlaClock.objects.get(lead=lead, policy__kind="first_contact")
        assert clock.rep_id == lead.owner_id
        note = lead.timeline.filter(kind=TimelineEvent.Kind.ROUTING).latest("id")
        assert "no longer active: handed over to" in note.summary


def test_deactivated_rep_with_nobody_left_hands_over_to_the_manager(users, team_with_reps):
    _, manager, reps = team_with_reps
    until = timezone.now() + timedelta(days=3)
    for rep in reps[1:]:
        RepAvailability.objects.create(rep=rep, out_of_office_until=until)
    lead = LeadFactory(state=LeadState.MQL, country="Brazil")
    lead_offer(lead=lead, rep=reps[0], actor=manager)
    lead_accept(lead=lead, actor=reps[0])
    user_deactivate(user=reps[0], actor=users["admin"])
    lead.refresh_from_db()
    assert lead.owner == manager
    note = lead.timeline.filter(kind=TimelineEvent.Kind.ROUTING).latest("id")
    assert "their manager takes it over" in note.summary


def test_one_route_job_routes_the_whole_backlog_and_later_jobs_find_nothing(
    users, team_with_reps, brazil_rule
):
    from leadpact.routing.tasks import route_leads_task

    waiting = LeadFactory(state=LeadState.MQL, country="Chile")
    leads_route()  # Chile: fallback queue, left to the managers
    leads = [LeadFactory(state=LeadState.MQL, country="Brazil") for _ in range(4)]
    assert route_leads_task([leads[0].pk]) == {"offered": 4, "fallback": 0}
    assert Offer.objects.filter(lead__in=leads).count() == 4
    assert route_leads_task([leads[1].pk]) == {"offered": 0, "fallback": 0}
    assert not Offer.objects.filter(lead=waiting).exists()
    assert FallbackItem.objects.filter(lead=waiting, resolved_at__isnull=True).count() == 1
