"""Deadlines of the service standard: minutes, calendar days or working days from receipt."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache

import holidays

from config import Deadline


@lru_cache(maxsize=8)
def _holidays(year: int) -> holidays.HolidayBase:
    # "government": the joint leave days (cuti bersama) the ministers set each year beside the public
    # holidays, on which government offices are closed too (Christmas Eve, the days around Idulfitri).
    return holidays.country_holidays("ID", years=year, categories=("public", "government"))


def is_working_day(day: date) -> bool:
    """Tell whether government offices are open: not a weekend, a public holiday or cuti bersama."""
    return day.weekday() < 5 and day not in _holidays(day.year)


def due_at(received_at: datetime, rule: Deadline) -> datetime:
    """Return the deadline (naive UTC, as stored) for something received at received_at (naive UTC)."""
    if rule.unit == "m":
        return received_at + timedelta(minutes=rule.amount)
    if rule.unit == "h":
        return received_at + timedelta(hours=rule.amount)
    if rule.unit == "d":
        return received_at + timedelta(days=rule.amount)
    # Working days are counted on Kupang's calendar: the deadline is the same time of
    # day on the n-th working day after the day of receipt.
    offset = timedelta(hours=8)
    local = received_at + offset
    day, left = local.date(), rule.amount
    while left:
        day += timedelta(days=1)
        if is_working_day(day):
            left -= 1
    return datetime.combine(day, local.time()) - offset

