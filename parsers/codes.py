"""Tracking codes: 8 digits, the last a Damm check digit, shown as 1234-5678."""
from __future__ import annotations

import re
import secrets

# The Damm quasigroup (weakly totally anti-symmetric, order 10): detects every
# single-digit error and every adjacent transposition.
_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)
CODE_LENGTH = 8
_SEPARATORS = re.compile(r"[\s\-.]")


def damm_digit(digits: str) -> int:
    """Return the Damm check digit for a string of digits."""
    interim = 0
    for ch in digits:
        interim = _DAMM[interim][int(ch)]
    return interim


def is_valid(code: str) -> bool:
    """Tell whether 8 digits carry a correct check digit."""
    return len(code) == CODE_LENGTH and code.isdigit() and damm_digit(code) == 0


def new_code() -> str:
    """Return a random tracking code (7 random digits and the check digit)."""
    body = f"{secrets.randbelow(10 ** (CODE_LENGTH - 1)):0{CODE_LENGTH - 1}d}"
    return body + str(damm_digit(body))


def normalize(text: str) -> str:
    """Strip the separators a person may type (hyphen, spaces, dots) from a code."""
    return _SEPARATORS.sub("", text)


def display(code: str) -> str:
    """Format a stored code for people: 1234-5678."""
    return f"{code[:4]}-{code[4:]}"
