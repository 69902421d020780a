"""The lead profile's life: draft → proposed → approved → live → retired.

Marketing (or an admin) writes and proposes a draft; it needs one approval from a marketing
user and one from a sales manager, and nobody approves their own version. Going live retires
the previous live version and rescores every open lead, all in one transaction: on any
failure nothing is half-saved and the live profile stays as it was.
"""

from __future__ import annotations

import copy
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from leadpact.accounts.models import User
from leadpact.common.errors import ApplicationError, ConflictError, PermissionDeniedError
from leadpact.scoring.models import LeadProfile, ProfileEvent, ProfileStatus
from leadpact.scoring.roles import (
    APPROVER_ROLES,
    can_approve_profile,
    can_edit_profile,
    can_put_live,
)
from leadpact.scoring.scores import DEFAULT_RULES_JSON, ProfileScorer
from leadpact.scoring.selectors import profile_approvals
from leadpact.scoring.services.rescoring import RescoreResult, leads_rescore_all

A = ProfileEvent.Action
S = ProfileStatus
THRESHOLD_RANGE = (-10_000, 10_000)
POINTS_RANGE = (-1_000, 1_000)


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
    rules = engagement_rules if engagement_rules is not None else DEFAULT_RULES_JSON
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
    card, changes = apply_edits(current.scorecard, points or {})
    new_threshold = current.threshold if threshold in (None, "") else _check_threshold(threshold)
    rules = current.engagement_rules if engagement_rules is None else engagement_rules
    ProfileScorer.from_parts(card, rules, new_threshold)
    data: dict[str, Any] = {"points": changes}
    if new_threshold != current.threshold:
        data["threshold"] = {"old": current.threshold, "new": new_threshold}
    if rules != current.engagement_rules:
        data["engagement"] = {"old": current.engagement_rules, "new": rules}
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
    """Send a proposed or approved version back to draft (its approvals no longer count)."""
    if not (can_edit_profile(actor) or can_approve_profile(actor)):
        raise PermissionDeniedError("You may not send a lead profile back to draft.")
    current = _locked(profile)
    if current.status not in (S.PROPOSED, S.APPROVED):
        raise ConflictError("Only a proposed or approved version can go back to draft.")
    current.status = S.DRAFT
    current.save(update_fields=["status", "updated_at"])
    _audit(current, A.WITHDRAWN, actor, reason=reason.strip()[:300])
    return current


@transaction.atomic
def profile_go_live(
    *, profile: LeadProfile, actor: User | None
) -> tuple[LeadProfile, RescoreResult]:
    """Make an approved version the live one: retire the previous, rescore every open lead."""
    if actor is not None and not can_put_live(actor):
        raise PermissionDeniedError("You may not put a lead profile live.")
    current = _locked(profile)
    if current.status != S.APPROVED:
        raise ConflictError(
            f"Version {current.version} is {current.get_status_display().lower()}; it needs one "
            "marketing and one sales-manager approval before it can go live."
        )
    now = timezone.now()
    previous = LeadProfile.objects.select_for_update().filter(status=S.LIVE).first()
    if previous is not None:
        previous.status = S.RETIRED
        previous.effective_to = now
        previous.save(update_fields=["status", "effective_to", "updated_at"])
        _audit(previous, A.RETIRED, actor, replaced_by=current.version)
    current.status = S.LIVE
    current.effective_from = now
    current.effective_to = None
    try:
        with transaction.atomic():
            current.save(update_fields=["status", "effective_from", "effective_to", "updated_at"])
    except IntegrityError as exc:
        raise ConflictError("Another version went live at the same moment; try again.") from exc
    _audit(current, A.WENT_LIVE, actor, replaced=previous.version if previous else None)
    result = leads_rescore_all(profile=current, reason=f"profile v{current.version} live", now=now)
    return current, result
