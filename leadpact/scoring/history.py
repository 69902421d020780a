"""The system's own won/lost history as the engine's input frame.

Won leads are positives; lost leads are negatives, and so is any lead sales rejected (a
rejection on the timeline) that was not won afterwards: the pact learns what sales turned down.

Their touches (for learning engagement points) are those of marketing's making in the first
``TOUCH_WINDOW_DAYS`` after capture, aged at the end of that window: the same window for won
and lost leads, and calls, imports and "other" (sales-side or bookkeeping) left out, so what
sales did after the hand-off does not leak into the points.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from django.db.models import Q

from leadpact.campaigns.models import Touch, TouchKind
from leadpact.leads.models import Lead, LeadState, TimelineEvent
from leadpact.scoring.frames import CHUNK, LeadRows, TouchArrays, lead_rows

OUTCOME = "outcome"
DATE = "captured_at"
TOUCH_WINDOW_DAYS = 30
SALES_SIDE_TOUCHES = (TouchKind.CALL, TouchKind.IMPORT, TouchKind.OTHER)


def closed_history() -> tuple[pd.DataFrame, LeadRows]:
    """One row per closed or rejected lead: its attributes, ``outcome`` (1 won / 0 not) and
    ``captured_at``; and the leads as rows (ids, capture times) in the same order. Three
    queries whatever the number of leads."""
    rejected = TimelineEvent.objects.filter(
        kind=TimelineEvent.Kind.STATE_CHANGE, data__rejected=True
    ).values("lead_id")
    queryset = Lead.objects.filter(merged_into__isnull=True).filter(
        Q(state__in=(LeadState.WON, LeadState.LOST)) | Q(pk__in=rejected)
    )
    rows = lead_rows(queryset)
    frame = rows.frame(rows.attribute_names())
    frame = frame.apply(lambda c: c.map(lambda v: None if v is None else str(v).strip() or None))
    frame[OUTCOME] = (np.asarray(rows.states, dtype=object) == LeadState.WON).astype(int)
    frame[DATE] = pd.to_datetime(pd.Series(rows.captured_at, dtype=object), utc=True)
    return frame, rows


def closed_history_frame() -> pd.DataFrame:
    return closed_history()[0]


def closed_history_touches(rows: LeadRows) -> TouchArrays:
    """Marketing's touches of these leads in their first ``TOUCH_WINDOW_DAYS``, each aged at
    the end of that window (one query per ``CHUNK`` leads)."""
    position = {int(pk): i for i, pk in enumerate(rows.ids)}
    window = pd.Timedelta(days=TOUCH_WINDOW_DAYS)
    found: list[tuple[int, str, object]] = []
    ids = list(position)
    for start in range(0, len(ids), CHUNK):
        found.extend(
            Touch.objects.filter(lead_id__in=ids[start : start + CHUNK])
            .exclude(kind__in=SALES_SIDE_TOUCHES)
            .order_by()
            .values_list("lead_id", "kind", "occurred_at")
        )
    if not found:
        return TouchArrays(np.zeros(0, dtype=np.int64), [], np.zeros(0))
    index = np.fromiter((position[t[0]] for t in found), dtype=np.int64, count=len(found))
    captured = pd.to_datetime(pd.Series(rows.captured_at, dtype=object), utc=True).to_numpy()
    occurred = pd.to_datetime(pd.Series([t[2] for t in found], dtype=object), utc=True).to_numpy()
    since = (occurred - captured[index]) / np.timedelta64(1, "D")
    inside = (since >= -1.0) & (since <= window.days)  # a touch just before capture counts
    ages = window.days - np.maximum(since, 0.0)
    kinds = [t[1] for t in found]
    return TouchArrays(
        lead_index=index[inside],
        kinds=[k for k, keep in zip(kinds, inside, strict=True) if keep],
        ages_days=ages[inside],
    )
