import pytest

from leadpact.common.errors import ApplicationError, ConflictError, PermissionDeniedError
from leadpact.factories import LeadFactory
from leadpact.leads.models import LeadState, TimelineEvent
from leadpact.leads.services.lifecycle import (
    lead_accept,
    lead_mark_mql,
    lead_offer,
    lead_qualify,
    lead_reject,
)

pytestmark = pytest.mark.django_db


def test_full_handoff_is_recorded_on_the_timeline(users):
    lead = LeadFactory()
    lead_mark_mql(lead=lead, actor=users["marketing"])
    lead_offer(lead=lead, rep=users["sales_rep"], actor=users["sales_manager"])
    lead_accept(lead=lead, actor=users["sales_rep"])
    lead.refresh_from_db()
    assert lead.state == LeadState.ACCEPTED
    assert lead.owner == users["sales_rep"]
    kinds = list(lead.timeline.order_by("id").values_list("kind", flat=True))
    assert kinds == [
        TimelineEvent.Kind.STATE_CHANGE,
        TimelineEvent.Kind.STATE_CHANGE,
        TimelineEvent.Kind.OWNER_CHANGE,
        TimelineEvent.Kind.STATE_CHANGE,
    ]


def test_reject_needs_a_reason_and_returns_the_lead_to_marketing(users):
    lead = LeadFactory(state=LeadState.MQL)
    lead_offer(lead=lead, rep=users["sales_rep"], actor=None)
    with pytest.raises(ApplicationError, match="why"):
        lead_reject(lead=lead, actor=users["sales_rep"], reason=" ")
    lead_reject(lead=lead, actor=users["sales_rep"], reason="Student, no budget")
    lead.refresh_from_db()
    assert lead.state == LeadState.RECYCLED
    assert lead.owner is None
    event = lead.timeline.filter(kind=TimelineEvent.Kind.STATE_CHANGE).first()
    assert event.data["reason"] == "Student, no budget"


def test_accepting_a_lead_offered_to_someone_else_is_refused(users):
    lead = LeadFactory(state=LeadState.MQL)
    lead_offer(lead=lead, rep=users["sales_rep"], actor=None)
    with pytest.raises((ConflictError, PermissionDeniedError)):
        lead_accept(lead=lead, actor=users["other_rep"])
    lead_accept(lead=lead, actor=users["sales_rep"])
    with pytest.raises(ConflictError, match="not waiting"):
        lead_accept(lead=lead, actor=users["sales_rep"])


def test_illegal_transition_is_a_conflict(users):
    lead = LeadFactory(state=LeadState.NEW)
    with pytest.raises(ConflictError, match="cannot become"):
        lead_qualify(lead=lead, actor=None)
    lead.refresh_from_db()
    assert lead.state == LeadState.NEW
    assert not lead.timeline.exists()
