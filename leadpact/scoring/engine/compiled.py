"""A fitted scorecard flattened to arrays, for scoring many leads (or one) fast.

Numeric attributes: ``np.searchsorted`` on the bin edges. Categorical attributes: the
value→bin lookup runs once per *distinct* value (pandas Categorical codes or factorize), then
``points = table[codes]`` for the whole column. Missing, NaN and ±inf score as the missing
bin; a category never seen in training scores zero points (neutral), never an error.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from leadpact.scoring.engine.binning import NUMERIC

#: Up to this many cut points, numeric bins are found by comparisons instead of a search.
FEW_EDGES = 16


@dataclass(frozen=True)
class CompiledAttribute:
    """Points table of one attribute: value bins, then the missing bin, then "unknown" (0)."""

    name: str
    kind: str
    edges: np.ndarray
    categories: Mapping[str, int]
    points: np.ndarray

    @property
    def missing_code(self) -> int:
        return len(self.points) - 2

    @property
    def unknown_code(self) -> int:
        return len(self.points) - 1

    def codes(self, values: Any) -> np.ndarray:
        if self.kind == NUMERIC:
            if isinstance(values, pd.Series):
                values = pd.to_numeric(values, errors="coerce").to_numpy(
                    np.float64, na_value=np.nan
                )
            x = np.asarray(values, dtype=np.float64)
            if len(self.edges) <= FEW_EDGES:
                # A handful of cuts: counting the edges passed is faster than a binary search.
                codes = np.zeros(len(x), dtype=np.int8)
                for edge in self.edges:
                    codes += x >= edge
            else:
                codes = np.searchsorted(self.edges, x, side="right")
            np.putmask(codes, ~np.isfinite(x), self.missing_code)
            return codes
        if isinstance(values, pd.Series) and isinstance(values.dtype, pd.CategoricalDtype):
            codes = values.cat.codes.to_numpy()
            uniques = values.cat.categories
        else:
            codes, uniques = pd.factorize(values, use_na_sentinel=True)
        lookup = np.fromiter(
            (self.categories.get(str(u), self.unknown_code) for u in uniques),
            dtype=np.intp,
            count=len(uniques),
        )
        # code -1 (missing) picks the last entry of the extended lookup: the missing bin.
        return np.append(lookup, self.missing_code)[codes]

    def code_one(self, value: Any) -> int:
        if value is None:
            return self.missing_code
        if self.kind == NUMERIC:
            try:
                x = float(value)
            except (TypeError, ValueError):
                return self.missing_code
            if not math.isfinite(x):
                return self.missing_code
            return bisect_right(self.edges_list, x)
        if isinstance(value, float) and math.isnan(value):
            return self.missing_code
        return self.categories.get(str(value), self.unknown_code)

    @property
    def edges_list(self) -> list[float]:
        cached = self.__dict__.get("_edges_list")
        if cached is None:
            cached = self.edges.tolist()
            object.__setattr__(self, "_edges_list", cached)
        return cached


@dataclass(frozen=True)
class LeadScore:
    """One lead's score and the points each attribute gave it (its explanation)."""

    score: int
    probability: float
    points: dict[str, int]


class CompiledScorecard:
    """Score = ``base_points`` + the points of each attribute's bin."""

    def __init__(
        self,
        attributes: list[CompiledAttribute],
        *,
        base_points: int,
        offset: float,
        factor: float,
    ) -> None:
        self.attributes = attributes
        self.base_points = base_points
        self.offset = offset
        self.factor = factor
        self.names = [a.name for a in attributes]
        self._tables = [a.points.tolist() for a in attributes]

    def points_matrix(self, data: Mapping[str, Any] | pd.DataFrame) -> np.ndarray:
        """Points per lead (rows) and attribute (columns, in ``self.names`` order)."""
        n = len(data[self.names[0]]) if self.names else len(data)
        # column-major, so each attribute's points are written to contiguous memory
        matrix = np.empty((n, len(self.attributes)), dtype=np.int32, order="F")
        for j, attribute in enumerate(self.attributes):
            if attribute.name not in data:
                raise KeyError(f"missing attribute column {attribute.name!r}")
            np.take(attribute.points, attribute.codes(data[attribute.name]), out=matrix[:, j])
        return matrix

    def score(self, data: Mapping[str, Any] | pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """(total score per lead, points matrix explaining it)."""
        matrix = self.points_matrix(data)
        return matrix.sum(axis=1, dtype=np.int64) + self.base_points, matrix

    def probability(self, scores: np.ndarray | float) -> np.ndarray:
        """Conversion probability implied by a score under the scorecard's scaling."""
        logit = (np.asarray(scores, dtype=np.float64) - self.offset) / self.factor
        return 1.0 / (1.0 + np.exp(-logit))

    def score_one(self, record: Mapping[str, Any]) -> LeadScore:
        """Score one lead given as a mapping of raw values (absent keys count as missing)."""
        points = {}
        total = self.base_points
        for attribute, table in zip(self.attributes, self._tables, strict=True):
            p = table[attribute.code_one(record.get(attribute.name))]
            points[attribute.name] = p
            total += p
        probability = 1.0 / (1.0 + math.exp(-(total - self.offset) / self.factor))
        return LeadScore(score=int(total), probability=probability, points=points)
