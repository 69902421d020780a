from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from leadpact.routing.business_time import BusinessCalendar, CalendarError, parse_hours

NY = ZoneInfo("America/New_York")


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=NY)


@pytest.fixture
def new_york() -> BusinessCalendar:
    return BusinessCalendar(tz="America/New_York", country="US")


def test_four_business_hours_inside_one_day(new_york):
    assert new_york.add(at(2026, 11, 24, 10), timedelta(hours=4)) == at(2026, 11, 24, 14)


def test_clock_started_after_hours_runs_from_next_opening(new_york):
    # Tuesday 20:00 → opens Wednesday 09:00 → 13:00
    assert new_york.add(at(2026, 11, 24, 20), timedelta(hours=4)) == at(2026, 11, 25, 13)


def test_weekend_and_thanksgiving_are_skipped(new_york):
    # Wednesday 15:00 + 4h: 2h Wednesday, Thursday is Thanksgiving, Friday 09:00 + 2h.
    assert new_york.add(at(2026, 11, 25, 15), timedelta(hours=4)) == at(2026, 11, 27, 11)
    # Friday 16:00 + 4h: 1h Friday, then Monday 09:00 + 3h.
    assert new_york.add(at(2026, 11, 27, 16), timedelta(hours=4)) == at(2026, 11, 30, 12)


def test_deadline_across_a_daylight_saving_change(new_york):
    # Clocks go forward on Sunday 2026-03-08. Friday 15:00 + 4 business hours: 2 h on Friday,
    # Monday 09:00 EDT + 2 h = 11:00 EDT, which is 15:00 UTC (it was 14:00 UTC in winter).
    deadline = new_york.add(at(2026, 3, 6, 15), timedelta(hours=4))
    assert deadline == at(2026, 3, 9, 11)
    assert deadline.astimezone(ZoneInfo("UTC")).hour == 15
    assert new_york.between(at(2026, 3, 6, 15), deadline) == timedelta(hours=4)


def test_between_is_the_inverse_of_add(new_york):
    start = at(2026, 12, 23, 16, 30)
    for hours in (0.5, 3, 8, 17, 40):
        end = new_york.add(start, timedelta(hours=hours))
        assert new_york.between(start, end) == timedelta(hours=hours)


def test_business_days(new_york):
    # Friday 15:00 + 2 business days on a 9-17 calendar → Tuesday 15:00.
    assert new_york.add_days(at(2026, 12, 4, 15), 2) == at(2026, 12, 8, 15)


def test_split_day_and_closed_dates():
    calendar = BusinessCalendar(
        tz="Europe/Lisbon",
        hours=parse_hours({"mon": ["09:00-12:30", "13:30-17:00"]}),
        closed_dates=frozenset({date(2026, 12, 7)}),
    )
    lisbon = ZoneInfo("Europe/Lisbon")
    start = datetime(2026, 11, 30, 12, 0, tzinfo=lisbon)  # a Monday
    # 30 min before lunch, lunch skipped, 1 h after: 14:30.
    assert calendar.add(start, timedelta(minutes=90)) == datetime(
        2026, 11, 30, 14, 30, tzinfo=lisbon
    )
    # 7 h: rest of Monday (30 min + 3 h 30), next Monday is closed, so Monday 14 Dec.
    assert calendar.add(start, timedelta(hours=7)).date() == date(2026, 12, 14)
    assert not calendar.is_open(datetime(2026, 11, 30, 13, 0, tzinfo=lisbon))
    assert calendar.is_open(datetime(2026, 11, 30, 13, 30, tzinfo=lisbon))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"hours": {}}, "at least one working period"),
        ({"hours": {1: ((time(17), time(9)),)}}, "must end after it starts"),
        ({"hours": {8: ((time(9), time(17)),)}}, "is not 1"),
        ({"tz": "Mars/Olympus"}, "Unknown time zone"),
        ({"country": "XX"}, "No public holidays"),
    ],
)
def test_unusable_calendars_fail_clearly(kwargs, message):
    with pytest.raises(CalendarError, match=message):
        BusinessCalendar(**kwargs)


def test_a_calendar_that_is_always_closed_fails_instead_of_looping():
    every_day = frozenset(date(2026, 1, 1) + timedelta(days=n) for n in range(4 * 366))
    calendar = BusinessCalendar(closed_dates=every_day)
    with pytest.raises(CalendarError, match="No working time"):
        calendar.add(datetime(2026, 1, 1, tzinfo=ZoneInfo("UTC")), timedelta(hours=1))


def test_naive_datetimes_and_negative_durations_are_refused(new_york):
    with pytest.raises(ValueError, match="aware"):
        new_york.add(datetime(2026, 1, 5, 9), timedelta(hours=1))
    with pytest.raises(ValueError, match="negative"):
        new_york.add(at(2026, 1, 5, 9), timedelta(hours=-1))


def test_bad_hour_specs():
    with pytest.raises(CalendarError, match="weekday"):
        parse_hours({"funday": ["09:00-17:00"]})
    with pytest.raises(CalendarError, match="period like"):
        parse_hours({"mon": ["nine to five"]})


def test_deadline_across_holidays_and_a_daylight_saving_change_together():
    """Easter 2027 in England: Good Friday 26 March, clocks forward Sunday 28 March, Easter
    Monday 29 March. Thursday 15:00 GMT + 4 business hours: 2 h on Thursday, then nothing
    until Tuesday 09:00 BST, + 2 h = 11:00 BST, which is 10:00 UTC."""
    london = BusinessCalendar(tz="Europe/London", country="GB", subdiv="ENG")
    utc = ZoneInfo("UTC")
    start = datetime(2027, 3, 25, 15, tzinfo=utc)
    deadline = london.add(start, timedelta(hours=4))
    assert deadline == datetime(2027, 3, 30, 10, tzinfo=utc)
    assert deadline.astimezone(ZoneInfo("Europe/London")).hour == 11
    assert london.between(start, deadline) == timedelta(hours=4)
    # Without the holidays the same promise falls due on Good Friday (still GMT).
    plain = BusinessCalendar(tz="Europe/London")
    assert plain.add(start, timedelta(hours=4)) == datetime(2027, 3, 26, 11, tzinfo=utc)
