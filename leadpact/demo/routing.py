"""How the demo company hands leads to sales: rules, who takes how much, calendars, reasons.

Set up by the sales manager through the routing services (rules, availability, calendars),
so the rules page, the reps' queues and the SLA page read the same configuration the router
and the SLA clocks use. The rejection reasons and the qualification checklist are plain lists
(the app keeps them in the admin, with no service of their own) and are written directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils.text import slugify

from leadpact.accounts.models import Team, User
from leadpact.demo.journeys import REJECT_REASONS
from leadpact.routing.models import (
    BusinessCalendar,
    QualificationItem,
    RejectionReason,
    RepAvailability,
    RoutingRule,
    SlaPolicy,
)
from leadpact.routing.services.policies import calendar_save
from leadpact.routing.services.rules import availability_set, rule_create

SALES_DEVELOPMENT = "Sales development"
ACCOUNT_EXECUTIVES = "Account executives"
LATAM = ["Brazil", "Mexico", "Portugal"]

# name, conditions, team (or None), rep username (or None)
RULES: tuple[tuple[str, list[dict], str | None, str | None], ...] = (
    (
        "Big and top online sellers go straight to the account executives",
        [{"field": "attributes.lead_type", "op": "in", "value": ["online_big", "online_top"]}],
        ACCOUNT_EXECUTIVES,
        None,
    ),
    (
        "Manufacturers from paid search scoring 600 or more to David",
        [
            {"field": "attributes.business_type", "op": "eq", "value": "manufacturer"},
            {"field": "source_channel", "op": "eq", "value": "paid_search"},
            {"field": "score", "op": "gte", "value": 600},
        ],
        None,
        "david",
    ),
    (
        "Brazil, Mexico and Portugal to sales development (Portuguese and Spanish speakers)",
        [{"field": "country", "op": "in", "value": LATAM}],
        SALES_DEVELOPMENT,
        None,
    ),
    ("Everyone else to sales development", [], SALES_DEVELOPMENT, None),
)

# username → (weight, cap on open leads or None, days out of office or 0)
AVAILABILITY: dict[str, tuple[int, int | None, int]] = {
    "sam": (3, 320, 0),
    "lucas": (2, 280, 0),
    "priya": (2, 280, 6),  # on holiday this week: the router skips her
    "ana": (1, 60, 0),
    "david": (1, 60, 0),
}

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
# team → (calendar name, time zone, holiday country, weekday hours)
CALENDARS: dict[str, tuple[str, str, str, list[str]]] = {
    SALES_DEVELOPMENT: (
        "São Paulo office",
        "America/Sao_Paulo",
        "BR",
        ["08:30-12:30", "13:30-18:00"],
    ),
    ACCOUNT_EXECUTIVES: ("London office", "Europe/London", "GB", ["09:00-17:30"]),
    "Marketing": ("Lisbon office", "Europe/Lisbon", "PT", ["09:00-18:00"]),
}

CHECKLIST: tuple[tuple[str, str], ...] = (
    ("Spoke to the decision maker", "The owner, a founder or whoever signs the seller contract."),
    ("Sells physical products we can list", "Own stock or dropshipping; no services."),
    ("At least 20 orders a month today", "On any channel: own shop, other marketplaces, stores."),
    ("Can ship nationwide within 3 days", "Own logistics or a carrier contract."),
    ("Agreed a date for the commercial proposal", "Booked in the calendar with the AE."),
)


@dataclass
class RoutingSummary:
    rules: int
    calendars: int
    reasons: int
    checklist: int


def demo_routing(*, manager: User, users: dict[str, User], now: datetime) -> RoutingSummary:
    """The sales manager's routing set-up; the calendars are in place before any SLA clock."""
    teams = {team.name: team for team in Team.objects.all()}
    for team_name, (name, tz, country, hours) in CALENDARS.items():
        calendar_save(
            actor=manager,
            name=name,
            time_zone=tz,
            hours={day: hours for day in WEEKDAYS},
            holiday_country=country,
            closed_dates=[f"{now.year}-12-24", f"{now.year}-12-31"],
            team=teams[team_name],
        )
    for name, conditions, team_name, rep in RULES:
        rule_create(
            actor=manager,
            name=name,
            conditions=conditions,
            team=teams[team_name] if team_name else None,
            rep=users[rep] if rep else None,
        )
    for username, (weight, cap, away_days) in AVAILABILITY.items():
        availability_set(
            rep=users[username],
            actor=manager,
            weight=weight,
            max_open_leads=cap,
            out_of_office_until=now + timedelta(days=away_days) if away_days else None,
        )
    RejectionReason.objects.bulk_create(
        RejectionReason(code=slugify(label)[:50], label=label, position=10 * (n + 1))
        for n, label in enumerate(REJECT_REASONS)
    )
    QualificationItem.objects.bulk_create(
        QualificationItem(label=label, help_text=help_text, position=10 * (n + 1))
        for n, (label, help_text) in enumerate(CHECKLIST)
    )
    return RoutingSummary(
        rules=len(RULES),
        calendars=len(CALENDARS),
        reasons=len(REJECT_REASONS),
        checklist=len(CHECKLIST),
    )


def demo_routing_reset() -> None:
    """Everything above, and the SLA policies that may point at the calendars."""
    for model in (RoutingRule, RepAvailability, SlaPolicy, BusinessCalendar):
        model.objects.all().delete()
    for model in (QualificationItem, RejectionReason):
        model.objects.all().delete()
