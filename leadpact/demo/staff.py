"""The people who work in the demo company, their teams and their demo passwords.

Kept as data so that ``leadpact demo`` creates them and ``leadpact demo_logins`` prints them
from the same list. The passwords are deliberately simple: the demo is for looking around.
"""

from __future__ import annotations

from dataclasses import dataclass

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
