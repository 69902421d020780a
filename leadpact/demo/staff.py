"""The people who work in the demo company, their teams and their demo passwords.

Kept as data so that ``leadpact demo`` creates them and ``leadpact demo_logins`` prints them
from the same list. The passwords are deliberately simple: the demo is for looking around.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from leadpact.accounts.models import Role, Team


@dataclass(frozen=True)
class StaffMember:
    username: str
    first_name: str
    last_name: str
    role: str
    title: str
    team: str  # a key of TEAMS, or ""
    look_at: str  # what this person should look at in the demo

    @property
    def password(self) -> str:
        return f"{self.username}-demo"

    @property
    def email(self) -> str:
        return f"{self.username}@leadpact.example"


# name → (kind, manager username)
TEAMS: dict[str, tuple[str, str]] = {
    "Marketing": (Team.Kind.MARKETING, "maria"),
    "Sales development": (Team.Kind.SALES, "grace"),
    "Account executives": (Team.Kind.SALES, "grace"),
}

STAFF: tuple[StaffMember, ...] = (
    StaffMember(
        "admin",
        "Rita",
        "Okafor",
        Role.ADMIN,
        "Revenue operations lead",
        "",
        "people and teams, imports, API tokens, everything",
    ),
    StaffMember(
        "maria",
        "Maria",
        "Costa",
        Role.MARKETING,
        "Head of marketing",
        "Marketing",
        "campaigns and how their leads fare in sales, web forms",
    ),
    StaffMember(
        "tom",
        "Tom",
        "Becker",
        Role.MARKETING,
        "Marketing operations",
        "Marketing",
        "imports, duplicates, recycled leads and the rejection reasons",
    ),
    StaffMember(
        "sam",
        "Sam",
        "Patel",
        Role.SALES_REP,
        "Sales development rep",
        "Sales development",
        "leads offered to you: accept or reject them",
    ),
    StaffMember(
        "lucas",
        "Lucas",
        "Almeida",
        Role.SALES_REP,
        "Sales development rep",
        "Sales development",
        "your accepted leads and their timelines",
    ),
    StaffMember(
        "priya",
        "Priya",
        "Nair",
        Role.SALES_REP,
        "Sales development rep",
        "Sales development",
        "your queue, notes on your leads",
    ),
    StaffMember(
        "ana",
        "Ana",
        "Ribeiro",
        Role.SALES_REP,
        "Account executive",
        "Account executives",
        "your opportunities, won and lost deals",
    ),
    StaffMember(
        "david",
        "David",
        "Kim",
        Role.SALES_REP,
        "Account executive",
        "Account executives",
        "your opportunities, won and lost deals",
    ),
    StaffMember(
        "grace",
        "Grace",
        "Mensah",
        Role.SALES_MANAGER,
        "Sales manager",
        "Sales development",
        "your teams' leads, reassigning work",
    ),
)

SDRS = ("sam", "lucas", "priya")
ACCOUNT_EXECUTIVES = ("ana", "david")
MARKETERS = ("maria", "tom")
MANAGER = "grace"


# When the demo's people work: the sales-development office's hours (São Paulo, Monday to
# Friday 08:30-18:00; its calendar in demo/routing.py also has a lunch break and holidays).
OFFICE_ZONE = ZoneInfo("America/Sao_Paulo")
OFFICE_OPENS, OFFICE_CLOSES = time(8, 30), time(18, 0)


def working_hours(at: datetime) -> datetime:
    """``at`` if it falls in office hours, else the next opening plus a few minutes to two
    hours (from ``at``'s own minutes, so the same input always gives the same answer)."""
    local = at.astimezone(OFFICE_ZONE)
    if local.weekday() < 5 and OFFICE_OPENS <= local.time() < OFFICE_CLOSES:
        return at
    day = local.date() if local.time() < OFFICE_OPENS else local.date() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    delay = timedelta(minutes=5 + (local.hour * 60 + local.minute) * 7 % 115)
    opening = datetime.combine(day, OFFICE_OPENS, tzinfo=OFFICE_ZONE) + delay
    return opening.astimezone(at.tzinfo)
