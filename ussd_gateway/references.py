"""Request references: 9 digits, not sequential, with a Damm check digit.

A reference is typed on a keypad and read in an SMS, so it is digits only and shown in groups
of three (``250 042 175``). Its last digit is a Damm check digit: every single-digit error and
every swap of two adjacent digits is caught, so a typo answers "Référence invalide" instead of
another resident's request. The first eight digits are random (not guessable, not sequential);
uniqueness is enforced by the database, callers retry on a collision.
"""
from __future__ import annotations

import secrets

REFERENCE_DIGITS = 9

# Damm's totally anti-symmetric quasigroup of order 10.
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


def damm_check_digit(digits: str) -> str:
    """The Damm check digit of a string of decimal digits."""
    interim = 0
    for ch in digits:
        interim = _DAMM[interim][ord(ch) - 48]
    return str(interim)


def is_valid_damm(digits: str) -> bool:
    """True when ``digits`` (check digit included) passes the Damm check."""
    return damm_check_digit(digits) == "0"


def new_reference() -> str:
    """A fresh random reference (8 random digits + check digit); never starts with 0."""
    body = str(secrets.randbelow(9) + 1) + "".join(
        str(secrets.randbelow(10)) for _ in range(REFERENCE_DIGITS - 2)
    )
    return body + damm_check_digit(body)


def parse_reference(text: str) -> str | None:
    """The canonical 9-digit reference typed by a resident, or None if it is not one.

    Spaces, dots and dashes between digits are ignored (``250 042 175``, ``250-042-175``).
    Anything else, a wrong length or a failed check digit gives None.
    """
    cleaned = "".join(ch for ch in text.strip() if ch not in " .-\t")
    if len(cleaned) != REFERENCE_DIGITS or not cleaned.isascii() or not cleaned.isdigit():
        return None
    return cleaned if is_valid_damm(cleaned) else None


def format_reference(reference: str) -> str:
    """``250042175`` -> ``250 042 175`` (as shown on screens and in SMS)."""
    return " ".join(reference[i : i + 3] for i in range(0, len(reference), 3))
