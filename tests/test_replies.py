"""Replies: every automatic reply fits one GSM-7 segment with long realistic values."""
import string
from datetime import datetime

import pytest

from config import Settings
from replies.render import date, notice_list, render, state_phrase, ticket_list, typed_code
from replies.segments import count, is_gsm7
from replies.texts import EXAMPLE_CODE, NOTICE_PHRASES, SHORT_STATE_PHRASES, STATE_PHRASES, TEMPLATES

SERVICE = Settings.from_env({}).service
LONGEST_SERVICE = max((line.name for line in SERVICE.lines), key=len)
LONGEST_KEYWORD = max((line.keyword for line in SERVICE.lines), key=len)
LONGEST_STATE = max(STATE_PHRASES.values(), key=len)
LONGEST_SHORT_STATE = max(SHORT_STATE_PHRASES, key=lambda state: len(SHORT_STATE_PHRASES[state]))
LONGEST_AGENCY = max((agency.short_name for agency in SERVICE.agencies.values()), key=len)  # messages name it short
LONG_VALUES = {
    "code": "9876-5432", "due": "30-12-2026", "state": LONGEST_STATE,
    "service": LONGEST_SERVICE, "keyword": LONGEST_KEYWORD, "agency": LONGEST_AGENCY,
    "items": ticket_list([("9876-5432", LONGEST_SHORT_STATE)] * 3),  # as many as a citizen is shown
    # the officers' digest: three-digit counts, a head's escalations, three codes
    "day": "08-12", "waiting": "999", "overdue": "999", "today": "999", "tomorrow": "999",
    "escalated": ", 99 eskalasi", "codes": ", ".join(["9876-5432"] * 3),
}


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_every_reply_fits_one_gsm7_segment(name):
    fields = {f for _, f, _, _ in string.Formatter().parse(TEMPLATES[name]) if f}
    values = {f: LONG_VALUES[f] for f in fields}
    if name == "invalid_code":
        values["code"] = typed_code("1234-5678-9999-8888 (salah ketik panjang sekali)")
    if name == "notice":  # every kind, the longest first, and how many more
        kinds = sorted(NOTICE_PHRASES, key=lambda k: -len(NOTICE_PHRASES[k]))
        values["items"] = notice_list([(kind, "9876-5432") for kind in kinds] * 40)
    if name == "forwarded":  # after the prefix of the agency with the longest short name
        values["code"] = "9876-5432"
    text = ("[9876-5432] " + LONGEST_AGENCY + ": " if name == "forwarded" else "") + render(name, **values)
    result = count(text)
    assert result.encoding == "GSM-7", text
    assert result.segments == 1, f"{name}: {result.units} characters: {text}"


@pytest.mark.parametrize("state", sorted(STATE_PHRASES))
def test_every_status_reply_fits(state):
    for text in (render("status", code="9876-5432", state=state_phrase(state), due="30-12-2026"),
                 render("status_closed", code="9876-5432", state=state_phrase(state))):
        assert count(text).segments == 1 and is_gsm7(text)


def test_every_ticket_state_has_a_short_phrase():
    assert set(SHORT_STATE_PHRASES) == set(STATE_PHRASES)


@pytest.mark.parametrize("text, encoding, units, segments", [
    ("", "GSM-7", 0, 0),
    ("a" * 160, "GSM-7", 160, 1),
    ("a" * 161, "GSM-7", 161, 2),
    ("a" * 306, "GSM-7", 306, 2),
    ("a" * 307, "GSM-7", 307, 3),
    ("harga [naik] {lagi}", "GSM-7", 23, 1),       # extension characters count twice
    ("€" * 80, "GSM-7", 160, 1),
    ("€" * 81, "GSM-7", 162, 2),
    ("Terima kasih 🙏", "UCS-2", 15, 1),           # one emoji is two UTF-16 units
    ("x" * 70 + "’", "UCS-2", 71, 2),              # a curly quote forces UCS-2
    ("é" * 70, "GSM-7", 70, 1),                    # é is in the GSM-7 alphabet
    ("ê" * 70, "UCS-2", 70, 1),
    ("ê" * 71, "UCS-2", 71, 2),
    ("ê" * 134, "UCS-2", 134, 2),
    ("ê" * 135, "UCS-2", 135, 3),
])
def test_segment_counting(text, encoding, units, segments):
    result = count(text)
    assert (result.encoding, result.units, result.segments) == (encoding, units, segments)


def test_dates_are_shown_in_kupang_time():
    assert date(datetime(2026, 11, 30, 17, 0)) == "01-12-2026"  # 17:00 UTC is 01:00 WITA
    assert date(datetime(2026, 11, 30, 15, 59)) == "30-11-2026"


def test_typed_code_echo_is_safe():
    assert typed_code("12<script>34") == "1234"
    assert typed_code("😀") == "-"
    assert len(typed_code("1" * 100)) == 12


def test_example_codes_in_replies_are_valid_codes():
    import re

    from parsers import codes

    examples = {m for text in TEMPLATES.values() for m in re.findall(r"\d{4}-\d{4}", text)} | {EXAMPLE_CODE}
    assert all(codes.is_valid(codes.normalize(e)) for e in examples)


def test_the_whatsapp_template_text_is_given_to_the_operator_as_the_gateway_shows_it():
    """The template approved in Twilio must say what the inbox shows was sent: service.toml quotes it."""
    from config import DEFAULT_SERVICE_FILE

    approved = TEMPLATES["window_notice"].replace("{code}", "{{1}}")
    assert f'"{approved}"' in DEFAULT_SERVICE_FILE.read_text(encoding="utf-8")
