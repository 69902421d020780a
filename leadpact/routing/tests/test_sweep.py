from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from leadpact.common.errors import ApplicationError, PermissionDeniedError
from leadpact.factories import LeadFactory
from leadpact.leads.models import LeadState
from leadpact.leads.services.lifecycle import lead_accept, lead_offer
from leadpact.notifications.models import Notification
from leadpact.routing.models import BusinessCalendar, Offer, RoutingChange, SlaClock, SlaPolicy
from leadpact.routing.services.policies import calendar_save, policy_create, policy_update
from leadpact.routing.services.router import leads_route
from leadpact.routing.services.rules import rule_create
from leadpact.routing.services.sweep import sla_sweep
from leadpact.routing.tasks import sla_sweep_task

pytestmark = pytest.mark.django_db


def kinds(user) -> list[str]:
    return sorted(Notification.objects.filter(user=user).values_list("kind", flat=True))


def test_warning_once_before_the_deadline(users, mql, policies, django_capture_on_commit_callbacks):
    lead_offer(lead=mql, rep=users["sales_rep"], actor=None)
    clock = SlaClock.objects.get(offer__lead=mql)
    Notification.objects.all().delete()
    assert sla_sweep(now=clock.warn_at - timedelta(seconds=1)).warned == 0
    with django_capture_on_commit_callbacks(execute=True):
        first = sla_sweep(now=clock.warn_at)
    second = sla_sweep(now=clock.warn_at + timedelta(minutes=1))
    assert (first.warned, second.warned) == (1, 0)
    assert kinds(users["sales_rep"]) == ["sla_warning"]
    assert len(mail.outbox) == 1 and "SLA due soon" in mail.outbox[0].subject
    clock.refresh_from_db()
    assert clock.warned_at is not None and clock.status == SlaClock.Status.RUNNING


def test_breach_notifies_rep_and_manager_once(users, mql, policies):
    lead_offer(lead=mql, rep=users["sales_rep"], actor=None)
    clock = SlaClock.objects.get(offer__lead=mql)
    Notification.objects.all().delete()
    result = sla_sweep(now=clock.deadline_at)
    assert (result.warned, result.breached, result.escalated) == (0, 1, 1)
    assert sla_sweep(now=clock.deadline_at + timedelta(hours=1)).breached == 0
    clock.refresh_from_db()
    assert clock.status == SlaClock.Status.BREACHED and clock.escalated_at is not None
    assert kinds(users["sales_rep"]) == ["sla_breach"]
    assert kinds(users["sales_manager"]) == ["sla_breach"]


def test_answered_offer_does_not_breach(users, mql, policies):
    lead_offer(lead=mql, rep=users["sales_rep"], actor=None)
    clock = SlaClock.objects.get(offer__lead=mql)
    lead_accept(lead=mql, actor=users["sales_rep"])
    assert sla_sweep(now=clock.deadline_at).breached == 0
    clock.refresh_from_db()
    assert clock.status == SlaClock.Status.MET


def test_breach_reoffers_to_the_next_rep(users, team_with_reps):
    team, manager, reps = team_with_reps
    policy_create(
        actor=users["admin"],
        name="Fast answer",
        kind=SlaPolicy.Kind.OFFER_RESPONSE,
        amount=2,
        escalation=SlaPolicy.Escalation.BOTH,
    )
    rule_create(actor=users["admin"], name="All", conditions=[], team=team)
    lead = LeadFactory(state=LeadState.MQL)
    leads_route()
    first = Offer.objects.get(lead=lead)
    assert first.rep == reps[0]
    result = sla_sweep(now=first.expires_at + timedelta(minutes=1))
    assert (result.breached, result.reoffered) == (1, 1)
    first.refresh_from_db()
    assert first.status == Offer.Status.EXPIRED
    second = Offer.objects.get(lead=lead, status=Offer.Status.PENDING)
    assert second.rep == reps[1]
    lead.refresh_from_db()
    assert (lead.state, lead.owner) == (LeadState.OFFERED, reps[1])
    summaries = list(lead.timeline.values_list("summary", flat=True))
    assert any("offer not answered in time" in s for s in summaries)
    assert "sla_breach" in kinds(manager)
    # The second rep's offer has a clock of its own; the sweep is still idempotent.
    assert SlaClock.objects.filter(offer=second, status="running").count() == 1
    assert sla_sweep(now=first.expires_at + timedelta(minutes=2)).breached == 0


def test_first_contact_deadline_counts_business_days(users, mql, policies):
    calendar_save(
        actor=users["admin"],
        name="East",
        time_zone="America/New_York",
        holiday_country="US",
        team=users["sales_rep"].team,
    )
    lead_offer(lead=mql, rep=users["sales_rep"], actor=None)
    lead_accept(lead=mql, actor=users["sales_rep"])
    clock = SlaClock.objects.get(lead=mql, policy__kind="first_contact")
    calendar = BusinessCalendar.objects.get(name="East").to_calendar()
    assert calendar.between(clock.started_at, clock.deadline_at) == timedelta(hours=16)


def test_mql_delivery_met_and_breached(users, team_with_reps):
    team, _, _ = team_with_reps
    policy_create(
        actor=users["admin"],
        name="Feed Brazil",
        kind="mql_delivery",
        amount=2,
        team=team,
        escalation="notify_manager",
    )
    policy_create(actor=users["admin"], name="Feed everyone", kind="mql_delivery", amount=1)
    rule_create(actor=users["admin"], name="All", conditions=[], team=team)
    now = timezone.now()
    sla_sweep(now=now)
    clocks = SlaClock.objects.filter(policy__kind="mql_delivery")
    assert clocks.count() == 2  # Brazil under its own policy, Sales East under the company one
    for _ in range(2):
        LeadFactory(state=LeadState.MQL)
    leads_route()
    assert sla_sweep(now=now).delivery_met == 1
    assert clocks.get(team=team).status == SlaClock.Status.MET
    east = clocks.get(team=users["sales_rep"].team)
    sla_sweep(now=east.deadline_at)
    east.refresh_from_db()
    assert east.status == SlaClock.Status.BREACHED
    assert "sla_breach" in kinds(users["marketing"])
    assert "sla_breach" in kinds(users["sales_manager"])


def test_policy_changes_are_audited(users):
    policy = policy_create(actor=users["admin"], name="Answer", kind="offer_response", amount=4)
    policy_update(policy=policy, actor=users["sales_manager"], amount=2, name="Answer")
    trail = RoutingChange.objects.filter(subject="policy", object_id=policy.pk)
    change = trail.first()  # the latest
    assert change.actor == users["sales_manager"]
    assert change.changes == {"amount": [4, 2]}
    with pytest.raises(PermissionDeniedError):
        policy_update(policy=policy, actor=users["marketing"], amount=1)
    with pytest.raises(ApplicationError, match="Amount"):
        policy_update(policy=policy, actor=users["admin"], amount=0)
    policy.refresh_from_db()
    assert policy.amount == 2 and trail.count() == 2
    assert trail.last().action == "created" and change.action == "updated"


def test_task_and_command_run_the_same_sweep(users, mql, policies, capsys):
    lead_offer(lead=mql, rep=users["sales_rep"], actor=None)
    SlaClock.objects.update(warn_at=timezone.now() - timedelta(minutes=1))
    assert sla_sweep_task.apply().get()["warned"] == 1
    SlaClock.objects.update(deadline_at=timezone.now() - timedelta(minutes=1))
    call_command("sla_sweep")
    assert '"breached": 1' in capsys.readouterr().out
