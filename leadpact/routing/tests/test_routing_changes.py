"""The audit trail of routing rules, rep availability, rejection reasons and the checklist:
every change recorded with who, when and old → new; a refused change leaves nothing."""

from __future__ import annotations

import pytest
from django.urls import reverse

from leadpact.common.errors import ApplicationError, PermissionDeniedError
from leadpact.routing.models import RoutingChange
from leadpact.routing.services.lists import (
    checklist_item_create,
    checklist_item_move,
    checklist_item_update,
    rejection_reason_create,
    rejection_reason_move,
    rejection_reason_update,
)
from leadpact.routing.services.rules import (
    availability_set,
    rule_create,
    rule_delete,
    rule_move,
    rule_update,
)

pytestmark = pytest.mark.django_db
S, A = RoutingChange.Subject, RoutingChange.Action


def _trail(subject):
    return [
        (c.action, c.label, c.changes, c.actor_id)
        for c in RoutingChange.objects.filter(subject=subject).order_by("id")
    ]


def test_rule_changes_are_recorded(users, sales_team):
    manager = users["sales_manager"]
    first = rule_create(actor=manager, name="Brazil", conditions=[], team=sales_team)
    second = rule_create(actor=manager, name="Rest", conditions=[], rep=users["sales_rep"])
    rule_update(
        rule=first,
        actor=manager,
        name="Brazil",
        conditions=[{"field": "country", "op": "eq", "value": "BR"}],
        team=sales_team,
    )
    rule_update(
        rule=first, actor=manager, name="Brazil", conditions=first.conditions, team=sales_team
    )
    rule_move(rule=second, actor=manager, up=True)
    rule_move(rule=second, actor=manager, up=True)  # already first: nothing moved, nothing kept
    rule_delete(rule=second, actor=manager)
    trail = _trail(S.RULE)
    assert [t[0] for t in trail] == [A.CREATED, A.CREATED, A.UPDATED, A.MOVED, A.DELETED]
    assert trail[0][2]["team"] == [None, str(sales_team)] and trail[0][3] == manager.pk
    assert trail[2][2] == {"conditions": [[], [{"field": "country", "op": "eq", "value": "BR"}]]}
    assert trail[4][1] == "Rest"


def test_availability_and_list_changes_are_recorded(users):
    manager, rep = users["sales_manager"], users["sales_rep"]
    availability_set(rep=rep, actor=manager, weight=2, max_open_leads=10)
    availability_set(rep=rep, actor=manager, weight=3, max_open_leads=10)
    availability_set(rep=rep, actor=manager, weight=3, max_open_leads=10)  # no change
    trail = _trail(S.AVAILABILITY)
    assert [t[0] for t in trail] == [A.CREATED, A.UPDATED]
    assert trail[1][2] == {"weight": [2, 3]} and trail[1][1] == str(rep)

    first = rejection_reason_create(actor=manager, label="Wrong country")
    rejection_reason_create(actor=manager, label="No budget")
    rejection_reason_update(
        reason=first, actor=manager, label="Outside our markets", is_active=True
    )
    rejection_reason_move(reason=first, actor=manager, up=False)
    assert [t[0] for t in _trail(S.REASON)] == [A.CREATED, A.CREATED, A.UPDATED, A.MOVED]
    assert _trail(S.REASON)[2][2] == {"label": ["Wrong country", "Outside our markets"]}

    item = checklist_item_create(actor=manager, label="Budget confirmed")
    checklist_item_create(actor=manager, label="Timeline known")
    checklist_item_update(
        item=item, actor=manager, label="Budget confirmed", help_text="", is_active=False
    )
    checklist_item_move(item=item, actor=manager, up=False)
    trail = _trail(S.CHECKLIST)
    assert [t[0] for t in trail] == [A.CREATED, A.CREATED, A.UPDATED, A.MOVED]
    assert trail[2][2] == {"is_active": [True, False]}


def test_a_refused_change_leaves_no_trace(users):
    with pytest.raises(ApplicationError):
        rule_create(actor=users["sales_manager"], name="", conditions=[], rep=users["sales_rep"])
    with pytest.raises(PermissionDeniedError):
        rejection_reason_create(actor=users["sales_rep"], label="Nope")
    assert not RoutingChange.objects.exists()


def test_the_pages_show_the_trail(users, client_for):
    rejection_reason_create(actor=users["sales_manager"], label="Wrong country")
    page = client_for("sales_manager").get(reverse("routing:reasons"))
    assert "Recent changes" in page.text and "Rejection reason “Wrong country”" in page.text
    page = client_for("sales_manager").get(reverse("routing:rules"))
    assert 'id="changes"' in page.text


@pytest.mark.django_db(transaction=True)
def test_the_migration_moves_the_policy_and_calendar_trails_into_one():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor
    from django.utils import timezone

    before = [("routing", "0006_routing_changes")]
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()  # every app back where the suite expects it
    executor.migrate(before)
    old = executor.loader.project_state(before[0]).apps
    policy = old.get_model("routing", "SlaPolicy").objects.create(
        name="Answer offers", kind="offer_response", amount=4
    )
    calendar = old.get_model("routing", "BusinessCalendar").objects.create(name="São Paulo")
    now = timezone.now()
    old.get_model("routing", "SlaPolicyChange").objects.create(
        policy=policy,
        changed_at=now,
        changes={"name": [None, "Answer offers"], "amount": [None, 4]},
    )
    old.get_model("routing", "SlaPolicyChange").objects.create(
        policy=policy, changed_at=now, changes={"amount": [4, 2]}
    )
    old.get_model("routing", "BusinessCalendarChange").objects.create(
        calendar=calendar, changed_at=now, changes={"hours": [{}, {"mon": ["09:00-17:00"]}]}
    )
    executor = MigrationExecutor(connection)
    executor.migrate(latest)
    moved = [
        (c.subject, c.object_id, c.label, c.action, c.changes)
        for c in RoutingChange.objects.order_by("id")
    ]
    assert moved == [
        (
            "policy",
            policy.pk,
            "Answer offers",
            "created",
            {"name": [None, "Answer offers"], "amount": [None, 4]},
        ),
        ("policy", policy.pk, "Answer offers", "updated", {"amount": [4, 2]}),
        (
            "calendar",
            calendar.pk,
            "São Paulo",
            "updated",
            {"hours": [{}, {"mon": ["09:00-17:00"]}]},
        ),
    ]
