"""Pausing and resuming SLA clocks: business time kept, the sweep waits, history is fair."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from leadpact.common.errors import ApplicationError, ConflictError, PermissionDeniedError
from leadpact.leads.models import TimelineEvent
from leadpact.leads.services.lifecycle import lead_accept, lead_offer
from leadpact.routing.models import Offer, SlaClock, SlaPolicy
from leadpact.routing.services.clocks import clocks_close, first_contact_log
from leadpact.routing.services.pauses import clock_pause, clock_resume
from leadpact.routing.services.sweep import sla_sweep

pytestmark = pytest.mark.django_db


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """March 2026 in UTC: Monday 9th, Friday 13th, Monday 16th."""
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def clock(users, mql, policies, sales_team) -> SlaClock:
    """A 4-business-hour response clock on the default calendar (Mon-Fri 9-17 UTC), started
    Monday 9 March at 09:00, warning at 12:00, due at 13:00."""
    offer = Offer.objects.create(
        lead=mql, rep=users["sales_rep"], team=sales_team, offered_at=at(9, 9)
    )
    return SlaClock.objects.create(
        policy=policies["response"],
        lead=mql,
        offer=offer,
        rep=users["sales_rep"],
        team=sales_team,
        started_at=at(9, 9),
        deadline_at=at(9, 13),
        warn_at=at(9, 12),
    )


def test_pause_keeps_business_time_and_resume_recomputes_the_deadline(users, clock):
    rep = users["sales_rep"]
    paused = clock_pause(clock=clock, actor=rep, reason="Waiting on the prospect", now=at(9, 10))
    assert paused.status == SlaClock.Status.PAUSED
    assert paused.remaining == timedelta(hours=3)
    assert paused.warn_remaining == timedelta(hours=2)
    # Friday 16:00: one business hour left that day, the other two on Monday morning.
    resumed = clock_resume(clock=clock, actor=rep, now=at(13, 16))
    assert resumed.status == SlaClock.Status.RUNNING
    assert resumed.deadline_at == at(16, 11)
    assert resumed.warn_at == at(16, 10)
    # Paused Monday 10:00 → Friday 16:00: 7 + 3 x 8 + 7 business hours.
    assert resumed.paused_total == timedelta(hours=38)
    assert (resumed.paused_at, resumed.remaining, resumed.pause_reason) == (None, None, "")
    # Met Monday 16th 10:30: it ran 1 + 1 + 1.5 business hours, the pause is not counted.
    clocks_close(
        offer_ids=[clock.offer_id], kinds=[SlaPolicy.Kind.OFFER_RESPONSE], now=at(16, 10, 30)
    )
    clock.refresh_from_db()
    assert clock.status == SlaClock.Status.MET and clock.business_hours == 3.5


def test_the_sweep_ignores_a_paused_clock(users, clock):
    clock_pause(clock=clock, actor=users["sales_rep"], reason="Prospect on holiday", now=at(9, 10))
    result = sla_sweep(now=at(9, 14))
    assert (result.warned, result.breached) == (0, 0)
    clock.refresh_from_db()
    assert clock.status == SlaClock.Status.PAUSED and clock.warned_at is None
    clock_resume(clock=clock, actor=users["sales_rep"], now=at(10, 9))
    assert sla_sweep(now=at(10, 12)).breached == 1  # resumed Tue 09:00 + 3 h = 12:00


def test_pausing_twice_is_a_clear_conflict(users, clock):
    clock_pause(clock=clock, actor=users["sales_rep"], reason="Waiting", now=at(9, 10))
    with pytest.raises(ConflictError, match="already paused") as exc:
        clock_pause(clock=clock, actor=users["sales_rep"], reason="Again", now=at(9, 11))
    assert exc.value.code == "already_paused"
    clock.refresh_from_db()
    assert clock.pause_reason == "Waiting" and clock.paused_at == at(9, 10)


def test_resuming_a_clock_that_is_not_paused_is_refused(users, clock):
    with pytest.raises(ConflictError, match="not paused") as exc:
        clock_resume(clock=clock, actor=users["sales_rep"], now=at(9, 10))
    assert exc.value.code == "not_paused"
    clock.refresh_from_db()
    assert clock.deadline_at == at(9, 13)


def test_a_met_clock_cannot_be_paused(users, clock):
    clocks_close(offer_ids=[clock.offer_id], kinds=[SlaPolicy.Kind.OFFER_RESPONSE], now=at(9, 10))
    with pytest.raises(ConflictError, match="met: only a running clock") as exc:
        clock_pause(clock=clock, actor=users["sales_rep"], reason="Waiting", now=at(9, 11))
    assert exc.value.code == "not_running"


def test_an_overdue_clock_cannot_be_paused(users, clock):
    with pytest.raises(ConflictError, match="has passed"):
        clock_pause(clock=clock, actor=users["sales_rep"], reason="Too late", now=at(9, 13))


def test_a_reason_is_required(users, clock):
    with pytest.raises(ApplicationError, match="Say why") as exc:
        clock_pause(clock=clock, actor=users["sales_rep"], reason="   ", now=at(9, 10))
    assert exc.value.code == "reason_required"
    clock.refresh_from_db()
    assert clock.status == SlaClock.Status.RUNNING


def test_who_may_pause(users, clock):
    for role in ("other_rep", "marketing"):
        with pytest.raises(PermissionDeniedError):
            clock_pause(clock=clock, actor=users[role], reason="x", now=at(9, 10))
    # The rep's manager may, and so may an admin.
    clock_pause(clock=clock, actor=users["sales_manager"], reason="Rep asked", now=at(9, 10))
    clock_resume(clock=clock, actor=users["admin"], now=at(9, 11))


def test_delivery_clocks_do_not_pause(users, sales_team):
    policy = SlaPolicy.objects.create(name="MQLs", kind=SlaPolicy.Kind.MQL_DELIVERY, amount=5)
    clock = SlaClock.objects.create(
        policy=policy, team=sales_team, started_at=at(1, 0), deadline_at=at(31, 23)
    )
    with pytest.raises(ApplicationError, match="Only acceptance and first-contact"):
        clock_pause(clock=clock, actor=users["admin"], reason="x", now=at(9, 10))


def test_met_while_paused_counts_until_the_pause(users, mql, policies, sales_team):
    """A first-contact clock paused, then contact is logged: it ran until the pause only."""
    clock = SlaClock.objects.create(
        policy=policies["contact"],
        lead=mql,
        rep=users["sales_rep"],
        team=sales_team,
        started_at=at(9, 9),
        deadline_at=at(11, 9),
        warn_at=at(10, 16),
    )
    clock_pause(clock=clock, actor=users["sales_rep"], reason="Call back Thursday", now=at(9, 15))
    assert first_contact_log(lead_id=mql.pk, now=at(12, 11)) == 1
    clock.refresh_from_db()
    assert clock.status == SlaClock.Status.MET and clock.business_hours == 6.0


def test_offer_page_and_api_pause_resume_with_timeline(users, client_for, mql, policies):
    lead_offer(lead=mql, rep=users["sales_rep"], actor=None)
    clock = SlaClock.objects.get(offer__lead=mql, policy__kind=SlaPolicy.Kind.OFFER_RESPONSE)
    client = client_for("sales_rep")
    page = client.get(reverse("routing:queue")).content.decode()
    assert reverse("routing:clock_pause", args=[clock.pk]) in page
    response = client.post(
        reverse("routing:clock_pause", args=[clock.pk]),
        {"reason": "Waiting on the prospect"},
        follow=True,
    )
    assert "Clock paused" in response.content.decode()
    assert reverse("routing:clock_resume", args=[clock.pk]) in response.content.decode()
    offer = Offer.objects.get(pk=clock.offer_id)
    assert offer.expires_at is None
    # Twice on the page: a message, not a 500.
    again = client.post(
        reverse("routing:clock_pause", args=[clock.pk]), {"reason": "x"}, follow=True
    )
    assert "already paused" in again.content.decode()
    api = client.post(reverse("api:sla-clock-resume", args=[clock.pk]))
    assert api.status_code == 200 and api.json()["status"] == "running"
    offer.refresh_from_db()
    assert offer.expires_at is not None and offer.expires_at.isoformat().startswith(
        api.json()["deadline_at"][:16]
    )
    assert client.post(reverse("api:sla-clock-resume", args=[clock.pk])).status_code == 409
    assert client.post(reverse("api:sla-clock-pause", args=[clock.pk]), {}).status_code == 400
    other = client_for("other_rep").post(
        reverse("api:sla-clock-pause", args=[clock.pk]), {"reason": "mine now"}
    )
    assert other.status_code == 403
    actions = list(
        TimelineEvent.objects.filter(lead=mql, kind=TimelineEvent.Kind.ROUTING)
        .order_by("occurred_at", "id")
        .values_list("data__action", flat=True)
    )
    assert [a for a in actions if a and a.startswith("sla_")] == ["sla_pause", "sla_resume"]
    lead_accept(lead=mql, actor=users["sales_rep"])
    offer.refresh_from_db()
    clock.refresh_from_db()
    assert offer.answer_business_hours == clock.business_hours is not None


def test_team_calendar_deadline_and_resume_across_easter_and_the_clock_change(
    users, mql, policies, sales_team
):
    """Counted on the team's London calendar (GB/England holidays), through the services."""
    from leadpact.routing.services.clocks import ClockStart, clocks_start
    from leadpact.routing.services.policies import calendar_save

    calendar_save(
        actor=users["admin"],
        name="London",
        time_zone="Europe/London",
        hours={d: ["09:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
        holiday_country="GB",
        holiday_subdivision="ENG",
        team=sales_team,
    )
    thursday = datetime(2027, 3, 25, 15, tzinfo=UTC)
    clocks_start(
        SlaPolicy.Kind.OFFER_RESPONSE,
        [ClockStart(mql.pk, None, users["sales_rep"].pk, sales_team.pk, thursday)],
    )
    clock = SlaClock.objects.get(lead=mql)
    assert clock.deadline_at == datetime(2027, 3, 30, 10, tzinfo=UTC)  # Tue 11:00 BST
    clock_pause(
        clock=clock,
        actor=users["sales_rep"],
        reason="Prospect asked for a call after Easter",
        now=datetime(2027, 3, 25, 16, tzinfo=UTC),
    )
    resumed = clock_resume(
        clock=clock, actor=users["sales_rep"], now=datetime(2027, 3, 26, 10, tzinfo=UTC)
    )
    # 3 business hours left: Good Friday, the weekend and Easter Monday are closed, so the
    # new deadline is Tuesday 12:00 BST (11:00 UTC); 1 business hour passed while paused.
    assert resumed.deadline_at == datetime(2027, 3, 30, 11, tzinfo=UTC)
    assert resumed.paused_total == timedelta(hours=1)
