"""Quotas and targets, and the managers' forecast adjustments. One function per change, each
in a transaction, checking its preconditions and raising ``ApplicationError`` with a clear
message; the pages, the API and the demo all call these.

Documented behaviour:

* One quota per (kind, rep or team or company, period). Setting it again *updates* the target
  (``set_by``/``updated_at`` record who and when); the answer says whether it was new.
* A monthly and a quarterly quota for the same rep may coexist (different periods); the
  quarter's is not the sum of the months'.
* No new quota for a rep who has left (an inactive user): a clear error. Their earlier quotas
  stay and are shown marked as such.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction

from leadpact.accounts.models import Role, Team, User
from leadpact.common.errors import ApplicationError, PermissionDeniedError
from leadpact.pipeline.models import ForecastAdjustment, Quota
from leadpact.pipeline.money import money_clean
from leadpact.pipeline.periods import Period
from leadpact.pipeline.quota_policies import (
    can_adjust_forecast,
    can_set_marketing_targets,
    can_set_sales_quota,
)

MARKETING_KINDS = (Quota.Kind.MQLS, Quota.Kind.MARKETING_PIPELINE)
MAX_MQLS = Decimal("1000000000")


def _decimal(raw: Any, label: str) -> Decimal:
    if isinstance(raw, float):
        raise ApplicationError(
            f"Give the {label} as a decimal string such as '25000.00', not a float.",
            extra={"target": ["Not a decimal."]},
        )
    try:
        value = Decimal(str(raw).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        raise ApplicationError(
            f"The {label} must be a number, got {raw!r}.", extra={"target": ["Not a number."]}
        ) from None
    if not value.is_finite():
        raise ApplicationError(f"The {label} must be a finite number.")
    if value < 0:
        raise ApplicationError(
            f"A {label} can't be negative ({value}).", extra={"target": ["Negative."]}
        )
    return value


def _check_rep(rep: User) -> None:
    if not rep.is_active:
        raise ApplicationError(
            f"{rep} has left (their account is inactive): no new quota can be set for them. "
            "Their earlier quotas are kept.",
            code="rep_left",
            extra={"rep": ["Has left."]},
        )
    if rep.role not in (Role.SALES_REP, Role.SALES_MANAGER):
        raise ApplicationError(
            f"{rep} is not a salesperson; revenue quotas are for sales reps and managers.",
            extra={"rep": ["Not in sales."]},
        )


@dataclass
class QuotaResult:
    quota: Quota
    created: bool


@transaction.atomic
def quota_set(
    *,
    actor: User | None,
    kind: str,
    period: Period,
    target: Any,
    currency: str = "",
    rep: User | None = None,
    team: Team | None = None,
) -> QuotaResult:
    """Set (or update) the ``kind`` quota of a rep, a sales team, or (marketing) the company
    for ``period``. ``actor=None`` is the system (the demo); anyone else needs the right."""
    if kind not in Quota.Kind.values:
        raise ApplicationError(
            f"A quota is one of {', '.join(Quota.Kind.values)}, not {kind!r}.",
            extra={"kind": ["Unknown kind."]},
        )
    if kind == Quota.Kind.REVENUE:
        if (rep is None) == (team is None):
            raise ApplicationError(
                "A revenue quota is for one rep or one sales team: choose exactly one.",
                extra={"rep": ["Choose a rep or a team."]},
            )
        if actor is not None and not can_set_sales_quota(actor, rep=rep, team=team):
            raise PermissionDeniedError(
                "Only admins, and sales managers for their own teams, set sales quotas."
            )
        if rep is not None:
            _check_rep(rep)
        if team is not None and team.kind != Team.Kind.SALES:
            raise ApplicationError(f"{team} is not a sales team.", extra={"team": ["Not sales."]})
        value = _decimal(target, "quota")
        value, code = money_clean(value, currency)
    else:
        if actor is not None and not can_set_marketing_targets(actor):
            raise PermissionDeniedError("Only marketing and admins set marketing targets.")
        if rep is not None or team is not None:
            raise ApplicationError(
                "Marketing targets are company-wide: leave the rep and team empty.",
                extra={"rep": ["Not for marketing targets."]},
            )
        if kind == Quota.Kind.MQLS:
            value = _decimal(target, "target")
            if (currency or "").strip():
                raise ApplicationError(
                    "An MQL target is a count of leads: it has no currency.",
                    extra={"currency": ["Not for a count."]},
                )
            if value != value.to_integral_value() or value > MAX_MQLS:
                raise ApplicationError(
                    f"An MQL target is a whole number of leads, got {value}.",
                    extra={"target": ["Not a whole number."]},
                )
            value, code = value.quantize(Decimal("0.01")), ""
        else:
            value, code = money_clean(_decimal(target, "target"), currency)
    set_by = actor if getattr(actor, "pk", None) else None
    scope = {"kind": kind, "rep": rep, "team": team, "start": period.start, "end": period.end}
    # Setting it again updates it; update_or_create locks the row and, when someone else
    # created it a moment ago, updates theirs.
    quota, created = Quota.objects.update_or_create(
        **scope,
        defaults={"target": value, "currency": code, "set_by": set_by, "period_kind": period.kind},
    )
    return QuotaResult(quota, created=created)


@transaction.atomic
def quota_delete(*, actor: User, quota: Quota) -> None:
    if quota.kind == Quota.Kind.REVENUE:
        allowed = can_set_sales_quota(actor, rep=quota.rep, team=quota.team)
    else:
        allowed = can_set_marketing_targets(actor)
    if not allowed:
        raise PermissionDeniedError("You may not remove this quota.")
    quota.delete()


@transaction.atomic
def forecast_adjustment_set(
    *,
    actor: User,
    rep: User,
    start: date,
    end: date,
    currency: str,
    commit: Any,
    best_case: Any = None,
    note: str = "",
) -> ForecastAdjustment:
    """The manager's call on ``rep``'s period: what they commit to (and their best case),
    recorded beside the rep's own roll-up; setting it again updates it."""
    if end < start:
        raise ApplicationError(
            f"The period ends ({end.isoformat()}) before it starts ({start.isoformat()}).",
            extra={"end": ["Before the start."]},
        )
    if not can_adjust_forecast(actor, rep):
        raise PermissionDeniedError("Only admins and the rep's manager adjust their forecast.")
    if not rep.is_active:
        raise ApplicationError(
            f"{rep} has left: their forecast can't be adjusted.", code="rep_left"
        )
    if commit in (None, ""):
        raise ApplicationError("Give your commit amount.", extra={"commit": ["Required."]})
    commit_value, code = money_clean(_decimal(commit, "commit"), currency)
    best_value = None
    if best_case not in (None, ""):
        best_value, _ = money_clean(_decimal(best_case, "best case"), code)
        if best_value < commit_value:
            raise ApplicationError(
                f"The best case ({best_value}) is below the commit ({commit_value}).",
                extra={"best_case": ["Below the commit."]},
            )
    values = {
        "commit": commit_value,
        "best_case": best_value,
        "note": (note or "").strip()[:2000],
        "set_by": actor if getattr(actor, "pk", None) else None,
    }
    adjustment, _ = ForecastAdjustment.objects.select_for_update().update_or_create(
        rep=rep, start=start, end=end, currency=code, defaults=values
    )
    return adjustment
