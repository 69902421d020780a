"""One CSV row → a validated ``LeadInput``, or the reasons it cannot be one.

The mapping is compiled once against the file's header (``RowMapper``) so each row costs a
few list lookups before ``clean_lead_input`` (the one validation every way in shares) runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from leadpact.leads.records import FieldError, LeadInput, clean_lead_input, to_aware_datetime
from leadpact.leads.services.imports.mapping import (
    ATTRIBUTE,
    IGNORE,
    LEAD_TARGETS,
    ColumnMapping,
)
from leadpact.leads.services.imports.reader import CsvRow, ImportFileError

_DATE_CACHE_MAX = 20_000


@dataclass(frozen=True)
class MappedRow:
    line: int
    record: LeadInput
    touch_at: datetime | None  # from the mapping's touch.occurred_at column, when it has one
    cells: list[str]


@dataclass(frozen=True)
class RejectedRow:
    line: int
    reason: str
    cells: list[str]


class RowMapper:
    """The mapping, resolved to column positions of one file's header."""

    def __init__(self, mapping: ColumnMapping, headers: list[str]) -> None:
        self.mapping = mapping
        self.width = len(headers)
        position = {name: i for i, name in enumerate(headers) if name}
        missing = sorted(c for c in mapping.used_columns() if c not in position)
        if missing:
            raise ImportFileError(
                f"the file lacks the mapped column(s) {', '.join(map(repr, missing))}; "
                f"its header has {', '.join(map(repr, [h for h in headers if h]))}"
            )
        self.fields: list[tuple[int, str]] = []
        self.attributes: list[tuple[int, str]] = []
        for column, target in mapping.columns.items():
            index = position[column]
            if target in LEAD_TARGETS:
                self.fields.append((index, target))
            elif target == ATTRIBUTE:
                self.attributes.append((index, column))
            elif target.startswith(ATTRIBUTE + ":"):
                self.attributes.append((index, target.split(":", 1)[1]))
        if mapping.attributes == "rest":
            extra = [h for h in headers if h and h not in mapping.columns]
        else:
            extra = [c for c in mapping.attributes if mapping.columns.get(c, ATTRIBUTE) != IGNORE]
            extra = [c for c in extra if c not in mapping.columns]
        self.attributes.extend((position[c], c) for c in extra)
        used = {i for i, _ in self.fields} | {i for i, _ in self.attributes}
        if mapping.touch and mapping.touch.occurred_at:
            used.add(position[mapping.touch.occurred_at])
        self.ignored = [
            h or f"(unnamed column {i + 1})"
            for i, h in enumerate(headers)
            if i not in used and mapping.columns.get(h) != IGNORE
        ]
        self.dates = {position[c]: fmt for c, fmt in mapping.dates.items()}
        self.values = {position[c]: table for c, table in mapping.values.items()}
        self.missing = mapping.missing_values
        self.touch_index = (
            position[mapping.touch.occurred_at]
            if mapping.touch and mapping.touch.occurred_at
            else None
        )
        self._date_cache: dict[tuple[int, str], datetime | str] = {}

    def _value(self, cells: list[str], index: int) -> str:
        text = cells[index].strip()
        table = self.values.get(index)
        if table is not None:
            text = table.get(text, text)
        return "" if text in self.missing else text

    def _date(self, index: int, text: str) -> datetime | str:
        """The parsed date (time-zone aware, so validation need not convert it again), or the
        error message; each distinct text is parsed once."""
        key = (index, text)
        found = self._date_cache.get(key)
        if found is not None:
            return found
        fmt = self.dates.get(index)
        result: datetime | str
        try:
            result = to_aware_datetime(datetime.strptime(text, fmt) if fmt else text)
        except (ValueError, OverflowError):
            example = datetime(2024, 3, 31).strftime(fmt) if fmt else "2024-03-31"
            result = f"{text[:40]!r} is not a date like {example}"
        if len(self._date_cache) > _DATE_CACHE_MAX:
            self._date_cache.clear()
        self._date_cache[key] = result
        return result

    def map(self, row: CsvRow) -> MappedRow | RejectedRow:
        cells = row.cells
        if row.error:
            return RejectedRow(row.line, row.error, cells)
        if len(cells) != self.width:
            return RejectedRow(
                row.line,
                f"the row has {len(cells)} fields but the header has {self.width} "
                "(a missing or extra delimiter, or an unclosed quote?)",
                cells,
            )
        errors: list[FieldError] = []
        raw: dict[str, object] = {}
        dates = self.dates
        for index, target in self.fields:
            text = self._value(cells, index)
            if not text:
                continue
            if index in dates or target == "captured_at":
                parsed = self._date(index, text)
                if isinstance(parsed, str):
                    errors.append(FieldError(target, parsed))
                    continue
                raw[target] = parsed if target == "captured_at" else parsed.date().isoformat()
            else:
                raw[target] = text
        attributes: dict[str, str] = {}
        for index, name in self.attributes:
            text = self._value(cells, index)
            if text and index in dates:
                parsed = self._date(index, text)
                if isinstance(parsed, str):
                    errors.append(FieldError(name, parsed))
                    continue
                text = parsed.date().isoformat()
            if text:
                attributes[name] = text
        if attributes:
            raw["attributes"] = attributes
        if self.mapping.external_source and "external_source" not in raw:
            raw["external_source"] = self.mapping.external_source
        touch_at: datetime | None = None
        if self.touch_index is not None:
            text = self._value(cells, self.touch_index)
            if text:
                parsed = self._date(self.touch_index, text)
                if isinstance(parsed, str):
                    errors.append(FieldError(self.mapping.touch.occurred_at, parsed))  # type: ignore[union-attr]
                else:
                    touch_at = parsed
        for name in self.mapping.required:
            if not raw.get(name):
                errors.append(FieldError(name, "is required by the mapping but empty"))
        record, clean_errors = clean_lead_input(raw)
        errors.extend(clean_errors)
        if errors or record is None:
            return RejectedRow(row.line, "; ".join(map(str, errors)), cells)
        return MappedRow(row.line, record, touch_at, cells)
