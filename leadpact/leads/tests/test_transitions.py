import pytest

from leadpact.common.errors import ApplicationError
from leadpact.factories import LeadFactory
from leadpact.leads.models import LeadState
from leadpact.leads.services.transitions import TRANSITIONS, lead_transition
from leadpact.leads.views.actions import ACTIONS

pytestmark = pytest.mark.django_db


def test_every_button_of_the_lead_page_is_a_named_transition():
    assert {spec.transition for spec in ACTIONS.values()} <= set(TRANSITIONS)


def test_a_transition_runs_its_service_with_the_inputs_it_takes(users):
    lead = LeadFactory(state=LeadState.MQL)
    lead_transition(lead=lead, actor=users["sales_manager"], action="offer", rep=users["sales_rep"])
    lead.refresh_from_db()
    assert (lead.state, lead.owner) == (LeadState.OFFERED, users["sales_rep"])
    with pytest.raises(ApplicationError, match="Say why"):
        lead_transition(lead=lead, actor=users["sales_rep"], action="reject")
    with pytest.raises(ApplicationError, match="not a lifecycle move"):
        lead_transition(lead=lead, actor=users["sales_rep"], action="teleport")
    lead.refresh_from_db()
    assert lead.state == LeadState.OFFERED
