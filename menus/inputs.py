"""Validation of typed answers: raw keypad text -> (canonical value, displayed value).

Each validator raises :class:`InvalidAnswer` naming the graph message to show (with its
template variables) so the screen is asked again with an error line, or :class:`Redirect`
when a rule sends the resident elsewhere (a late birth declaration goes to the tribunal).
"""
from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Callable

from menus.model import InputScreen
from ussd_gateway.phones import InvalidPhoneNumber, normalize_phone
from ussd_gateway.references import format_reference, parse_reference


class InvalidAnswer(ValueError):
    def __init__(self, message: str, **variables: str) -> None:
        super().__init__(message)
        self.message = message
        self.variables = variables


class Redirect(Exception):
    def __init__(self, target: str, value: str, display: str) -> None:
        super().__init__(target)
        self.target = target
        self.value = value
        self.display = display


_DATE_SEPARATORS = re.compile(r"[\s/.\-]")
_SPACES = re.compile(r"\s+")


def validate_text(screen: InputScreen, raw: str, today: date) -> tuple[str, str]:
    text = _SPACES.sub(" ", raw).strip()
    if not (screen.min_len <= len(text) <= screen.max_len) or not any(c.isalnum() for c in text):
        raise InvalidAnswer("invalid_text", min=str(screen.min_len), max=str(screen.max_len))
    return text, text


def validate_number(screen: InputScreen, raw: str, today: date) -> tuple[str, str]:
    text = raw.strip()
    low, high = screen.minimum or 0, screen.maximum or 0
    if not (text.isascii() and text.isdigit()) or len(text) > 6 or not (low <= int(text) <= high):
        raise InvalidAnswer("invalid_number", min=str(low), max=str(high))
    value = str(int(text))
    return value, value


def validate_date(screen: InputScreen, raw: str, today: date) -> tuple[str, str]:
    digits = _DATE_SEPARATORS.sub("", raw)
    if len(digits) != 8 or not (digits.isascii() and digits.isdigit()):
        raise InvalidAnswer("invalid_date")
    try:
        day = date(int(digits[4:]), int(digits[2:4]), int(digits[:2]))
    except ValueError:
        raise InvalidAnswer("invalid_date") from None
    if not 1900 <= day.year <= today.year + 5:
        raise InvalidAnswer("invalid_date")
    rules = screen.rules
    value, display = day.isoformat(), day.strftime("%d/%m/%Y")
    if rules.not_future and day > today:
        raise InvalidAnswer("date_future")
    if rules.not_past and day < today:
        raise InvalidAnswer("date_past")
    if rules.min_days_ahead is not None and day < today + timedelta(days=rules.min_days_ahead):
        raise InvalidAnswer("date_too_soon", days=str(rules.min_days_ahead))
    if rules.max_days_ahead is not None and day > today + timedelta(days=rules.max_days_ahead):
        raise InvalidAnswer("date_too_far", days=str(rules.max_days_ahead))
    if rules.max_days_past is not None and day < today - timedelta(days=rules.max_days_past):
        if rules.max_days_past_next:
            raise Redirect(rules.max_days_past_next, value, display)
        raise InvalidAnswer("date_too_old", days=str(rules.max_days_past))
    return value, display


def validate_phone(screen: InputScreen, raw: str, today: date) -> tuple[str, str]:
    try:
        value = normalize_phone(raw[:40])
    except InvalidPhoneNumber:
        raise InvalidAnswer("invalid_phone") from None
    return value, value


def validate_reference(screen: InputScreen, raw: str, today: date) -> tuple[str, str]:
    value = parse_reference(raw[:40])
    if value is None:
        raise InvalidAnswer("invalid_reference")
    return value, format_reference(value)


VALIDATORS: dict[str, Callable[[InputScreen, str, date], tuple[str, str]]] = {
    "text": validate_text,
    "number": validate_number,
    "date": validate_date,
    "phone": validate_phone,
    "reference": validate_reference,
}
"""Input type -> validator (explicit registry)."""
