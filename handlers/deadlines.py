"""Deadlines of the service standard: minutes, calendar days or working days from receipt, and
the time a ticket waits for the citizen added to them.

Working days are Kupang's (WITA): not a weekend, a national public holiday or cuti bersama (the
`holidays` package), nor a holiday the province declares (service.toml's [holidays], passed in as
`local`). Every time is naive UTC, as stored.
"""
from __future__ import annotations

from collections.abc import Set
from datetime import date, datetime, time, timedelta
from functools import lru_cache

import holidays

from config import Deadline

WITA = timedelta(hours=8)
DAY = timedelta(days=1)


@lru_cache(maxsize=8)
def _holidays(year: int) -> holidays.HolidayBase:
    # "government": the joint leave days (cuti bersama) the ministers set each year beside the public
    # holidays, on which government offices are closed too (Christmas Eve, the days around Idulfitri).
    return holidays.country_holidays("ID", years=year, categories=("public", "government"))


def is_working_day(day: date, local: Set[date]) -> bool:
    """Tell whether government offices are open: not a weekend, a holiday or cuti bersama."""
    return day.weekday() < 5 and day not in local and day not in _holidays(day.year)


def due_at(received_at: datetime, rule: Deadline, local: Set[date]) -> datetime:
    """Return the deadline for something received at received_at."""
    if rule.unit == "m":
        return received_at + timedelta(minutes=rule.amount)
    if rule.unit == "h":
        return received_at + timedelta(hours=rule.amount)
    if rule.unit == "d":
        return received_at + timedelta(days=rule.amount)
    # The same time of day on the n-th working day after the day of receipt.
    moment = received_at + WITA
    day, left = moment.date(), rule.amount
    while left:
        day += DAY
        if is_working_day(day, local):
            left -= 1
    return datetime.combine(day, moment.time()) - WITA


def working_time(start: datetime, end: datetime, local: Set[date]) -> timedelta:
    """The part of the time from start to end that falls on working days."""
    total = timedelta()
    moment, end = start + WITA, end + WITA
    while moment < end:
        midnight = datetime.combine(moment.date() + DAY, time())
        if is_working_day(moment.date(), local):
            total += min(end, midnight) - moment
        moment = midnight
    return total


def add_working_time(moment: datetime, amount: timedelta, local: Set[date]) -> datetime:
    """The moment that comes when amount of working-day time has passed after moment."""
    moment = moment + WITA
    while amount > timedelta():
        midnight = datetime.combine(moment.date() + DAY, time())
        if is_working_day(moment.date(), local):
            if amount <= midnight - moment:
                return moment + amount - WITA
            amount -= midnight - moment
        moment = midnight
    return moment - WITA


def paused_time(rule: Deadline, start: datetime, end: datetime, local: Set[date]) -> timedelta:
    """How much of a pause from start to end counts against a deadline of this rule: the working time
    under a working-day rule, all of it under any other."""
    return working_time(start, end, local) if rule.unit == "wd" else end - start


def extended(due: datetime, rule: Deadline, paused: timedelta, local: Set[date]) -> datetime:
    """A deadline moved by the time paused (paused_time)."""
    return add_working_time(due, paused, local) if rule.unit == "wd" else due + paused
