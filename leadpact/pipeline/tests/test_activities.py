from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from leadpact.common.errors import ApplicationError, PermissionDeniedError
from leadpact.factories import LeadFactory
from leadpact.leads.models import LeadState
from leadpact.notifications.models import Notification
from leadpact.pipeline.models import Activity, DealEvent
from leadpact.pipeline.services.activities import activity_log, next_steps_remind
from leadpact.pipeline.tasks import next_step_reminders_task
from leadpact.routing.models import SlaClock, SlaPolicy


def test_activity_lands_on_the_deal_timeline(make_deal, users):
    deal = make_deal()
    activity = activity_log(
        actor=users["sales_rep"],
        deal=deal,
        kind="call",
        outcome="Interested",
        next_step="Send proposal",
        next_step_due=timezone.localdate(),
    )
    deal.refresh_from_db()
    assert deal.last_activity_at is not None and deal.version == 1
    event = deal.events.get(kind=DealEvent.Kind.ACTIVITY)
    assert "Interested" in event.summary and event.data == {"activity": activity.pk}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": "fax", "outcome": "x"}, "kind"),
        ({"kind": "call", "outcome": " "}, "came of it"),
        (
            {
                "kind": "call",
                "outcome": "x",
                "next_step_due": dt.date(2001, 1, 1),
                "next_step": "y",
            },
            "past",
        ),
        (
            {"kind": "call", "outcome": "x", "next_step_due": dt.date(2099, 1, 1)},
            "needs a next step",
        ),
    ],
)
def test_bad_activities_are_refused(make_deal, users, kwargs, message):
    deal = make_deal()
    with pytest.raises(ApplicationError, match=message):
        activity_log(actor=users["sales_rep"], deal=deal, **kwargs)
    assert not Activity.objects.exists()


def test_others_may_not_log_on_my_deal(make_deal, users):
    deal = make_deal()
    for role in ("other_rep", "marketing"):
        with pytest.raises(PermissionDeniedError):
            activity_log(actor=users[role], deal=deal, kind="call", outcome="x")


def test_first_activity_meets_the_first_contact_clock(users, pipeline):
    rep = users["sales_rep"]
    lead = LeadFactory(state=LeadState.ACCEPTED, owner=rep)
    policy = SlaPolicy.objects.create(
        name="First contact", kind=SlaPolicy.Kind.FIRST_CONTACT, amount=4
    )
    clock = SlaClock.objects.create(
        lead=lead,
        policy=policy,
        started_at=timezone.now(),
        deadline_at=timezone.now() + dt.timedelta(hours=4),
    )
    activity_log(actor=rep, lead=lead, kind="call", outcome="Reached them")
    clock.refresh_from_db()
    assert clock.status == SlaClock.Status.MET and clock.met_at is not None


def test_due_next_steps_remind_the_owner_once(make_deal, users):
    deal = make_deal()
    today = timezone.localdate()
    activity_log(
        actor=users["sales_rep"],
        deal=deal,
        kind="meeting",
        outcome="Demo done",
        next_step="Call back",
        next_step_due=today,
    )
    activity_log(
        actor=users["sales_rep"],
        deal=deal,
        kind="email",
        outcome="Sent",
        next_step="Later",
        next_step_due=today + dt.timedelta(days=3),
    )
    assert next_step_reminders_task.apply().get() == 1
    assert next_steps_remind(today=today) == 0  # safe to run twice
    note = Notification.objects.get()
    assert note.user == users["sales_rep"] and "Call back" in note.title
    assert note.url == f"/pipeline/deals/{deal.pk}/"
    assert next_steps_remind(today=today + dt.timedelta(days=3)) == 1
