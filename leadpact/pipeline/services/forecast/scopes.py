"""Whose forecast: a rep, a team or the company, who may see which, and the deals of each."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from leadpact.accounts.models import Role, Team, User
from leadpact.accounts.roles import has_role
from leadpact.common.errors import ApplicationError, PermissionDeniedError
from leadpact.common.numbers import is_whole_number
from leadpact.pipeline.models import (
    Deal,
)
from leadpact.pipeline.policies import visible_deals
from leadpact.pipeline.quota_policies import can_view_rep, can_view_team

# --- scopes ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """Whose forecast: a rep, a sales team, or (neither) every deal the viewer may see."""

    rep: User | None = None
    team: Team | None = None

    @property
    def key(self) -> str:
        if self.rep is not None:
            return f"rep:{self.rep.pk}"
        if self.team is not None:
            return f"team:{self.team.pk}"
        return "company"

    @property
    def label(self) -> str:
        return str(self.rep or self.team or "Everything you see")


def scope_check(user: Any, scope: Scope) -> None:
    """A rep sees their own forecast, a manager their teams' and reps', admins and marketing
    everyone's."""
    if scope.rep is not None and not can_view_rep(user, scope.rep):
        raise PermissionDeniedError("You may not see this rep's forecast.")
    if scope.team is not None and not can_view_team(user, scope.team):
        raise PermissionDeniedError("You may not see this team's forecast.")


def default_scope(user: Any) -> Scope:
    if has_role(user, Role.SALES_REP):
        return Scope(rep=user)
    if has_role(user, Role.SALES_MANAGER):
        team = user.managed_teams.order_by("name").first() or user.team
        return Scope(team=team) if team is not None else Scope(rep=user)
    return Scope()


def scope_deals(user: Any, scope: Scope) -> QuerySet[Deal]:
    """``user=None`` is the system (snapshots): every deal."""
    qs = Deal.objects.all() if user is None else visible_deals(user)
    if scope.rep is not None:
        return qs.filter(owner=scope.rep)
    if scope.team is not None:
        return qs.filter(owner__team=scope.team)
    return qs


# --- the open deals and their probabilities ----------------------------------------------------


def scope_from_key(key: str | None, *, user: Any) -> Scope:
    """``rep:<id>``, ``team:<id>`` or ``company``; empty: the viewer's own default. An unknown
    or malformed key is a clear error; one the viewer may not see, a refusal."""
    text = (key or "").strip()
    if not text:
        return default_scope(user)
    if text == "company":
        return Scope()
    kind, _, pk = text.partition(":")
    if kind not in ("rep", "team") or not is_whole_number(pk):
        raise ApplicationError(f"A scope is company, rep:<id> or team:<id>, got {text!r}.")
    if kind == "rep":
        rep = User.objects.filter(pk=int(pk)).select_related("team").first()
        if rep is None:
            raise ApplicationError(f"No such rep: {pk}.")
        scope = Scope(rep=rep)
    else:
        team = Team.objects.filter(pk=int(pk)).first()
        if team is None:
            raise ApplicationError(f"No such team: {pk}.")
        scope = Scope(team=team)
    scope_check(user, scope)
    return scope
