"""Reads of the lead profile: the live version, the versions, their approvals and diffs."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from leadpact.leads.models import Lead, TimelineEvent
from leadpact.scoring.models import FitRun, LeadProfile, ProfileEvent, ProfileStatus, RescoreRun


def profile_live() -> LeadProfile | None:
    return LeadProfile.objects.filter(status=ProfileStatus.LIVE).first()


def profile_live_for_scoring() -> LeadProfile | None:
    """The live profile without its large JSON (scorecard, engagement rules, report): scoring
    at capture finds the compiled scorer cached by ``(pk, updated_at)`` and reads the
    scorecard (one more query) only when it is not."""
    return (
        LeadProfile.objects.filter(status=ProfileStatus.LIVE)
        .defer("scorecard", "engagement_rules", "report")
        .first()
    )


def profile_scheduled() -> list[LeadProfile]:
    """Versions waiting for their effective date, soonest first."""
    return list(
        LeadProfile.objects.filter(status=ProfileStatus.SCHEDULED).order_by("effective_from")
    )


def rescore_run_latest() -> RescoreRun | None:
    """The latest rescoring of the open leads (its progress while it runs)."""
    return RescoreRun.objects.select_related("profile").order_by("-id").first()


def fit_runs_recent(*, limit: int = 10) -> list[FitRun]:
    """The latest fits, queued, running or finished, with who asked and the draft they made."""
    return list(FitRun.objects.select_related("actor", "profile").order_by("-id")[:limit])


def profile_list() -> QuerySet[LeadProfile]:
    return LeadProfile.objects.select_related("author").order_by("-version")


def profile_get(*, profile_id: int) -> LeadProfile:
    """Raises LeadProfile.DoesNotExist."""
    return LeadProfile.objects.select_related("author", "based_on").get(pk=profile_id)


def profile_events(*, profile: LeadProfile) -> list[ProfileEvent]:
    return list(profile.events.select_related("actor").order_by("occurred_at", "id"))


def profile_approvals(*, profile: LeadProfile) -> list[ProfileEvent]:
    """Approvals of the current proposal round (those after the latest proposal)."""
    events = profile_events(profile=profile)
    last_proposal = max(
        (e.id for e in events if e.action == ProfileEvent.Action.PROPOSED), default=None
    )
    if last_proposal is None:
        return []
    return [e for e in events if e.action == ProfileEvent.Action.APPROVED and e.id > last_proposal]


def _points_table(spec: dict[str, Any]) -> dict[tuple[str, str], int]:
    return {
        (a["attribute"], row["bin"]): int(row["points"])
        for a in spec.get("attributes", [])
        for row in a["bins"]
    }


def rules_changes(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Engagement rules that differ, per touch kind (``old``/``new`` None: added/removed)."""
    before = {r["kind"]: r for r in old}
    after = {r["kind"]: r for r in new}
    return [
        {"kind": kind, "old": before.get(kind), "new": after.get(kind)}
        for kind in dict.fromkeys([*before, *after])
        if before.get(kind) != after.get(kind)
    ]


def profile_diff(old: LeadProfile, new: LeadProfile) -> dict[str, Any]:
    """What changed from ``old`` to ``new``: points per (attribute, bin), attributes added or
    removed, base points, threshold and engagement rules."""
    a, b = _points_table(old.scorecard), _points_table(new.scorecard)
    old_attrs = [x["attribute"] for x in old.scorecard.get("attributes", [])]
    new_attrs = [x["attribute"] for x in new.scorecard.get("attributes", [])]
    points = [
        {"attribute": attr, "bin": label, "old": a.get((attr, label)), "new": b.get((attr, label))}
        for attr, label in dict.fromkeys([*a, *b])
        if a.get((attr, label)) != b.get((attr, label))
    ]
    rules = rules_changes(old.engagement_rules, new.engagement_rules)
    return {
        "old": old.version,
        "new": new.version,
        "threshold": None
        if old.threshold == new.threshold
        else {"old": old.threshold, "new": new.threshold},
        "base_points": None
        if old.scorecard.get("base_points") == new.scorecard.get("base_points")
        else {"old": old.scorecard.get("base_points"), "new": new.scorecard.get("base_points")},
        "added": [x for x in new_attrs if x not in old_attrs],
        "removed": [x for x in old_attrs if x not in new_attrs],
        "points": points,
        "engagement": rules,
        "unchanged": not points
        and not rules
        and old.threshold == new.threshold
        and old.scorecard.get("base_points") == new.scorecard.get("base_points")
        and old_attrs == new_attrs,
    }


def lead_score_event(*, lead: Lead) -> TimelineEvent | None:
    """The lead's latest score change: its score's explanation."""
    return (
        TimelineEvent.objects.filter(lead=lead, kind=TimelineEvent.Kind.SCORE_CHANGE)
        .order_by("-occurred_at", "-id")
        .first()
    )
