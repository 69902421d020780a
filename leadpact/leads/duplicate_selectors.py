"""Reads for the duplicates page: open pairs to decide, and recent merges that can be undone.

Each returns a list with everything the page prints already joined, so the page runs a fixed
number of queries however many pairs it shows.
"""

from __future__ import annotations

from leadpact.leads.models import DuplicateCandidate

_PAIR_RELATED = (
    "lead_a__owner",
    "lead_a__source_campaign",
    "lead_b__owner",
    "lead_b__source_campaign",
)


def duplicate_open_list(*, limit: int = 50) -> tuple[list[DuplicateCandidate], int]:
    """The most similar open pairs whose leads are both still live, and how many there are."""
    open_pairs = DuplicateCandidate.objects.filter(
        status=DuplicateCandidate.Status.OPEN,
        lead_a__merged_into__isnull=True,
        lead_b__merged_into__isnull=True,
    )
    items = list(open_pairs.select_related(*_PAIR_RELATED).order_by("-similarity", "id")[:limit])
    total = len(items) if len(items) < limit else open_pairs.count()
    return items, total


def duplicate_recent_merges(*, limit: int = 20) -> list[DuplicateCandidate]:
    """Pairs merged most recently whose merge still stands (one lead points at the other)."""
    return list(
        DuplicateCandidate.objects.filter(status=DuplicateCandidate.Status.MERGED)
        .select_related(*_PAIR_RELATED, "decided_by")
        .order_by("-decided_at", "-id")[:limit]
    )


def duplicate_get(*, candidate_id: int) -> DuplicateCandidate:
    """One pair with both leads; raises ``DuplicateCandidate.DoesNotExist``."""
    return DuplicateCandidate.objects.select_related(*_PAIR_RELATED, "decided_by").get(
        pk=candidate_id
    )
