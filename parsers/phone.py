"""Phone numbers: any Indonesian way of writing them to E.164, and masked for logs."""
from __future__ import annotations

import re

import phonenumbers

DEFAULT_REGION = "ID"
WHATSAPP_PREFIX = "whatsapp:"
_JUNK = re.compile(r"[\s\-().]")


def split_address(address: str) -> tuple[str, str]:
    """Split a provider address into (channel, bare number): 'whatsapp:+62..' or '+62..'."""
    address = (address or "").strip()
    if address.lower().startswith(WHATSAPP_PREFIX):
        return "whatsapp", address[len(WHATSAPP_PREFIX):].strip()
    return "sms", address


def to_e164(raw: str, region: str = DEFAULT_REGION) -> str | None:
    """Return the number in E.164, or None when it is not a possible phone number."""
    _, number = split_address(raw)
    number = _JUNK.sub("", number)
    if number.startswith("00"):
        number = "+" + number[2:]
    elif number.isdigit() and len(number) >= 10 \
            and number.startswith(str(phonenumbers.country_code_for_region(region))):
        # 62812... written without the plus: the country code is already there.
        number = "+" + number
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def valid_number(raw: str, region: str = DEFAULT_REGION) -> str | None:
    """Return the number in E.164 when it is one that can be dialled (a valid number of its country,
    not only one of a possible length); None otherwise."""
    e164 = to_e164(raw, region)
    return e164 if e164 and phonenumbers.is_valid_number(phonenumbers.parse(e164)) else None


def national(e164: str) -> str:
    """Write a number as it is read in Indonesia ("0812-3456-7890"); a foreign one stays in E.164."""
    parsed = phonenumbers.parse(e164)
    if parsed.country_code != phonenumbers.country_code_for_region(DEFAULT_REGION):
        return e164
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)


def address_for(channel: str, e164: str) -> str:
    """Return the provider address of a number on a channel."""
    return f"{WHATSAPP_PREFIX}{e164}" if channel == "whatsapp" else e164


_NOT_DIALED = re.compile(r"[^0-9+]")


def mask(value: str | None) -> str:
    """Hide the middle of a phone number so a log line cannot identify a citizen."""
    if not value:
        return "-"
    channel, number = split_address(value)
    prefix = "wa:" if channel == "whatsapp" else ""
    number = _NOT_DIALED.sub("?", number)  # what a forged sender holds besides digits shows as "?"
    if len(number) <= 6:
        return prefix + "*" * len(number)
    return f"{prefix}{number[:5]}***{number[-3:]}"
