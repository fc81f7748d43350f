"""The national SP4N-LAPOR! tracking ID a citizen quotes in a complaint ("No. tracking LAPOR 1234567")."""
from __future__ import annotations

import re

# "LAPOR" (or LAPOR!) beside a word that says a number follows (tracking, no., nomor, id, #), then 5 to 12
# digits: a count ("sudah lapor 3 kali") or a date is no ID.
_TRACKING = re.compile(
    r"(?:\b(?:no|nomor|nmr|tracking|trekking|traking|id|kode)\b\.?\s*(?:tracking\s*|id\s*|laporan\s*)?"
    r"(?:di\s*)?lapor\b!?|\blapor\b!?\s*(?:no|nomor|nmr|tracking|trekking|traking|id|kode)\b\.?)"
    r"\s*(?:tracking\s*|id\s*)?[:.#-]?\s*#?\s*(\d{5,12})\b",
    re.IGNORECASE)
_TYPED = re.compile(r"^\s*#?\s*(\d{5,12})\s*$")


def tracking_id(text: str) -> str:
    """The SP4N-LAPOR! tracking ID the text quotes, or ""."""
    match = _TRACKING.search(text or "")
    return match.group(1) if match else ""


def typed_id(text: str) -> str | None:
    """A tracking ID as an officer types or pastes it ("#1234567", "1234567"): its digits; "" for an
    empty field (none); None for anything else."""
    if not (text or "").strip():
        return ""
    match = _TYPED.match(text)
    return match.group(1) if match else None
