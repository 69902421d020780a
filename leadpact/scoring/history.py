"""The system's own won/lost history as the engine's input frame.

Won leads are positives; lost leads are negatives, and so is any lead sales rejected (a
rejection on the timeline) that was not won afterwards: the pact learns what sales turned down.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from django.db.models import Q

from leadpact.leads.models import Lead, LeadState, TimelineEvent
from leadpact.scoring.frames import lead_rows

OUTCOME = "outcome"
DATE = "captured_at"


def closed_history_frame() -> pd.DataFrame:
    """One row per closed or rejected lead: its attributes, ``outcome`` (1 won / 0 not) and
    ``captured_at``. Three queries whatever the number of leads."""
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
    return frame
