"""Quota and forecast periods: calendar months and quarters, named ``2026-11`` or ``2026-Q4``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from leadpact.common.errors import ApplicationError
from leadpact.pipeline.models import PeriodKind

_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_QUARTER = re.compile(r"^(\d{4})-?Q([1-4])$", re.IGNORECASE)


@dataclass(frozen=True)
class Period:
    kind: str
    start: date
    end: date

    @property
    def label(self) -> str:
        if self.kind == PeriodKind.QUARTER:
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        return f"{self.start:%Y-%m}"

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end

    def previous(self) -> Period:
        return period_of(self.kind, self.start - timedelta(days=1))

    def next(self) -> Period:
        return period_of(self.kind, self.end + timedelta(days=1))


def _month_end(year: int, month: int) -> date:
    following = date(year + month // 12, month % 12 + 1, 1)
    return following - timedelta(days=1)


def period_of(kind: str, day: date) -> Period:
    """The month or quarter that ``day`` falls in."""
    if kind == PeriodKind.MONTH:
        return Period(kind, day.replace(day=1), _month_end(day.year, day.month))
    if kind == PeriodKind.QUARTER:
        first = 3 * ((day.month - 1) // 3) + 1
        return Period(kind, date(day.year, first, 1), _month_end(day.year, first + 2))
    raise ApplicationError(f"A period is a month or a quarter, not {kind!r}.")


def period_parse(raw: str | None) -> Period:
    """``2026-11`` (a month) or ``2026-Q4`` (a quarter); anything else is a clear error."""
    text = (raw or "").strip()
    if m := _MONTH.match(text):
        year, month = int(m.group(1)), int(m.group(2))
        if 1 <= month <= 12 and year >= 1900:
            return period_of(PeriodKind.MONTH, date(year, month, 1))
    if m := _QUARTER.match(text):
        year, quarter = int(m.group(1)), int(m.group(2))
        if year >= 1900:
            return period_of(PeriodKind.QUARTER, date(year, 3 * quarter - 2, 1))
    raise ApplicationError(
        f"A period is a month like 2026-11 or a quarter like 2026-Q4, got {text!r}.",
        extra={"period": ["Not a month or quarter."]},
    )


def period_from_dates(start: date, end: date) -> Period:
    """The calendar month or quarter ``start``..``end`` is; anything else is a clear error."""
    if end < start:
        raise ApplicationError(
            f"The period ends ({end.isoformat()}) before it starts ({start.isoformat()}).",
            extra={"end": ["Before the start."]},
        )
    for kind in (PeriodKind.MONTH, PeriodKind.QUARTER):
        period = period_of(kind, start)
        if (period.start, period.end) == (start, end):
            return period
    raise ApplicationError(
        f"{start.isoformat()}..{end.isoformat()} is not a calendar month or quarter; quotas are "
        "set per month or quarter.",
        extra={"start": ["Not a month or quarter start."]},
    )
