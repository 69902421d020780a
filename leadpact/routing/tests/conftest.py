from __future__ import annotations

import pytest

from leadpact.accounts.models import Role
from leadpact.factories import LeadFactory, TeamFactory, UserFactory
from leadpact.leads.models import LeadState
from leadpact.routing.models import SlaPolicy


@pytest.fixture
def mql(db):
    return LeadFactory(state=LeadState.MQL, country="Brazil", score=70)


@pytest.fixture
def policies(db):
    """Company-wide SLA: answer offers within 4 business hours, contact within 2 days."""
    return {
        "response": SlaPolicy.objects.create(
            name="Answer offers", kind=SlaPolicy.Kind.OFFER_RESPONSE, amount=4
        ),
        "contact": SlaPolicy.objects.create(
            name="First contact", kind=SlaPolicy.Kind.FIRST_CONTACT, amount=2
        ),
    }


@pytest.fixture
def team_with_reps(db, users):
    """A second sales team, "Brazil", with three reps and a manager."""
    team = TeamFactory(name="Brazil", kind="sales")
    manager = UserFactory(username="br-manager", role=Role.SALES_MANAGER, team=team)
    team.manager = manager
    team.save()
    reps = [
        UserFactory(
            username=f"br-rep{i}", first_name=name, last_name="", role=Role.SALES_REP, team=team
        )
        for i, name in enumerate(["Ana", "Bruno", "Carla"], start=1)
    ]
    return team, manager, reps
