"""The lead profile's life: draft → proposed → approved → live → retired.

Marketing (or an admin) writes and proposes a draft; it needs one approval from a marketing
user and one from a sales manager, and nobody approves their own version; either side may
reject a proposal (back to draft, with a reason). Going live retires the previous live version
and starts the rescoring of every open lead, in one short transaction: on any failure nothing
is half-saved and the live profile stays as it was. The rescoring itself is a background run
of committed chunks (``services.rescoring``). An approved version given a future effective
date is *scheduled*; ``profiles_go_live_due`` (a periodic job) puts it live at that time.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from leadpact.accounts.models import User
from leadpact.campaigns.models import TouchKind
from leadpact.common.errors import ApplicationError, ConflictError, PermissionDeniedError
from leadpact.scoring.models import LeadProfile, ProfileEvent, ProfileStatus, RescoreRun
from leadpact.scoring.roles import (
    APPROVER_ROLES,
    can_approve_profile,
    can_edit_profile,
    can_put_live,
)
from leadpact.scoring.scores import DEFAULT_RULES_JSON, ProfileScorer
from leadpact.scoring.selectors import profile_approvals, rules_changes
from leadpact.scoring.services.rescoring import rescore_run_start

A = ProfileEvent.Action
S = ProfileStatus
THRESHOLD_RANGE = (-10_000, 10_000)
POINTS_RANGE = (-1_000, 1_000)
MAX_DAYS = 3650
#: A date this far in the past is taken as a mistake, not as "now".
PAST_TOLERANCE = timedelta(minutes=5)


def _audit(profile: LeadProfile, action: str, actor: User | None, **data: Any) -> None:
    ProfileEvent.objects.create(
        profile=profile,
        action=action,
        actor=actor,
        actor_role=getattr(actor, "role", "") or "",
        data=data,
        occurred_at=timezone.now(),
    )


def _locked(profile: LeadProfile) -> LeadProfile:
    return LeadProfile.objects.select_for_update().get(pk=profile.pk)


def _check_threshold(threshold: Any) -> int:
    try:
        value = int(threshold)
    except (TypeError, ValueError):
        raise ApplicationError("The threshold must be a whole number of points.") from None
    if not THRESHOLD_RANGE[0] <= value <= THRESHOLD_RANGE[1]:
        raise ApplicationError(
            f"The threshold must be between {THRESHOLD_RANGE[0]} and {THRESHOLD_RANGE[1]}."
        )
    return value


def _number(raw: Any, what: str, *, low: float, high: float, low_open: bool = False) -> float:
    try:
        value = float(str(raw).strip())
    except (TypeError, ValueError):
        raise ApplicationError(f"{what} must be a number (got {raw!r}).") from None
    if not math.isfinite(value) or value > high or (value <= low if low_open else value < low):
        bound = f"more than {low:g}" if low_open else f"at least {low:g}"
        raise ApplicationError(f"{what} must be {bound} and at most {high:g} (got {raw!r}).")
    return value


def clean_engagement_rules(items: Any) -> list[dict[str, Any]]:
    """The engagement rules table as stored: one row per touch kind with points, half-life
    (days), cap per period (empty: no cap) and period (days). Raises ApplicationError naming
    the kind and the field at fault."""
    if not isinstance(items, list | tuple):
        raise ApplicationError("Engagement rules must be a list of rows, one per touch kind.")
    kinds = dict(TouchKind.choices)
    seen: set[str] = set()
    rules = []
    for item in items:
        if not isinstance(item, dict):
            raise ApplicationError("Each engagement rule must be an object with a kind.")
        kind = str(item.get("kind") or "").strip()
        if not kind:
            raise ApplicationError("Each engagement rule needs a touch kind.")
        if kind not in kinds:
            raise ApplicationError(
                f"Unknown touch kind {kind!r}; choose one of: {', '.join(kinds)}."
            )
        if kind in seen:
            raise ApplicationError(f"The touch kind {kinds[kind]!r} appears twice.")
        seen.add(kind)
        label = kinds[kind]
        points = _number(
            item.get("points"), f"Points for {label}", low=POINTS_RANGE[0], high=POINTS_RANGE[1]
        )
        half_life = _number(
            item.get("half_life_days", 30),
            f"Half-life for {label} (days)",
            low=0,
            high=MAX_DAYS,
            low_open=True,
        )
        raw_cap = item.get("cap")
        cap = (
            None
            if raw_cap is None or str(raw_cap).strip() == ""
            else _number(raw_cap, f"Cap for {label}", low=0, high=POINTS_RANGE[1] * 10)
        )
        period = _number(
            item.get("period_days", 30),
            f"Cap period for {label} (days)",
            low=0,
            high=MAX_DAYS,
            low_open=True,
        )
        rules.append(
            {
                "kind": kind,
                "points": _whole(points),
                "half_life_days": _whole(half_life),
                "cap": None if cap is None else _whole(cap),
                "period_days": _whole(period),
            }
        )
    return rules


def _whole(value: float) -> float | int:
    """3.0 is stored as 3 (the table reads as people typed it)."""
    return int(value) if float(value).is_integer() else value


@transaction.atomic
def profile_create_draft(
    *,
    actor: User | None,
    scorecard: dict[str, Any],
    threshold: int,
    engagement_rules: list[dict[str, Any]] | None = None,
    report: dict[str, Any] | None = None,
    name: str = "",
    source: str = "",
    based_on: LeadProfile | None = None,
) -> LeadProfile:
    """A new draft version; ``actor=None`` is the system (CLI, fit job started by a user)."""
    if actor is not None and not can_edit_profile(actor):
        raise PermissionDeniedError("Only marketing or an admin may write a lead profile draft.")
    rules = clean_engagement_rules(
        engagement_rules if engagement_rules is not None else DEFAULT_RULES_JSON
    )
    threshold = _check_threshold(threshold)
    ProfileScorer.from_parts(scorecard, rules, threshold)  # refuses what cannot score
    version = (LeadProfile.objects.aggregate(v=Max("version"))["v"] or 0) + 1
    profile = LeadProfile.objects.create(
        version=version,
        name=(name or f"Version {version}")[:200],
        author=actor,
        based_on=based_on,
        scorecard=scorecard,
        engagement_rules=rules,
        threshold=threshold,
        report=report or {},
        source=source[:200],
    )
    _audit(
        profile, A.CREATED, actor, source=source, based_on=based_on.version if based_on else None
    )
    return profile


@transaction.atomic
def profile_copy_to_draft(*, profile: LeadProfile, actor: User) -> LeadProfile:
    """Start a new draft from any version (to edit points or the threshold of the live one)."""
    return profile_create_draft(
        actor=actor,
        scorecard=copy.deepcopy(profile.scorecard),
        threshold=profile.threshold,
        engagement_rules=copy.deepcopy(profile.engagement_rules),
        report=profile.report,
        name=f"Edit of version {profile.version}",
        source=f"copy of v{profile.version}",
        based_on=profile,
    )


def apply_edits(
    scorecard: dict[str, Any], points: dict[tuple[str, int], Any]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A copy of ``scorecard`` with ``points[(attribute, bin index)]`` applied, and the list of
    changes. Unknown attributes or bins and non-integer points raise ApplicationError."""
    card = copy.deepcopy(scorecard)
    by_name = {a["attribute"]: a for a in card.get("attributes", [])}
    changes = []
    for (name, index), raw in points.items():
        attribute = by_name.get(name)
        if attribute is None or not 0 <= index < len(attribute["bins"]):
            raise ApplicationError(f"No bin {index} of attribute {name!r} in this scorecard.")
        try:
            value = int(str(raw).strip())
        except ValueError:
            raise ApplicationError(
                f"Points for {name!r} / {attribute['bins'][index]['bin']!r} must be a whole "
                f"number (got {raw!r})."
            ) from None
        if not POINTS_RANGE[0] <= value <= POINTS_RANGE[1]:
            raise ApplicationError(
                f"Points must be between {POINTS_RANGE[0]} and {POINTS_RANGE[1]}."
            )
        row = attribute["bins"][index]
        if row["points"] != value:
            changes.append(
                {"attribute": name, "bin": row["bin"], "old": row["points"], "new": value}
            )
            row["points"] = value
    return card, changes


@dataclass(frozen=True)
class DraftEdit:
    """A draft as edited: checked, not saved (the what-if shows it, the save stores it)."""

    scorecard: dict[str, Any]
    changes: list[dict[str, Any]]
    threshold: int
    engagement_rules: list[dict[str, Any]]
    scorer: ProfileScorer


def draft_edited(
    *,
    profile: LeadProfile,
    points: dict[tuple[str, int], Any] | None = None,
    threshold: Any = None,
    engagement_rules: list[dict[str, Any]] | None = None,
) -> DraftEdit:
    """``profile`` with these edits applied and checked (points, threshold, engagement rules);
    an ``ApplicationError`` names what is wrong."""
    card, changes = apply_edits(profile.scorecard, points or {})
    new_threshold = profile.threshold if threshold in (None, "") else _check_threshold(threshold)
    rules = (
        profile.engagement_rules
        if engagement_rules is None
        else clean_engagement_rules(engagement_rules)
    )
    scorer = ProfileScorer.from_parts(card, rules, new_threshold)
    return DraftEdit(card, changes, new_threshold, rules, scorer)


@transaction.atomic
def profile_update_draft(
    *,
    profile: LeadProfile,
    actor: User,
    points: dict[tuple[str, int], Any] | None = None,
    threshold: Any = None,
    engagement_rules: list[dict[str, Any]] | None = None,
) -> LeadProfile:
    """Edit a draft's points, threshold or engagement rules; only drafts can change."""
    if not can_edit_profile(actor):
        raise PermissionDeniedError("Only marketing or an admin may edit a lead profile draft.")
    current = _locked(profile)
    if current.status != S.DRAFT:
        raise ConflictError(
            f"Version {current.version} is {current.get_status_display().lower()}; only a draft "
            "can be edited (start a new draft from it)."
        )
    edited = draft_edited(
        profile=current, points=points, threshold=threshold, engagement_rules=engagement_rules
    )
    card, changes, new_threshold, rules = (
        edited.scorecard,
        edited.changes,
        edited.threshold,
        edited.engagement_rules,
    )
    data: dict[str, Any] = {"points": changes}
    if new_threshold != current.threshold:
        data["threshold"] = {"old": current.threshold, "new": new_threshold}
    if rules != current.engagement_rules:
        data["engagement"] = rules_changes(current.engagement_rules, rules)
    current.scorecard, current.threshold, current.engagement_rules = card, new_threshold, rules
    current.save(update_fields=["scorecard", "threshold", "engagement_rules", "updated_at"])
    _audit(current, A.EDITED, actor, **data)
    return current


@transaction.atomic
def profile_propose(*, profile: LeadProfile, actor: User) -> LeadProfile:
    if not can_edit_profile(actor):
        raise PermissionDeniedError("Only marketing or an admin may propose a lead profile.")
    current = _locked(profile)
    if current.status != S.DRAFT:
        raise ConflictError(
            f"Only a draft can be proposed; version {current.version} is "
            f"{current.get_status_display().lower()}."
        )
    current.status = S.PROPOSED
    current.save(update_fields=["status", "updated_at"])
    _audit(current, A.PROPOSED, actor)
    return current


@transaction.atomic
def profile_approve(*, profile: LeadProfile, actor: User) -> LeadProfile:
    """One side's approval. With one marketing and one sales-manager approval, none by the
    author, the version becomes approved (ready to go live)."""
    if not can_approve_profile(actor):
        raise PermissionDeniedError(
            "Only a marketing user or a sales manager may approve a lead profile."
        )
    current = _locked(profile)
    if current.status != S.PROPOSED:
        raise ConflictError(
            f"Only a proposed version can be approved; version "
            f"{current.version} is {current.get_status_display().lower()}."
        )
    if current.author_id == actor.pk:
        raise PermissionDeniedError(
            "You wrote this version: another marketing user and a sales manager must approve it.",
            code="own_version",
        )
    approvals = profile_approvals(profile=current)
    if any(a.actor_id == actor.pk for a in approvals):
        raise ConflictError("You have already approved this version.")
    if any(a.actor_role == actor.role for a in approvals):
        raise ConflictError(
            f"This version already has its {actor.get_role_display().lower()} approval; it "
            f"waits for the other side."
        )
    _audit(current, A.APPROVED, actor)
    roles = {a.actor_role for a in approvals} | {actor.role}
    if all(role in roles for role in APPROVER_ROLES):
        current.status = S.APPROVED
        current.save(update_fields=["status", "updated_at"])
    return current


@transaction.atomic
def profile_withdraw(*, profile: LeadProfile, actor: User, reason: str = "") -> LeadProfile:
    """Send a proposed, approved or scheduled version back to draft (its approvals no longer
    count; a schedule is cancelled)."""
    if not (can_edit_profile(actor) or can_approve_profile(actor)):
        raise PermissionDeniedError("You may not send a lead profile back to draft.")
    current = _locked(profile)
    if current.status not in (S.PROPOSED, S.APPROVED, S.SCHEDULED):
        raise ConflictError("Only a proposed, approved or scheduled version can go back to draft.")
    current.status = S.DRAFT
    current.effective_from = None
    current.save(update_fields=["status", "effective_from", "updated_at"])
    _audit(current, A.WITHDRAWN, actor, reason=reason.strip()[:300])
    return current


@transaction.atomic
def profile_reject(*, profile: LeadProfile, actor: User, reason: str) -> LeadProfile:
    """One side turns a proposal down: back to draft, with the reason in the audit trail."""
    if not can_approve_profile(actor):
        raise PermissionDeniedError(
            "Only a marketing user or a sales manager may reject a lead profile."
        )
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError("Say why you reject this version (the author reads it).")
    current = _locked(profile)
    if current.status != S.PROPOSED:
        raise ConflictError(
            f"Only a proposed version can be rejected; version {current.version} is "
            f"{current.get_status_display().lower()}."
        )
    if current.author_id == actor.pk:
        raise PermissionDeniedError(
            "You wrote this version: send it back to draft instead of rejecting it.",
            code="own_version",
        )
    current.status = S.DRAFT
    current.save(update_fields=["status", "updated_at"])
    _audit(current, A.REJECTED, actor, reason=reason[:300])
    return current


def _put_live(
    current: LeadProfile, actor: User | None, *, expected: str, at: datetime, now: datetime
) -> tuple[LeadProfile, RescoreRun]:
    """The live switch (in the caller's transaction): retire the live version, claim
    ``current`` with a conditional UPDATE from the status it was read in, start the rescore."""
    previous = (
        LeadProfile.objects.select_for_update().filter(status=S.LIVE).exclude(pk=current.pk).first()
    )
    if previous is not None and previous.effective_from and at < previous.effective_from:
        at = previous.effective_from  # it went live after this one's date: no overlap
    if previous is not None:
        LeadProfile.objects.filter(pk=previous.pk, status=S.LIVE).update(
            status=S.RETIRED, effective_to=at, updated_at=now
        )
        _audit(previous, A.RETIRED, actor, replaced_by=current.version)
    try:
        with transaction.atomic():
            claimed = LeadProfile.objects.filter(pk=current.pk, status=expected).update(
                status=S.LIVE, effective_from=at, effective_to=None, updated_at=now
            )
    except IntegrityError as exc:
        raise ConflictError("Another version went live at the same moment; try again.") from exc
    if not claimed:
        raise ConflictError(f"Version {current.version} changed meanwhile; reload and try again.")
    current.refresh_from_db()
    _audit(current, A.WENT_LIVE, actor, replaced=previous.version if previous else None)
    run = rescore_run_start(profile=current, reason=f"profile v{current.version} live", now=now)
    return current, run


@transaction.atomic
def profile_go_live(
    *,
    profile: LeadProfile,
    actor: User | None,
    effective_from: datetime | None = None,
    now: datetime | None = None,
) -> tuple[LeadProfile, RescoreRun | None]:
    """Make an approved (or scheduled) version the live one now: retire the previous and start
    rescoring every open lead in the background. With a future ``effective_from`` the version
    is scheduled instead (``None`` run); ``profiles_go_live_due`` puts it live then."""
    if actor is not None and not can_put_live(actor):
        raise PermissionDeniedError("You may not put a lead profile live.")
    current = _locked(profile)
    if current.status not in (S.APPROVED, S.SCHEDULED):
        raise ConflictError(
            f"Version {current.version} is {current.get_status_display().lower()}; it needs one "
            "marketing and one sales-manager approval before it can go live."
        )
    now = now or timezone.now()
    if effective_from is not None:
        if timezone.is_naive(effective_from):
            raise ApplicationError("The effective date needs a time zone.")
        if effective_from < now - PAST_TOLERANCE:
            raise ApplicationError(
                "The effective date is in the past; leave it empty to go live now."
            )
        if effective_from > now:
            current.status = S.SCHEDULED
            current.effective_from = effective_from
            current.save(update_fields=["status", "effective_from", "updated_at"])
            _audit(current, A.SCHEDULED, actor, effective_from=effective_from.isoformat())
            return current, None
    return _put_live(current, actor, expected=current.status, at=now, now=now)


def profiles_go_live_due(*, now: datetime | None = None) -> list[int]:
    """The periodic job: every scheduled version whose time has come goes live, in date order
    (the latest due one stays live), each in its own transaction, each exactly once: it is
    locked and claimed from ``scheduled``, so a second runner finds nothing left to do.
    Returns the versions put live."""
    now = now or timezone.now()
    due = list(
        LeadProfile.objects.filter(status=S.SCHEDULED, effective_from__lte=now)
        .order_by("effective_from", "version")
        .values_list("pk", flat=True)
    )
    went: list[int] = []
    for pk in due:
        try:
            with transaction.atomic():
                current = LeadProfile.objects.select_for_update().get(pk=pk)
                if current.status != S.SCHEDULED or current.effective_from > now:
                    continue  # withdrawn, or another runner took it live
                live, _ = _put_live(
                    current, None, expected=S.SCHEDULED, at=current.effective_from, now=now
                )
                went.append(live.version)
        except (ConflictError, LeadProfile.DoesNotExist):
            continue  # another runner was first: exactly once
    return went
