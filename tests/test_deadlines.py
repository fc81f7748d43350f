"""Deadlines of the service standard: calendar days, working days, minutes."""
from datetime import datetime

import pytest

from config import Deadline
from handlers.deadlines import due_at, is_working_day


@pytest.mark.parametrize("received, rule, expected", [
    # SP4N-LAPOR! SMS: 8 calendar days from receipt
    (datetime(2026, 11, 20, 2, 0), "8d", datetime(2026, 11, 28, 2, 0)),
    # face to face: 15 minutes
    (datetime(2026, 11, 20, 2, 0), "15m", datetime(2026, 11, 20, 2, 15)),
    # Dinsos: 8 working days; received Friday 20 Nov 2026 10:00 WITA -> 2 Dec (weekends skipped)
    (datetime(2026, 11, 20, 2, 0), "8wd", datetime(2026, 12, 2, 2, 0)),
    # received Saturday: counting starts on Monday
    (datetime(2026, 11, 21, 2, 0), "1wd", datetime(2026, 11, 23, 2, 0)),
    # 23:30 UTC Thursday is 07:30 WITA Friday: the Kupang calendar decides
    (datetime(2026, 11, 19, 23, 30), "1wd", datetime(2026, 11, 22, 23, 30)),
    # Christmas 2026 (Friday) is a public holiday: 24 Dec + 1 working day = 28 Dec
    (datetime(2026, 12, 24, 2, 0), "1wd", datetime(2026, 12, 28, 2, 0)),
])
def test_due_at(received, rule, expected):
    assert due_at(received, Deadline.parse(rule)) == expected


def test_public_holidays_are_not_working_days():
    assert not is_working_day(datetime(2026, 8, 17).date())  # Hari Kemerdekaan, a Monday
    assert not is_working_day(datetime(2026, 11, 22).date())  # Sunday
    assert is_working_day(datetime(2026, 11, 23).date())
