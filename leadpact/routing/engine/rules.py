"""Routing rules evaluated over a whole table of leads at once (pandas, no Django).

A rule is a list of conditions that must all hold; the first rule (by position) whose
conditions hold for a lead is the one that fires. Evaluating column by column keeps 10,000
leads by dozens of rules at a few milliseconds.

Fields are the columns of the frame the service builds: ``country``, ``city``, ``title``,
``source_channel``, ``campaign`` (the source campaign's code), ``score``,
``company.industry``, ``company.country``, ``company.domain`` and ``attributes.<key>``.
Text comparisons ignore case and surrounding spaces.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

OPS = ("eq", "in", "not", "gte", "lte", "contains")
FIELDS = (
    "country",
    "city",
    "title",
    "source_channel",
    "campaign",
    "score",
    "company.industry",
    "company.country",
    "company.domain",
)
ATTRIBUTE_PREFIX = "attributes."


class RuleError(ValueError):
    """A condition that cannot be evaluated: unknown field or operator, bad value."""


@dataclass(frozen=True)
class Condition:
    field: str
    op: str
    value: Any

    def describe(self) -> str:
        shown = ", ".join(map(str, self.value)) if isinstance(self.value, list) else self.value
        words = {"eq": "is", "in": "is one of", "not": "is not", "gte": "≥", "lte": "≤"}
        return f"{self.field} {words.get(self.op, self.op)} {shown}"


@dataclass(frozen=True)
class Rule:
    id: int
    name: str
    conditions: tuple[Condition, ...]
    team_id: int | None = None
    rep_id: int | None = None


def parse_conditions(raw: Any) -> tuple[Condition, ...]:
    """Validate the JSON a person saved; raise ``RuleError`` naming the bad condition."""
    if not isinstance(raw, list):
        raise RuleError("Conditions must be a list.")
    parsed = []
    for number, item in enumerate(raw, start=1):
        if not isinstance(item, Mapping) or set(item) != {"field", "op", "value"}:
            raise RuleError(f"Condition {number} needs exactly field, op and value.")
        field, op, value = str(item["field"]).strip(), str(item["op"]).strip(), item["value"]
        if field not in FIELDS and not (
            field.startswith(ATTRIBUTE_PREFIX) and len(field) > len(ATTRIBUTE_PREFIX)
        ):
            raise RuleError(
                f"Condition {number}: unknown field {field!r}; use one of "
                f"{', '.join(FIELDS)} or attributes.<name>."
            )
        if op not in OPS:
            raise RuleError(f"Condition {number}: unknown operator {op!r}; use {', '.join(OPS)}.")
        if op == "in":
            if not isinstance(value, list) or not value:
                raise RuleError(f"Condition {number}: 'in' needs a non-empty list of values.")
        elif op in ("gte", "lte"):
            try:
                value = float(value)
            except (TypeError, ValueError):
                raise RuleError(f"Condition {number}: {op!r} needs a number.") from None
        elif isinstance(value, list | dict) or value is None or str(value).strip() == "":
            raise RuleError(f"Condition {number}: {op!r} needs one value.")
        parsed.append(Condition(field=field, op=op, value=value))
    return tuple(parsed)


def needed_fields(rules: Iterable[Rule]) -> set[str]:
    return {c.field for rule in rules for c in rule.conditions}


def _text(column: pd.Series) -> pd.Series:
    return column.fillna("").astype(str).str.strip().str.lower()


def condition_mask(frame: pd.DataFrame, condition: Condition) -> np.ndarray:
    """Which rows satisfy ``condition``; a missing field never satisfies eq/in/gte/lte/contains."""
    n = len(frame)
    if condition.field not in frame.columns:
        return np.full(n, condition.op == "not")
    column = frame[condition.field]
    op, value = condition.op, condition.value
    if op in ("gte", "lte"):
        numbers = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)
        with np.errstate(invalid="ignore"):
            return (numbers >= value) if op == "gte" else (numbers <= value)
    text = _text(column)
    if op == "eq":
        return (text == str(value).strip().lower()).to_numpy()
    if op == "not":
        values = value if isinstance(value, list) else [value]
        return (~text.isin([str(v).strip().lower() for v in values])).to_numpy()
    if op == "in":
        return text.isin([str(v).strip().lower() for v in value]).to_numpy()
    return text.str.contains(str(value).strip().lower(), regex=False).to_numpy()


def first_matching_rule(frame: pd.DataFrame, rules: Sequence[Rule]) -> np.ndarray:
    """For each row, the index in ``rules`` of the first rule that fires, or -1."""
    result = np.full(len(frame), -1, dtype=np.int64)
    undecided = np.ones(len(frame), dtype=bool)
    for index, rule in enumerate(rules):
        if not undecided.any():
            break
        mask = undecided.copy()
        for condition in rule.conditions:
            mask &= condition_mask(frame, condition)
        result[mask] = index
        undecided &= ~mask
    return result
