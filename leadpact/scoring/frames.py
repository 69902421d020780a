"""Leads and their touches read as column arrays for the engine: one query per kind of data.

Scorecard attributes are lead fields (``FIELD_COLUMNS``) or keys of ``Lead.attributes`` (what
forms and imports capture beyond the standard fields). Empty text counts as missing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from django.db.models import Q, QuerySet

from leadpact.campaigns.models import Touch
from leadpact.leads.models import Lead, LeadState

FIELD_COLUMNS = ("source_channel", "country", "city", "title")
#: Closed leads keep the score they were closed with; everyone else is rescored.
CLOSED_STATES = (LeadState.WON, LeadState.LOST, LeadState.DISQUALIFIED)
CHUNK = 900  # ids per IN (...) list: safe for every SQLite build


@dataclass
class LeadRows:
    """Many leads as parallel arrays (row ``i`` of each is the same lead)."""

    ids: np.ndarray
    scores: np.ndarray
    states: list[str]
    captured_at: list[datetime]
    fields: dict[str, list[str]]
    attributes: list[dict[str, Any]]

    def __len__(self) -> int:
        return len(self.ids)

    def frame(self, names: Iterable[str]) -> pd.DataFrame:
        """The named attributes as a DataFrame (object columns; blanks are missing)."""
        columns: dict[str, pd.Series] = {}
        for name in names:
            if name in self.fields:
                values = self.fields[name]
            else:
                values = [a.get(name) if isinstance(a, dict) else None for a in self.attributes]
            columns[name] = pd.Series(
                [None if v == "" else v for v in values], dtype=object, index=range(len(self))
            )
        return pd.DataFrame(columns, index=range(len(self)))

    def attribute_names(self) -> list[str]:
        """Every field column plus every attribute key any of these leads has."""
        keys: dict[str, None] = {}
        for a in self.attributes:
            if isinstance(a, dict):
                keys.update(dict.fromkeys(a))
        return [*FIELD_COLUMNS, *(k for k in keys if k not in FIELD_COLUMNS)]


def open_leads() -> QuerySet[Lead]:
    return Lead.objects.filter(merged_into__isnull=True).exclude(state__in=CLOSED_STATES)


def lead_rows(queryset: QuerySet[Lead], *, captured: bool = True) -> LeadRows:
    """Read ``queryset``'s leads in one query (no model instances). ``captured=False`` skips
    the capture dates (``None`` each): scoring does not need them, and they cost a datetime
    conversion per lead."""
    columns = (
        "pk",
        "score",
        "state",
        "captured_at" if captured else "pk",
        *FIELD_COLUMNS,
        "attributes",
    )
    if not queryset.query.is_sliced:
        # By id: a fit must not depend on the order a database happens to return rows in
        # (cross-validation folds are drawn by position).
        queryset = queryset.order_by("pk")
    rows = list(queryset.values_list(*columns))
    n = len(FIELD_COLUMNS)
    return LeadRows(
        ids=np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows)),
        scores=np.fromiter((r[1] for r in rows), dtype=np.int64, count=len(rows)),
        states=[r[2] for r in rows],
        captured_at=[r[3] for r in rows] if captured else [None] * len(rows),
        fields={name: [r[4 + i] for r in rows] for i, name in enumerate(FIELD_COLUMNS)},
        attributes=[r[4 + n] for r in rows],
    )


def lead_rows_of(leads: Sequence[Lead]) -> LeadRows:
    """The arrays of ``lead_rows_by_id`` (open leads only) from lead objects already in
    memory, as a capture that just saved them holds them: no query."""
    leads = [
        lead for lead in leads if lead.merged_into_id is None and lead.state not in CLOSED_STATES
    ]
    return LeadRows(
        ids=np.fromiter((lead.pk for lead in leads), dtype=np.int64, count=len(leads)),
        scores=np.fromiter((lead.score for lead in leads), dtype=np.int64, count=len(leads)),
        states=[lead.state for lead in leads],
        captured_at=[lead.captured_at for lead in leads],
        fields={name: [getattr(lead, name) for lead in leads] for name in FIELD_COLUMNS},
        attributes=[lead.attributes for lead in leads],
    )


def lead_rows_by_id(lead_ids: Sequence[int], *, open_only: bool = True) -> LeadRows:
    """Leads by id (merged-away ones skipped), one query per ``CHUNK`` ids."""
    parts = []
    ids = list(dict.fromkeys(lead_ids))
    for start in range(0, len(ids), CHUNK):
        base = open_leads() if open_only else Lead.objects.filter(merged_into__isnull=True)
        parts.append(lead_rows(base.filter(pk__in=ids[start : start + CHUNK])))
    if not parts:
        return lead_rows(Lead.objects.none())
    if len(parts) == 1:
        return parts[0]
    return LeadRows(
        ids=np.concatenate([p.ids for p in parts]),
        scores=np.concatenate([p.scores for p in parts]),
        states=[s for p in parts for s in p.states],
        captured_at=[c for p in parts for c in p.captured_at],
        fields={k: [v for p in parts for v in p.fields[k]] for k in FIELD_COLUMNS},
        attributes=[a for p in parts for a in p.attributes],
    )


@dataclass
class TouchArrays:
    lead_index: np.ndarray
    kinds: list[str]
    ages_days: np.ndarray


def touch_arrays(
    rows: LeadRows, *, now: datetime, lead_filter: Q | None = None, by_id: bool = True
) -> TouchArrays:
    """The touches of ``rows``' leads: which lead (row index), kind and age in days at ``now``.

    ``lead_filter`` (a Q on the touch's lead) reads them in one query for a whole population;
    otherwise they are read by lead id in chunks.
    """
    position = {int(pk): i for i, pk in enumerate(rows.ids)}
    found: list[tuple[int, str, datetime]] = []
    if lead_filter is not None and not by_id:
        found = list(
            Touch.objects.filter(lead_filter)
            .order_by()
            .values_list("lead_id", "kind", "occurred_at")
        )
    else:
        ids = list(position)
        for start in range(0, len(ids), CHUNK):
            found.extend(
                Touch.objects.filter(lead_id__in=ids[start : start + CHUNK])
                .order_by()
                .values_list("lead_id", "kind", "occurred_at")
            )
    found = [t for t in found if t[0] in position]
    return TouchArrays(
        lead_index=np.fromiter((position[t[0]] for t in found), dtype=np.int64, count=len(found)),
        kinds=[t[1] for t in found],
        ages_days=np.fromiter(
            ((now - t[2]).total_seconds() / 86400.0 for t in found),
            dtype=np.float64,
            count=len(found),
        ),
    )
