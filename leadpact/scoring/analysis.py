"""What the profile page computes from recent leads: the threshold by capacity, drift since
going live, the live AUC, and the what-if of a draft against the live profile.

Reads only (selectors for the page and the CLI): recent leads → arrays → the engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from django.core.cache import cache
from django.utils import timezone

from leadpact.common.errors import ApplicationError
from leadpact.leads.models import Lead, LeadState
from leadpact.scoring.engine.drift import drift_report
from leadpact.scoring.engine.threshold import threshold_by_capacity
from leadpact.scoring.engine.validation import metrics
from leadpact.scoring.frames import LeadRows, lead_rows, touch_arrays
from leadpact.scoring.models import LeadProfile
from leadpact.scoring.scores import ProfileScorer

DEFAULT_WEEKS = 12
MAX_SAMPLE = 200_000
DRIFT_TTL = 600  # seconds the live page reuses a drift report (it reads every recent lead)


def recent_rows(*, since: datetime, until: datetime | None = None) -> LeadRows:
    queryset = Lead.objects.filter(merged_into__isnull=True, captured_at__gte=since)
    if until is not None:
        queryset = queryset.filter(captured_at__lt=until)
    return lead_rows(queryset.order_by("-captured_at")[:MAX_SAMPLE])


def _outcome_or_probability(rows: LeadRows, scorer: ProfileScorer, fit: np.ndarray) -> np.ndarray:
    """Closed leads count with their outcome; open ones with the probability their score implies."""
    states = np.asarray(rows.states, dtype=object)
    p = scorer.compiled.probability(fit)
    return np.select([states == LeadState.WON, states == LeadState.LOST], [1.0, 0.0], p)


@dataclass(frozen=True)
class CapacityInput:
    capacity_per_week: float
    deal_value: float
    cost_per_lead: float
    weeks: int = DEFAULT_WEEKS

    @classmethod
    def from_params(cls, params: Any) -> CapacityInput | None:
        """From the page's query string; ``None`` when not asked; ApplicationError when bad."""
        if not params.get("capacity"):
            return None
        try:
            value = cls(
                capacity_per_week=float(params.get("capacity")),
                deal_value=float(params.get("deal_value") or 0),
                cost_per_lead=float(params.get("cost_per_lead") or 0),
                weeks=int(params.get("weeks") or DEFAULT_WEEKS),
            )
        except (TypeError, ValueError):
            raise ApplicationError(
                "Capacity, deal value and cost per lead must be numbers; weeks a whole number."
            ) from None
        numbers = (value.capacity_per_week, value.deal_value, value.cost_per_lead)
        if not all(np.isfinite(numbers)) or min(numbers) < 0:
            raise ApplicationError("Capacity, deal value and cost per lead cannot be negative.")
        if not 1 <= value.weeks <= 104:
            raise ApplicationError("Weeks must be between 1 and 104.")
        return value


def threshold_analysis(profile: LeadProfile, given: CapacityInput) -> dict[str, Any]:
    """Leads/week, share of conversions and revenue for every threshold; the recommendation."""
    now = timezone.now()
    rows = recent_rows(since=now - timedelta(weeks=given.weeks))
    if len(rows) < 2:
        raise ApplicationError(f"Fewer than two leads captured in the last {given.weeks} weeks.")
    scorer = ProfileScorer.for_profile(profile)
    scored = scorer.score(rows, touch_arrays(rows, now=now))
    fit = scored.scores - np.rint(scored.engagement)
    result = threshold_by_capacity(
        scored.scores,
        _outcome_or_probability(rows, scorer, fit),
        weeks=given.weeks,
        capacity_per_week=given.capacity_per_week,
        deal_value=given.deal_value,
        cost_per_lead=given.cost_per_lead,
    )
    current = [r for r in result["rows"] if r["threshold"] >= profile.threshold]
    result["current"] = current[-1] if current else None
    result["leads"] = len(rows)
    result["weeks"] = given.weeks
    return result


def drift_analysis(profile: LeadProfile, *, weeks: int = DEFAULT_WEEKS) -> dict[str, Any]:
    """PSI of the score and each attribute (leads since going live against the ``weeks``
    before), and the AUC on leads closed since going live."""
    if profile.effective_from is None:
        return {"error": "This version has not been live."}
    start = profile.effective_from
    end = profile.effective_to
    scorer = ProfileScorer.for_profile(profile)
    names = scorer.compiled.names
    reference = recent_rows(since=start - timedelta(weeks=weeks), until=start)
    current = recent_rows(since=start, until=end)
    out: dict[str, Any] = {"reference_leads": len(reference), "current_leads": len(current)}
    if len(reference) and len(current):
        ref_scores = scorer.score(reference, None).scores
        cur_scores = scorer.score(current, None).scores
        out["drift"] = drift_report(
            reference.frame(names),
            current.frame(names),
            reference_scores=ref_scores,
            current_scores=cur_scores,
        )
    else:
        out["drift_error"] = (
            f"Needs leads captured both in the {weeks} weeks before going live and since."
        )
    closed = Lead.objects.filter(
        merged_into__isnull=True,
        state__in=(LeadState.WON, LeadState.LOST),
        state_changed_at__gte=start,
    )
    if end is not None:
        closed = closed.filter(state_changed_at__lt=end)
    rows = lead_rows(closed)
    y = (np.asarray(rows.states, dtype=object) == LeadState.WON).astype(int)
    out["closed_leads"] = len(rows)
    if len(rows) and 0 < y.sum() < len(y):
        fit = scorer.score(rows, None).scores
        m = metrics(y, scorer.compiled.probability(fit))
        out["auc"] = m["auc"]
        out["ece"] = m["ece"]
    else:
        out["auc_error"] = "Needs both won and lost leads closed since going live."
    return out


def drift_analysis_cached(profile: LeadProfile, *, weeks: int = DEFAULT_WEEKS) -> dict[str, Any]:
    """``drift_analysis`` for the live page, reused for ``DRIFT_TTL`` seconds: it scores every
    lead of two windows, too costly to redo on each view. The report says when it was made."""
    span = [t.timestamp() if t else 0 for t in (profile.effective_from, profile.effective_to)]
    key = f"scoring:drift:{profile.pk}:{span[0]:.0f}:{span[1]:.0f}:{weeks}"
    report = cache.get(key)
    if report is None:
        report = drift_analysis(profile, weeks=weeks) | {"computed_at": timezone.now()}
        cache.set(key, report, DRIFT_TTL)
    return report


def what_if(
    candidate: ProfileScorer, reference: ProfileScorer | None, *, weeks: int = DEFAULT_WEEKS
) -> dict[str, Any]:
    """Volume (leads/week at or above the threshold) and capture (share of won leads among
    them) of recent leads, under the candidate and under the reference (the live profile)."""
    now = timezone.now()
    rows = recent_rows(since=now - timedelta(weeks=weeks))
    touches = touch_arrays(rows, now=now)
    won = np.asarray(rows.states, dtype=object) == LeadState.WON

    def measure(scorer: ProfileScorer) -> dict[str, Any]:
        scores = scorer.score(rows, touches).scores
        above = scores >= scorer.threshold
        return {
            "threshold": scorer.threshold,
            "leads_per_week": float(above.sum() / weeks),
            "share_above": float(above.mean()) if len(rows) else 0.0,
            "won_captured": float(above[won].mean()) if won.any() else None,
        }

    return {
        "leads": len(rows),
        "weeks": weeks,
        "won": int(won.sum()),
        "candidate": measure(candidate),
        "reference": measure(reference) if reference is not None else None,
    }
