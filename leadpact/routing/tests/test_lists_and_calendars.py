"""The managers' pages for business calendars, rejection reasons and the checklist."""

from __future__ import annotations

import pytest
from django.urls import reverse

from leadpact.common.errors import ApplicationError, PermissionDeniedError
from leadpact.routing.models import (
    BusinessCalendar,
    QualificationItem,
    RejectionReason,
    RoutingChange,
)
from leadpact.routing.services.lists import (
    checklist_item_create,
    rejection_reason_create,
    rejection_reason_update,
)
from leadpact.routing.services.policies import calendar_save

pytestmark = pytest.mark.django_db

WEEK = {f"hours_{d}": "" for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def calendar_form(**values: str) -> dict[str, str]:
    return (
        {"name": "São Paulo", "time_zone": "America/Sao_Paulo", "holiday_country": "BR"}
        | WEEK
        | {"hours_mon": "08:30-12:30, 13:30-18:00", "hours_fri": "09:00-15:00"}
        | values
    )


@pytest.mark.parametrize(
    "name", ["routing:calendars", "routing:reasons", "routing:checklist"], ids=str
)
def test_only_managers_and_admins(client_for, name):
    for role in ("admin", "sales_manager"):
        assert client_for(role).get(reverse(name)).status_code == 200
    for role in ("marketing", "sales_rep"):
        assert client_for(role).get(reverse(name)).status_code == 403
        assert client_for(role).post(reverse(name), {"label": "x"}).status_code == 403


def test_add_and_edit_a_calendar_with_an_audit_trail(users, client_for, sales_team):
    client = client_for("sales_manager")
    response = client.post(
        reverse("routing:calendars"),
        calendar_form(team=str(sales_team.pk), closed_dates="2026-12-24\n2026-12-31"),
        follow=True,
    )
    assert "added" in response.content.decode()
    calendar = BusinessCalendar.objects.get(name="São Paulo")
    assert calendar.hours == {"mon": ["08:30-12:30", "13:30-18:00"], "fri": ["09:00-15:00"]}
    assert calendar.closed_dates == ["2026-12-24", "2026-12-31"]
    assert calendar.team == sales_team and calendar.to_calendar().country == "BR"
    url = reverse("routing:calendar_edit", args=[calendar.pk])
    assert "08:30-12:30, 13:30-18:00" in client.get(url).content.decode()
    client.post(url, calendar_form(team=str(sales_team.pk), holiday_subdivision="SP"))
    calendar.refresh_from_db()
    assert calendar.holiday_subdivision == "SP"
    changes = list(
        RoutingChange.objects.filter(subject="calendar", object_id=calendar.pk).order_by("id")
    )
    assert [c.actor for c in changes] == [users["sales_manager"]] * 2
    assert changes[0].changes["name"] == [None, "São Paulo"]
    assert changes[1].changes == {
        "closed_dates": [["2026-12-24", "2026-12-31"], []],
        "holiday_subdivision": ["", "SP"],
    }
    page = client.get(url).content.decode()
    assert "holiday_subdivision" in page


def test_a_calendar_with_no_working_hours_is_a_clear_error(client_for):
    response = client_for("admin").post(
        reverse("routing:calendars"), calendar_form(hours_mon="", hours_fri="")
    )
    assert response.status_code == 400
    assert "at least one working period" in response.content.decode()
    assert not BusinessCalendar.objects.exists()


@pytest.mark.parametrize(
    "values, message",
    [
        ({"time_zone": "Mars/Olympus"}, "Unknown time zone"),
        ({"holiday_country": "XX"}, "No public holidays known"),
        ({"hours_mon": "9 to 5"}, "is not a period like 09:00-17:00"),
        ({"hours_mon": "17:00-09:00"}, "must end after it starts"),
        ({"closed_dates": "24/12/2026"}, "ISO dates"),
        ({"name": ""}, "name"),
    ],
)
def test_bad_calendar_input_is_explained_and_nothing_saved(client_for, values, message):
    response = client_for("admin").post(reverse("routing:calendars"), calendar_form(**values))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not BusinessCalendar.objects.exists()
    assert not RoutingChange.objects.exists()


def test_calendar_service_refuses_an_empty_week_and_other_roles(users):
    with pytest.raises(ApplicationError, match="at least one working period"):
        calendar_save(actor=users["admin"], name="Never", hours={"mon": [], "sat": []})
    with pytest.raises(PermissionDeniedError):
        calendar_save(actor=users["marketing"], name="Mine", hours={"mon": ["09:00-17:00"]})


def test_rejection_reasons_add_rename_deactivate_reorder(users, client_for):
    client = client_for("sales_manager")
    client.post(reverse("routing:reasons"), {"label": "No budget"})
    client.post(reverse("routing:reasons"), {"label": "Wrong segment"})
    duplicate = client.post(reverse("routing:reasons"), {"label": "no budget"}, follow=True)
    assert "already on the list" in duplicate.content.decode()
    budget, segment = RejectionReason.objects.order_by("position")
    assert (budget.code, segment.code) == ("no-budget", "wrong-segment")
    client.post(reverse("routing:reason_edit", args=[segment.pk]), {"action": "up"})
    assert list(RejectionReason.objects.values_list("label", flat=True)) == [
        "Wrong segment",
        "No budget",
    ]
    client.post(
        reverse("routing:reason_edit", args=[budget.pk]),
        {"label": "No budget this year", "is_active": "off"},
    )
    budget.refresh_from_db()
    assert (budget.label, budget.code, budget.is_active) == (
        "No budget this year",
        "no-budget",
        False,
    )
    # The queue offers only active reasons.
    from leadpact.routing.selectors import rejection_reasons

    assert [r.label for r in rejection_reasons()] == ["Wrong segment"]
    last = client.post(
        reverse("routing:reason_edit", args=[segment.pk]),
        {"label": "Wrong segment", "is_active": "off"},
        follow=True,
    )
    assert "at least one active reason" in last.content.decode()
    segment.refresh_from_db()
    assert segment.is_active


def test_reason_service_validation(users):
    with pytest.raises(ApplicationError, match="Label is required"):
        rejection_reason_create(actor=users["admin"], label="  ")
    with pytest.raises(PermissionDeniedError):
        rejection_reason_create(actor=users["sales_rep"], label="Mine")
    reason = rejection_reason_create(actor=users["admin"], label="Too small")
    with pytest.raises(ApplicationError, match="at most 120"):
        rejection_reason_update(
            reason=reason, actor=users["admin"], label="x" * 121, is_active=True
        )


def test_checklist_add_edit_reorder(users, client_for):
    client = client_for("admin")
    client.post(reverse("routing:checklist"), {"label": "Spoke to the decision maker"})
    client.post(reverse("routing:checklist"), {"label": "Has budget", "help_text": "This year"})
    first, second = QualificationItem.objects.order_by("position")
    client.post(reverse("routing:checklist_edit", args=[second.pk]), {"action": "up"})
    assert list(QualificationItem.objects.values_list("label", flat=True)) == [
        "Has budget",
        "Spoke to the decision maker",
    ]
    client.post(
        reverse("routing:checklist_edit", args=[first.pk]),
        {"label": "Spoke to the owner", "help_text": "", "is_active": "off"},
    )
    first.refresh_from_db()
    assert (first.label, first.is_active) == ("Spoke to the owner", False)
    page = client.get(reverse("routing:checklist")).content.decode()
    assert "Spoke to the owner" in page and "This year" in page
    with pytest.raises(ApplicationError, match="Label is required"):
        checklist_item_create(actor=users["admin"], label="")
