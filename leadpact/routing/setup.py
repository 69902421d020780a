"""What routing reads besides the leads: the rules, the salespeople and their availability,
the teams, the SLA policies and the business calendars (its *set-up*), cached per process.

Every routing job, offer answer and clock start needs the set-up, and it changes rarely, so a
process keeps one copy and, before each use, reads the one-row stamp (``RoutingSetupStamp``)
whose token database triggers change in the same transaction as any change to those tables.
A token other than the cached one (or none at all) means: load again. The stamp is read
*before* the tables, so a change committed in between can only make the copy look older than
it is (reloaded next time), never newer: once a change has committed, no one routes on the
set-up from before it.

What moves with every offer (leads received, open leads) is not part of it: ``rep_slots``
counts those at each run.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from threading import Lock

from leadpact.accounts.models import Role, Team, User
from leadpact.routing import business_time
from leadpact.routing.engine.rules import Rule, RuleError, parse_conditions
from leadpact.routing.models import (
    BusinessCalendar,
    RoutingRule,
    RoutingSetupStamp,
    SlaPolicy,
)

logger = logging.getLogger(__name__)

SALES_ROLES = (Role.SALES_REP, Role.SALES_MANAGER)


@dataclass(frozen=True)
class Salesperson:
    """An active salesperson as routing sees them (their availability folded in)."""

    rep_id: int
    name: str
    team_id: int | None  # the team whose round-robin they take part in (reps only)
    weight: int = 1
    cap: int | None = None
    out_of_office_until: datetime | None = None


class RoutingSetup:
    """One copy of the set-up; each part is read when first used (a PolicyBook needs only
    the policies and calendars). A part read later than the stamp can only be newer than the
    stamp says, which the next stamp check notices (see the module's docstring).

    Take a copy only after the current transaction's own writes to the set-up tables: a copy
    taken before such a write and read lazily after it would hold rows that a rollback then
    undoes (no caller does this; ``user_deactivate`` writes first, then asks for the copy).
    On PostgreSQL the triggers make each change to a set-up table wait on the stamp row until
    the changing transaction commits: set-up changes are serialised, which they can afford
    (they are a manager's edits, not the hand-off's traffic)."""

    def __init__(self) -> None:
        # Calendars built from their rows (holidays included), filled as they are first used.
        self.built: dict[int, business_time.BusinessCalendar] = {}

    @cached_property
    def rules(self) -> tuple[Rule, ...]:
        """The active rules in order, parsed; a rule that no longer parses is skipped."""
        return tuple(_rules())

    @cached_property
    def people(self) -> tuple[Salesperson, ...]:
        return tuple(_people())

    @cached_property
    def teams(self) -> dict[int, str]:
        return dict(Team.objects.values_list("pk", "name"))

    @cached_property
    def policies(self) -> tuple[SlaPolicy, ...]:
        """The active SLA policies, with their calendar."""
        return tuple(
            SlaPolicy.objects.filter(is_active=True).select_related("calendar").order_by("id")
        )

    @cached_property
    def team_calendars(self) -> dict[int, BusinessCalendar]:
        return {c.team_id: c for c in BusinessCalendar.objects.filter(team__isnull=False)}


_cached: tuple[str, RoutingSetup] | None = None
_lock = Lock()


def routing_setup() -> RoutingSetup:
    """The current set-up: the cached copy when the stamp says it is current (one query),
    else a new copy (each part read when first used), cached under the stamp read first."""
    global _cached
    token = RoutingSetupStamp.objects.values_list("token", flat=True).first()
    cached = _cached
    if token is not None and cached is not None and cached[0] == token:
        return cached[1]
    setup = RoutingSetup()
    if token is not None:
        with _lock:
            _cached = (token, setup)
    return setup


def routing_setup_forget() -> None:
    """Drop the cached copy (the next use reads the tables again)."""
    global _cached
    with _lock:
        _cached = None


def _rules() -> list[Rule]:
    result = []
    for row in RoutingRule.objects.filter(is_active=True).order_by("position", "id"):
        try:
            conditions = parse_conditions(row.conditions)
        except RuleError:
            logger.warning("routing rule %s has invalid conditions; skipped", row.pk)
            continue
        result.append(Rule(row.pk, row.name, conditions, row.team_id, row.rep_id))
    return result


def _people() -> list[Salesperson]:
    """Every active salesperson. Only sales reps take part in their team's round-robin; a
    manager gets leads when a rule names them."""
    rows = User.objects.filter(is_active=True, role__in=SALES_ROLES).values(
        "pk",
        "first_name",
        "last_name",
        "username",
        "role",
        "team_id",
        "availability__weight",
        "availability__max_open_leads",
        "availability__out_of_office_until",
    )
    result = []
    for person in rows:
        name = f"{person['first_name']} {person['last_name']}".strip() or person["username"]
        result.append(
            Salesperson(
                rep_id=person["pk"],
                name=name,
                team_id=person["team_id"] if person["role"] == Role.SALES_REP else None,
                weight=person["availability__weight"] or 1,
                cap=person["availability__max_open_leads"],
                out_of_office_until=person["availability__out_of_office_until"],
            )
        )
    return result
