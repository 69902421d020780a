"""The order of the managers' ordered lists (routing rules, rejection reasons, checklist)."""

from __future__ import annotations

from typing import Any

from django.db.models import Max, Model


def position_next(model: type[Model]) -> int:
    """The position after the last row (positions go 10, 20, …)."""
    top = model.objects.aggregate(top=Max("position"))["top"]  # type: ignore[attr-defined]
    return (top or 0) + 10


def position_swap(model: type[Model], row: Any, *, up: bool) -> bool:
    """Swap ``row`` with its neighbour above or below, under a lock on the list; positions are
    renumbered 10, 20, … so ties go away. False when it was already at that end."""
    rows = list(model.objects.select_for_update().order_by("position", "id"))  # type: ignore[attr-defined]
    index = next(i for i, r in enumerate(rows) if r.pk == row.pk)
    other = index - 1 if up else index + 1
    moved = 0 <= other < len(rows)
    if moved:
        rows[index], rows[other] = rows[other], rows[index]
    for number, item in enumerate(rows, start=1):
        item.position = number * 10
    model.objects.bulk_update(rows, ["position"])  # type: ignore[attr-defined]
    return moved
