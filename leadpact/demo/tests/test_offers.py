"""The demo's last three months of answered offers: realistic, consistent, on the report."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from django.db.models import Count

from leadpact.demo.world import demo_build
from leadpact.routing import compliance, selectors
from leadpact.routing.models import Offer, RejectionReason, SlaClock

NOW = datetime(2025, 3, 14, 15, 30, tzinfo=UTC)
NO_DATASETS = Path("/nonexistent/datasets")


@pytest.fixture
def world(db):
    return demo_build(seed=5, leads=1500, now=NOW, datasets_dir=NO_DATASETS)


def test_answered_offers_of_the_last_three_months(world):
    history = world.offer_history
    answered = Offer.objects.filter(status__in=[Offer.Status.ACCEPTED, Offer.Status.REJECTED])
    assert answered.count() == history.accepted + history.rejected > 50
    assert history.accepted > history.rejected > 0 and history.expired > 0
    oldest = answered.order_by("offered_at").first().offered_at
    assert NOW - timedelta(days=93) <= oldest and answered.filter(answered_at__gt=NOW).count() == 0
    # Rejections carry a reason from the configured list, as a rep picking it would.
    rejected = answered.filter(status=Offer.Status.REJECTED)
    labels = set(RejectionReason.objects.values_list("label", flat=True))
    assert not rejected.filter(reason__isnull=True).exists()
    assert set(rejected.values_list("reason__label", flat=True)) <= labels
    assert answered.filter(answer_business_hours__isnull=True).count() == 0
    assert not answered.filter(decided_by__isnull=True).exists()
    # Re-offers: each expired offer is followed by an answered one of the same lead, to another rep.
    for expired in Offer.objects.filter(status=Offer.Status.EXPIRED)[:20]:
        then = Offer.objects.filter(lead=expired.lead, offered_at=expired.answered_at).get()
        assert then.rep_id != expired.rep_id
        assert expired.lead.timeline.filter(data__action="reoffer").exists()


def test_clocks_met_breached_and_open(world):
    statuses = dict(
        SlaClock.objects.filter(policy__kind__in=["offer_response", "first_contact"])
        .values_list("status")
        .annotate(n=Count("id"))
    )
    assert statuses["met"] > 0 and statuses["breached"] > 0
    closed = SlaClock.objects.filter(status__in=["met", "breached"])
    assert not closed.filter(business_hours__isnull=True).exists()
    for clock in closed.filter(status="met")[:50]:
        assert clock.started_at <= clock.met_at <= clock.deadline_at
    for clock in SlaClock.objects.filter(status="paused"):
        assert clock.remaining is not None and clock.pause_reason


def test_the_compliance_report_has_the_history(world):
    month = date(2025, 2, 1)
    start, end = compliance.month_bounds(month, UTC)
    report = compliance.compliance_report(selectors.compliance_rows(start=start, end=end), month)
    assert sum(r["offered"] for r in report.reps) > 10
    assert any(r["accept_median"] is not None for r in report.reps)
    assert any(r["contact_median"] is not None for r in report.reps)
    assert any(r["by_reason"] for r in report.reps)
    assert any(r["met"] and r["breached"] for r in report.reps)


def test_people_work_in_office_hours():
    from datetime import UTC, datetime

    from leadpact.demo.staff import OFFICE_ZONE, working_hours

    inside = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # Tuesday 12:00 in São Paulo
    assert working_hours(inside) == inside
    night = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)  # Friday 23:00 in São Paulo
    moved = working_hours(night).astimezone(OFFICE_ZONE)
    assert moved.weekday() == 0 and 8 <= moved.hour <= 10  # Monday morning
    assert working_hours(night) == working_hours(night)
