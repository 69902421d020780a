"""Business-hours clocks: working hours per weekday in a time zone, minus public holidays.

SLA deadlines ("accepted within 4 business hours", "first contact within 2 business days")
are computed here. Pure Python (``zoneinfo`` and the ``holidays`` package), no Django, so the
same calendar serves the services, the sweep and the reports.

Durations are real elapsed time between aware datetimes, so a day on which the clocks change
still counts the hours people actually work; the working periods are written in local wall
time ("09:00-17:00"), as people think of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holidays_lib

# How far a computation may walk before it gives up: a calendar that is open a few hours a
# year still works, one that is never open fails clearly instead of looping.
MAX_DAYS = 3 * 366


class CalendarError(ValueError):
    """A calendar that cannot be used: no working hours, unknown zone or country."""


@dataclass(frozen=True)
class BusinessCalendar:
    """``hours`` maps ISO weekday (1 = Monday … 7 = Sunday) to local ``(start, end)`` periods."""

    tz: str = "UTC"
    hours: Mapping[int, tuple[tuple[time, time], ...]] = field(
        default_factory=lambda: {d: ((time(9), time(17)),) for d in range(1, 6)}
    )
    country: str | None = None
    subdiv: str | None = None
    closed_dates: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise CalendarError(f"Unknown time zone {self.tz!r}.") from None
        periods = 0
        for weekday, day_periods in self.hours.items():
            if weekday not in range(1, 8):
                raise CalendarError(f"Weekday {weekday} is not 1 (Monday) to 7 (Sunday).")
            for start, end in day_periods:
                if end <= start:
                    raise CalendarError(f"A working period must end after it starts ({start}).")
                periods += 1
        if periods == 0:
            raise CalendarError("A calendar needs at least one working period in the week.")
        if self.country:
            try:
                holidays_lib.country_holidays(self.country, subdiv=self.subdiv)
            except NotImplementedError:
                raise CalendarError(
                    f"No public holidays known for {self.country!r}"
                    + (f" / {self.subdiv!r}" if self.subdiv else "")
                    + "."
                ) from None

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    @cached_property
    def _holidays(self) -> holidays_lib.HolidayBase | None:
        if not self.country:
            return None
        return holidays_lib.country_holidays(self.country, subdiv=self.subdiv)

    def is_holiday(self, day: date) -> bool:
        return day in self.closed_dates or bool(
            self._holidays is not None and day in self._holidays
        )

    def periods_on(self, day: date) -> list[tuple[datetime, datetime]]:
        """The day's working periods as aware datetimes (empty on holidays and days off)."""
        if self.is_holiday(day):
            return []
        result = []
        for start, end in sorted(self.hours.get(day.isoweekday(), ())):
            result.append(
                (
                    datetime.combine(day, start, tzinfo=self.zone),
                    datetime.combine(day, end, tzinfo=self.zone),
                )
            )
        return result

    def _periods_from(self, moment: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Working periods (clipped to start at ``moment``) from ``moment`` on."""
        local = moment.astimezone(self.zone)
        day = local.date()
        for _ in range(MAX_DAYS):
            for start, end in self.periods_on(day):
                if end <= moment:
                    continue
                yield max(start, moment), end
            day += timedelta(days=1)
        raise CalendarError(f"No working time in the {MAX_DAYS} days after {moment:%Y-%m-%d}.")

    def is_open(self, moment: datetime) -> bool:
        _require_aware(moment)
        return any(
            start <= moment < end
            for start, end in self.periods_on(moment.astimezone(self.zone).date())
        )

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The moment when ``duration`` of business time has passed since ``start``."""
        _require_aware(start)
        if duration < timedelta(0):
            raise ValueError("A business-time duration cannot be negative.")
        remaining = duration
        for period_start, period_end in self._periods_from(start):
            available = period_end - period_start
            if remaining <= available:
                return period_start + remaining
            remaining -= available
        raise AssertionError("unreachable: _periods_from raises when it runs out")

    def add_days(self, start: datetime, days: int) -> datetime:
        """``days`` business days later: the same business time of day, ``days`` working days on.

        Counted as ``days`` times the working time of a typical day of this calendar, so "two
        business days" from Friday 15:00 on a 9-17 calendar is Tuesday 15:00.
        """
        return self.add(start, self.typical_day * days)

    @cached_property
    def typical_day(self) -> timedelta:
        lengths = [
            sum(
                (
                    datetime.combine(date.min, end) - datetime.combine(date.min, start)
                    for start, end in periods
                ),
                timedelta(0),
            )
            for periods in self.hours.values()
            if periods
        ]
        return max(lengths)

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Business time elapsed from ``start`` to ``end`` (zero when ``end`` is earlier)."""
        _require_aware(start)
        _require_aware(end)
        if end <= start:
            return timedelta(0)
        total = timedelta(0)
        for period_start, period_end in self._periods_from(start):
            if period_start >= end:
                break
            total += min(period_end, end) - period_start
        return total


def _require_aware(moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("Business-time arithmetic needs time-zone-aware datetimes.")


def parse_hours(spec: Mapping[str, Iterable[str]]) -> dict[int, tuple[tuple[time, time], ...]]:
    """``{"mon": ["09:00-12:30", "13:30-17:00"], …}`` → the ``hours`` of a calendar."""
    names = {"mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6, "sun": 7}
    hours: dict[int, tuple[tuple[time, time], ...]] = {}
    for name, periods in spec.items():
        key = name.strip().lower()[:3]
        if key not in names:
            raise CalendarError(f"{name!r} is not a weekday (mon … sun).")
        parsed = []
        for text in periods:
            try:
                start_text, end_text = text.split("-")
                parsed.append(
                    (time.fromisoformat(start_text.strip()), time.fromisoformat(end_text.strip()))
                )
            except ValueError:
                raise CalendarError(f"{text!r} is not a period like 09:00-17:00.") from None
        hours[names[key]] = tuple(parsed)
    return hours
