"""The SLA compliance report: exact numbers on a hand-built month, roles, bad input, CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from importlib import import_module

import pytest
from django.apps import apps as django_apps
from django.urls import reverse
from django.utils import timezone

from leadpact.common.errors import ApplicationError
from leadpact.factories import CampaignFactory, LeadFactory
from leadpact.routing.compliance import month_from_param
from leadpact.routing.models import Offer, RejectionReason, SlaClock, SlaPolicy

pytestmark = pytest.mark.django_db
BACKFILL = import_module("leadpact.routing.migrations.0003_backfill_business_hours")

URL = reverse("routing:compliance")
MARCH = "2026-03"  # 1 March 2026 is a Sunday; Friday 6th, Monday 9th


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def _offer(rep, team, status, offered, answered=None, reason=None, campaign=None) -> Offer:
    lead = LeadFactory(source_campaign=campaign)
    return Offer.objects.create(
        lead=lead,
        rep=rep,
        team=team,
        status=status,
        offered_at=offered,
        answered_at=answered,
        reason=reason,
    )


def _clock(policy, offer, status, started, met=None) -> SlaClock:
    return SlaClock.objects.create(
        policy=policy,
        lead=offer.lead,
        offer=offer if policy.kind == SlaPolicy.Kind.OFFER_RESPONSE else None,
        rep=offer.rep,
        team=offer.team,
        status=status,
        started_at=started,
        deadline_at=started + timedelta(days=2),
        met_at=met,
    )


@pytest.fixture
def month(users, sales_team, policies):
    """A hand-built March on the default calendar (Monday-Friday 9-17 UTC)."""
    rep, other = users["sales_rep"], users["other_rep"]
    rep.first_name, rep.last_name = "Rita", "Rep"
    rep.save()
    budget = RejectionReason.objects.create(code="budget", label="No budget")
    fit = RejectionReason.objects.create(code="fit", label="Wrong fit")
    spring = CampaignFactory(name="Spring")
    A = Offer.Status
    # Time to accept (business hours): 2 (Fri 16:00 → Mon 10:00, across the weekend), 0.5, 4.
    o1 = _offer(rep, sales_team, A.ACCEPTED, at(6, 16), at(9, 10), campaign=spring)
    o2 = _offer(rep, sales_team, A.ACCEPTED, at(9, 9), at(9, 9, 30), campaign=spring)
    o3 = _offer(rep, sales_team, A.ACCEPTED, at(10, 10), at(10, 14))
    o4 = _offer(rep, sales_team, A.REJECTED, at(11, 9), at(11, 10), budget, campaign=spring)
    _offer(rep, sales_team, A.REJECTED, at(11, 9), at(11, 11), budget)
    _offer(rep, sales_team, A.EXPIRED, at(12, 9))
    _offer(rep, sales_team, A.WITHDRAWN, at(12, 9))
    _offer(rep, sales_team, A.ACCEPTED, datetime(2026, 2, 27, 9, tzinfo=UTC), at(2, 9))  # Feb
    _offer(other, None, A.REJECTED, at(13, 9), at(13, 10), fit, campaign=spring)
    response, contact = policies["response"], policies["contact"]
    for offer in (o1, o2, o3):
        _clock(response, offer, SlaClock.Status.MET, offer.offered_at, offer.answered_at)
    _clock(response, o4, SlaClock.Status.BREACHED, o4.offered_at)
    # Time to first contact: 4 (Fri 15:00 → Mon 11:00) and 1 business hour.
    _clock(contact, o1, SlaClock.Status.MET, at(6, 15), at(9, 11))
    _clock(contact, o2, SlaClock.Status.MET, at(10, 9), at(10, 10))
    _clock(contact, o3, SlaClock.Status.RUNNING, at(10, 14))  # not yet decided: not counted
    SlaPolicy.objects.create(name="MQLs", kind=SlaPolicy.Kind.MQL_DELIVERY, amount=10)
    # Rows written by hand, as if closed before the hours were stored: the migration's
    # backfill counts them, on today's calendars.
    BACKFILL.backfill(django_apps, None)
    return {"rep": rep, "other": other}


def _report(client):
    response = client.get(URL, {"month": MARCH})
    assert response.status_code == 200
    return response.context["report"]


def test_per_rep_numbers_on_a_hand_built_month(client_for, month):
    report = _report(client_for("sales_manager"))
    reps = {r["key"]: r for r in report.reps}
    rita = reps[month["rep"].pk]
    assert rita["name"] == "Rita Rep"
    assert (rita["offered"], rita["accepted"], rita["rejected"]) == (7, 3, 2)
    assert (rita["expired"], rita["withdrawn"], rita["pending"]) == (1, 1, 0)
    assert rita["by_reason"] == {"No budget": 2}
    # Business hours [2, 0.5, 4]: median 2, p90 = 2 + 0.8 * (4 - 2) = 3.6 (linear).
    assert (rita["accept_median"], rita["accept_p90"]) == (2.0, 3.6)
    # Contacts [4, 1]: median 2.5, p90 = 1 + 0.9 * 3 = 3.7.
    assert (rita["contact_median"], rita["contact_p90"]) == (2.5, 3.7)
    assert (rita["met"], rita["breached"]) == (5, 1)
    other = reps[month["other"].pk]
    assert (other["offered"], other["rejected"], other["by_reason"]) == (1, 1, {"Wrong fit": 1})
    assert other["accept_median"] is None and other["met"] == 0


def test_per_team_delivery_and_campaigns(client_for, month, sales_team):
    report = _report(client_for("marketing"))
    teams = {t["name"]: t for t in report.teams}
    assert teams[sales_team.name]["offered"] == 7
    assert teams["No team"]["offered"] == 1
    assert teams[sales_team.name]["accept_median"] == 2.0
    delivery = {d["name"]: d for d in report.delivery}
    assert delivery[sales_team.name] | {} == {
        "name": sales_team.name,
        "delivered": 7,
        "commitment": 10,
        "policy": "MQLs",
        "met": False,
        "short_by": 3,
    }
    campaigns = {c["name"]: c for c in report.campaigns}
    assert (campaigns["Spring"]["offered"], campaigns["Spring"]["accepted"]) == (4, 2)
    assert campaigns["Spring"]["rate"] == 0.5
    assert campaigns["(no campaign)"]["offered"] == 4


def test_page_shows_the_tables_and_the_chart(client_for, month):
    page = client_for("admin").get(URL, {"month": MARCH}).content.decode()
    assert 'id="per-rep"' in page and "Rita Rep" in page and "3.60" in page
    assert "chart-4.6.1.umd.min.js" in page and 'id="chart-data"' in page


def test_default_month_is_the_current_one(client_for):
    response = client_for("admin").get(URL)
    assert response.status_code == 200
    assert response.context["report"].month == timezone.localdate().replace(day=1)


def test_policies_page_links_here(client_for):
    assert URL in client_for("marketing").get(reverse("routing:policies")).content.decode()


@pytest.mark.parametrize("role", ["admin", "marketing", "sales_manager"])
def test_funnel_roles_may_see_it(client_for, role):
    assert client_for(role).get(URL).status_code == 200
    assert client_for(role).get(URL, {"format": "csv"}).status_code == 200


@pytest.mark.parametrize("params", [{}, {"format": "csv"}])
def test_a_rep_may_not(client_for, params):
    assert client_for("sales_rep").get(URL, params).status_code == 403


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("March", "Month must look like 2026-03"),
        ("2026-13", "There is no month 13"),
        ("0001-01", "Choose a year between"),
        ("2026-03'; DROP", "Month must look like"),
    ],
)
def test_bad_month_is_a_clear_message(client_for, raw, message):
    response = client_for("admin").get(URL, {"month": raw})
    assert response.status_code == 400
    assert message in response.content.decode()
    csv_response = client_for("admin").get(URL, {"month": raw, "format": "csv"})
    assert csv_response.status_code == 400 and message in csv_response.content.decode()


def test_unknown_format_is_refused(client_for):
    response = client_for("admin").get(URL, {"format": "xlsx"})
    assert response.status_code == 400 and "Format must be csv" in response.content.decode()


def test_month_param_parsing():
    assert month_from_param("", today=date(2026, 5, 17)) == date(2026, 5, 1)
    assert month_from_param(" 2026-3 ", today=date(2026, 5, 17)) == date(2026, 3, 1)
    with pytest.raises(ApplicationError):
        month_from_param("2026-00", today=date(2026, 5, 17))


def test_csv_has_the_per_rep_table_and_no_formulas(client_for, month):
    month["other"].first_name, month["other"].last_name = "=HYPERLINK(1)", ""
    month["other"].save()
    response = client_for("marketing").get(URL, {"month": MARCH, "format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    assert "sla-compliance-2026-03.csv" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    by_name = {r["rep"]: r for r in rows}
    rita = by_name["Rita Rep"]
    assert rita["offered"] == "7" and rita["rejected: No budget"] == "2"
    assert rita["rejected: Wrong fit"] == "0"
    assert rita["accept p90 (business h)"] == "3.6" and rita["clocks breached"] == "1"
    assert "'=HYPERLINK(1)" in by_name


@pytest.mark.parametrize("n", [5, 50])
def test_fixed_number_of_queries(
    client_for, users, sales_team, policies, n, django_assert_num_queries
):
    for i in range(n):
        offer = _offer(
            users["sales_rep"], sales_team, Offer.Status.ACCEPTED, at(9, 9), at(9, 10 + i % 5)
        )
        _clock(policies["response"], offer, SlaClock.Status.MET, at(9, 9), at(9, 10))
    client = client_for("sales_manager")
    # The first reads the SLA policies and calendars (the routing set-up stamp, then both);
    # the second finds them cached under the same stamp.
    with django_assert_num_queries(8):
        assert client.get(URL, {"month": MARCH}).status_code == 200
    with django_assert_num_queries(6):
        assert client.get(URL, {"month": MARCH, "format": "csv"}).status_code == 200


def test_history_is_judged_by_the_calendar_valid_at_the_time(users, client_for, sales_team):
    """Hours are stored when a clock is met: changing the calendar later rewrites nothing."""
    from leadpact.routing.services.clocks import first_contact_log
    from leadpact.routing.services.policies import calendar_save

    manager = users["sales_manager"]
    calendar = calendar_save(
        actor=manager, name="East", hours={"mon": ["09:00-17:00"]}, team=sales_team
    )
    contact = SlaPolicy.objects.create(
        name="First contact", kind=SlaPolicy.Kind.FIRST_CONTACT, amount=1
    )
    lead = LeadFactory()
    rep = users["sales_rep"]
    SlaClock.objects.create(
        policy=contact,
        lead=lead,
        rep=rep,
        team=sales_team,
        started_at=at(9, 9),
        deadline_at=at(9, 17),
    )
    first_contact_log(lead_id=lead.pk, now=at(9, 11))
    before = _report(client_for("sales_manager")).reps[0]["contact_median"]
    calendar_save(
        actor=manager,
        name="East",
        hours={"mon": ["10:00-18:00"]},
        team=sales_team,
        calendar=calendar,
    )
    after = _report(client_for("sales_manager")).reps[0]["contact_median"]
    assert before == after == 2.0
