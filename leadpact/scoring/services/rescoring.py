"""Scoring leads with the live profile, in bulk: selector → DataFrame → compiled scorecard →
bulk update of ``Lead.score``.

Only leads whose score changed are written, each with a SCORE_CHANGE timeline event that
carries its explanation (points per attribute, engagement). A new lead at or above the
threshold, or a recycled one whose score rose across it, becomes an MQL through the
lifecycle's bulk transition and is handed to routing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from leadpact.common.jobs import enqueue
from leadpact.leads.models import Lead, LeadState, TimelineEvent
from leadpact.leads.services.lifecycle import leads_mark_mql_bulk
from leadpact.leads.services.timeline import timeline_events_bulk
from leadpact.routing.tasks import route_leads_task
from leadpact.scoring.frames import (
    CLOSED_STATES,
    LeadRows,
    lead_rows,
    lead_rows_by_id,
    open_leads,
    touch_arrays,
)
from leadpact.scoring.models import LeadProfile
from leadpact.scoring.scores import ProfileScorer
from leadpact.scoring.selectors import profile_live

UPDATE_BATCH = 1000


@dataclass
class RescoreResult:
    scored: int = 0
    changed: int = 0
    became_mql: list[int] = field(default_factory=list)


def _rescore_rows(
    rows: LeadRows, scorer: ProfileScorer, *, version: int, reason: str, now: datetime, touches
) -> RescoreResult:
    result = RescoreResult(scored=len(rows))
    if not len(rows):
        return result
    scored = scorer.score(rows, touches)
    changed = np.flatnonzero(scored.scores != rows.scores)
    result.changed = len(changed)
    if len(changed):
        Lead.objects.bulk_update(
            [Lead(pk=int(rows.ids[i]), score=int(scored.scores[i])) for i in changed],
            ["score"],
            batch_size=UPDATE_BATCH,
        )
        timeline_events_bulk(
            {
                "lead_id": int(rows.ids[i]),
                "kind": TimelineEvent.Kind.SCORE_CHANGE,
                "summary": f"Score {int(rows.scores[i])} → {int(scored.scores[i])} ({reason})",
                "data": {
                    "from": int(rows.scores[i]),
                    "to": int(scored.scores[i]),
                    "reason": reason,
                    **scorer.explanation(scored, int(i), version=version),
                },
                "occurred_at": now,
            }
            for i in changed
        )
    t = scorer.threshold
    states = np.asarray(rows.states, dtype=object)
    crossing = (scored.scores >= t) & (
        (states == LeadState.NEW) | ((states == LeadState.RECYCLED) & (rows.scores < t))
    )
    candidates = [int(pk) for pk in rows.ids[crossing]]
    if candidates:
        result.became_mql = leads_mark_mql_bulk(
            candidates, reason=f"score reached {t} (profile v{version})", now=now
        )
        if result.became_mql:
            enqueue(route_leads_task, result.became_mql)
    return result


@transaction.atomic
def leads_rescore_all(
    *, profile: LeadProfile, reason: str, now: datetime | None = None
) -> RescoreResult:
    """Rescore every open lead with ``profile`` (going live, periodic decay)."""
    now = now or timezone.now()
    rows = lead_rows(open_leads())
    lead_filter = Q(lead__merged_into__isnull=True) & ~Q(lead__state__in=CLOSED_STATES)
    touches = touch_arrays(rows, now=now, lead_filter=lead_filter, by_id=False)
    return _rescore_rows(
        rows,
        ProfileScorer.for_profile(profile),
        version=profile.version,
        reason=reason,
        now=now,
        touches=touches,
    )


@transaction.atomic
def lead_score_refresh(
    lead_ids: Sequence[int], *, reason: str = "captured", now: datetime | None = None
) -> RescoreResult:
    """Score these leads with the live profile (capture, import, new touches). No live
    profile yet: nothing to do. A few queries whatever the number of leads."""
    profile = profile_live()
    if profile is None or not lead_ids:
        return RescoreResult()
    now = now or timezone.now()
    rows = lead_rows_by_id(lead_ids)
    return _rescore_rows(
        rows,
        ProfileScorer.for_profile(profile),
        version=profile.version,
        reason=reason,
        now=now,
        touches=touch_arrays(rows, now=now),
    )
