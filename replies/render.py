"""Render replies from the templates in replies.texts."""
from __future__ import annotations

import re
from datetime import date as date_, datetime, time, timedelta, timezone

from replies.texts import NOTICE_PHRASES, SHORT_STATE_PHRASES, STATE_PHRASES, TEMPLATES

# Kupang keeps Central Indonesian Time (WITA, UTC+8) all year.
WITA = timezone(timedelta(hours=8), "WITA")
_CODE_CHARS = re.compile(r"[^0-9\- ]")


def in_kupang(moment: datetime) -> datetime:
    """A stored moment (UTC, naive) as the time in Kupang."""
    return moment.replace(tzinfo=timezone.utc).astimezone(WITA)


def day_starts(day: date_) -> datetime:
    """The stored moment (UTC, naive) at which a day in Kupang begins."""
    return datetime.combine(day, time.min, WITA).astimezone(timezone.utc).replace(tzinfo=None)


def date(moment: datetime) -> str:
    """Format a deadline as a citizen reads it: day-month-year in Kupang."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(WITA).strftime("%d-%m-%Y")


def stamp(moment: datetime) -> str:
    """Format a moment as officers read it: day-month-year and time in Kupang."""
    return in_kupang(moment).strftime("%d-%m-%Y %H:%M WITA")


def typed_code(text: str) -> str:
    """Echo back what a citizen typed as a code, safely: digits and hyphens, at most 12."""
    return _CODE_CHARS.sub("", text).strip()[:12] or "-"


def state_phrase(state: str) -> str:
    """Say a ticket state in plain words."""
    return STATE_PHRASES.get(state, state)


def ticket_list(tickets: list[tuple[str, str]]) -> str:
    """A citizen's tickets as (display code, state value), newest first, on one line."""
    return "; ".join(f"{code} {SHORT_STATE_PHRASES.get(state, state)}" for code, state in tickets)


def notice_list(items: list[tuple[str, str]], shown: int = 3) -> str:
    """An immediate notice's items as (kind, display code), the first few named, the rest counted."""
    named = [NOTICE_PHRASES[kind].format(code=code) for kind, code in items[:shown]]
    rest = len(items) - shown
    return "; ".join(named + ([f"+{rest} lainnya"] if rest > 0 else []))


def render(name: str, **values: str) -> str:
    """Render the named reply with the given values."""
    return TEMPLATES[name].format(**values)
