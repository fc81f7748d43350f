"""Deadlines of the service standard: calendar days, working days, minutes."""
from datetime import datetime

import pytest

from config import Deadline
from handlers.deadlines import due_at, is_working_day

NO_LOCAL = frozenset()  # no holiday the province declares


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
    # Christmas 2026 (Friday) is a public holiday and Christmas Eve cuti bersama: 23 Dec + 1 working day = 28 Dec
    (datetime(2026, 12, 23, 2, 0), "1wd", datetime(2026, 12, 28, 2, 0)),
    # Dinsos over Nyepi and Idulfitri 2026: received Wednesday 18 March; Nyepi on the 19th, cuti bersama on
    # the 20th, 23rd and 24th around Eid (21st, 22nd): 8 working days from the 25th, Good Friday skipped -> 6 April
    # (counting cuti bersama as working days gave 31 March)
    (datetime(2026, 3, 18, 2, 0), "8wd", datetime(2026, 4, 6, 2, 0)),
])
def test_due_at(received, rule, expected):
    assert due_at(received, Deadline.parse(rule), NO_LOCAL) == expected


def test_public_holidays_are_not_working_days():
    assert not is_working_day(datetime(2026, 8, 17).date(), NO_LOCAL)  # Hari Kemerdekaan, a Monday
    assert not is_working_day(datetime(2026, 12, 24).date(), NO_LOCAL)  # cuti bersama Natal, a Thursday
    assert not is_working_day(datetime(2026, 3, 23).date(), NO_LOCAL)  # cuti bersama Idulfitri, a Monday
    assert not is_working_day(datetime(2026, 11, 22).date(), NO_LOCAL)  # Sunday
    assert is_working_day(datetime(2026, 11, 23).date(), NO_LOCAL)
