import pytest
from django.db import IntegrityError, transaction

from leadpact.common.errors import ApplicationError, ConflictError
from leadpact.leads.models import LeadState, TimelineEvent
from leadpact.leads.services.lifecycle import lead_accept, lead_offer, lead_reject
from leadpact.routing.models import Offer, QualificationItem, RejectionReason, SlaClock
from leadpact.routing.services.qualification import lead_qualify_checked

pytestmark = pytest.mark.django_db


def test_offer_records_a_pending_offer_and_starts_the_response_clock(users, mql, policies):
    lead_offer(lead=mql, rep=users["sales_rep"], actor=users["sales_manager"])
    offer = Offer.objects.get(lead=mql)
    assert offer.status == Offer.Status.PENDING
    assert offer.team == users["sales_rep"].team
    clock = SlaClock.objects.get(offer=offer)
    assert clock.policy == policies["response"]
    assert clock.status == SlaClock.Status.RUNNING
    assert offer.expires_at == clock.deadline_at > offer.offered_at
    assert clock.warn_at < clock.deadline_at


def test_at_most_one_pending_offer_per_lead(users, mql):
    lead_offer(lead=mql, rep=users["sales_rep"], actor=None)
    first = Offer.objects.get(lead=mql)
    with pytest.raises(IntegrityError), transaction.atomic():
        Offer.objects.create(lead=mql, rep=users["other_rep"], offered_at=first.offered_at)
    # A re-offer withdraws the pending one instead.
    lead_offer(lead=mql, rep=users["other_rep"], actor=None)
    statuses = dict(Offer.objects.filter(lead=mql).values_list("rep__username", "status"))
    assert statuses == {"rep": "withdrawn", "rep2": "pending"}


def test_accept_answers_the_offer_and_starts_first_contact(users, mql, policies):
    lead_offer(lead=mql, rep=users["sales_rep"], actor=None)
    lead_accept(lead=mql, actor=users["sales_rep"])
    offer = Offer.objects.get(lead=mql)
    assert (offer.status, offer.decided_by) == (Offer.Status.ACCEPTED, users["sales_rep"])
    clocks = dict(SlaClock.objects.filter(lead=mql).values_list("policy__kind", "status"))
    assert clocks == {"offer_response": "met", "first_contact": "running"}


def test_accepting_someone_elses_or_twice_is_a_clear_conflict(users, mql):
    lead_offer(lead=mql, rep=users["sales_rep"], actor=None)
    with pytest.raises(ConflictError, match="offered to someone else"):
        lead_accept(lead=mql, actor=users["other_rep"])
    lead_accept(lead=mql, actor=users["sales_rep"])
    with pytest.raises(ConflictError, match=r"not waiting.*accepted by"):
        lead_accept(lead=mql, actor=users["sales_manager"])
    assert Offer.objects.get(lead=mql).decided_by == users["sales_rep"]


def test_reject_needs_a_reason_and_loses_nothing(users, mql, policies):
    lead_offer(lead=mql, rep=users["sales_rep"], actor=None)
    with pytest.raises(ApplicationError, match="why"):
        lead_reject(lead=mql, actor=users["sales_rep"], reason="  ")
    mql.refresh_from_db()
    assert mql.state == LeadState.OFFERED
    assert Offer.objects.get(lead=mql).status == Offer.Status.PENDING


def test_reject_with_a_configured_reason_recycles_with_the_reason_on_the_timeline(users, mql):
    reason = RejectionReason.objects.create(code="no-budget", label="No budget")
    lead_offer(lead=mql, rep=users["sales_rep"], actor=None)
    lead_reject(lead=mql, actor=users["sales_rep"], reason="no-budget", note="Student project")
    mql.refresh_from_db()
    assert (mql.state, mql.owner) == (LeadState.RECYCLED, None)
    offer = Offer.objects.get(lead=mql)
    assert (offer.status, offer.reason, offer.reason_text) == (
        Offer.Status.REJECTED,
        reason,
        "Student project",
    )
    event = mql.timeline.filter(kind=TimelineEvent.Kind.STATE_CHANGE).first()
    assert "No budget" in event.summary
    assert event.data["reason_code"] == "no-budget"
    assert event.body == "Student project"


def test_free_text_reason_is_kept(users, mql):
    lead_offer(lead=mql, rep=users["sales_rep"], actor=None)
    lead_reject(lead=mql, actor=users["sales_rep"], reason="Competitor's employee")
    offer = Offer.objects.get(lead=mql)
    assert offer.reason is None
    assert offer.reason_text == "Competitor's employee"


def test_rejecting_after_acceptance_is_refused(users, mql):
    lead_offer(lead=mql, rep=users["sales_rep"], actor=None)
    lead_accept(lead=mql, actor=users["sales_rep"])
    with pytest.raises(ConflictError, match="not waiting"):
        lead_reject(lead=mql, actor=users["sales_rep"], reason="changed my mind")


def test_qualification_needs_the_whole_checklist(users, mql, policies):
    budget = QualificationItem.objects.create(label="Budget confirmed", position=1)
    need = QualificationItem.objects.create(label="Need confirmed", position=2)
    lead_offer(lead=mql, rep=users["sales_rep"], actor=None)
    lead_accept(lead=mql, actor=users["sales_rep"])
    with pytest.raises(ApplicationError, match="Need confirmed") as error:
        lead_qualify_checked(lead=mql, actor=users["sales_rep"], checked=[budget.pk])
    assert error.value.extra["missing"] == [need.pk]
    with pytest.raises(ApplicationError, match="not on the checklist"):
        lead_qualify_checked(lead=mql, actor=users["sales_rep"], checked=[budget.pk, 999])
    lead_qualify_checked(lead=mql, actor=users["sales_rep"], checked=[budget.pk, need.pk])
    mql.refresh_from_db()
    assert mql.state == LeadState.SQL
    event = mql.timeline.filter(kind=TimelineEvent.Kind.STATE_CHANGE).first()
    assert "✓ Budget confirmed" in event.body
    contact = SlaClock.objects.get(lead=mql, policy__kind="first_contact")
    assert contact.status == SlaClock.Status.MET


def test_qualifying_a_lead_that_is_not_accepted_is_refused(users, mql):
    lead_offer(lead=mql, rep=users["sales_rep"], actor=None)
    with pytest.raises(ConflictError):
        lead_qualify_checked(lead=mql, actor=users["sales_rep"], checked=[])
