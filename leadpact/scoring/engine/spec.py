"""A scorecard as plain JSON data that people can edit and a database can store, and back.

``scorecard_spec`` adds to ``Scorecard.table()`` what scoring needs (numeric cut points,
category→bin maps); ``compile_spec`` turns a (possibly hand-edited) spec into the fast
``CompiledScorecard``. Points live only in the bins' ``points``, so an edit there is the edit.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from leadpact.scoring.engine.binning import CATEGORICAL, NUMERIC
from leadpact.scoring.engine.compiled import CompiledAttribute, CompiledScorecard
from leadpact.scoring.engine.errors import ScoringInputError
from leadpact.scoring.engine.scorecard import Scorecard


def scorecard_spec(model: Scorecard) -> dict[str, Any]:
    """The fitted scorecard's table plus the bin boundaries, as JSON-ready data."""
    table = model.table()
    for attribute in table["attributes"]:
        bins = model.bins_[attribute["attribute"]]
        attribute["edges"] = [float(e) for e in bins.edges]
        attribute["categories"] = {str(k): int(v) for k, v in bins.categories.items()}
    return table


def _scale(scaling: dict[str, Any]) -> tuple[float, float]:
    factor = float(scaling["points_to_double_odds"]) / np.log(2.0)
    offset = float(scaling["base_score"]) - factor * np.log(float(scaling["base_odds"]))
    return offset, factor


def compile_spec(spec: dict[str, Any]) -> CompiledScorecard:
    """Compile a stored spec; a malformed one raises ``ScoringInputError`` saying what is wrong."""
    try:
        offset, factor = _scale(spec["scaling"])
        attributes = []
        for item in spec["attributes"]:
            kind = item["kind"]
            if kind not in (NUMERIC, CATEGORICAL):
                raise ScoringInputError(f"attribute {item['attribute']!r}: unknown kind {kind!r}")
            points = [int(row["points"]) for row in item["bins"]]
            edges = np.asarray(item.get("edges", []), dtype=np.float64)
            categories = {str(k): int(v) for k, v in item.get("categories", {}).items()}
            expected = len(edges) + 2 if kind == NUMERIC else None
            if expected is not None and len(points) != expected:
                raise ScoringInputError(
                    f"attribute {item['attribute']!r}: {len(points)} bins for "
                    f"{len(edges)} cut points"
                )
            if any(v >= len(points) - 1 or v < 0 for v in categories.values()):
                raise ScoringInputError(f"attribute {item['attribute']!r}: category out of range")
            attributes.append(
                CompiledAttribute(
                    name=str(item["attribute"]),
                    kind=kind,
                    edges=edges,
                    categories=categories,
                    points=np.asarray(
                        [*points, int(item.get("unknown_points", 0))], dtype=np.int32
                    ),
                )
            )
        return CompiledScorecard(
            attributes, base_points=int(spec["base_points"]), offset=offset, factor=factor
        )
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, ScoringInputError):
            raise
        raise ScoringInputError(f"the stored scorecard is malformed: {exc!r}") from exc
