"""Phone numbers: accept what residents and providers send, store E.164.

Togolese numbers arrive as ``+22890123456``, ``22890123456``, ``90123456`` or ``90 12 34 56``;
the diaspora uses valid numbers of any country (``+33…``). The ``phonenumbers`` library holds
the numbering plans; we only choose the default region.
"""
from __future__ import annotations

import phonenumbers

DEFAULT_REGION = "TG"


class InvalidPhoneNumber(ValueError):
    """The text is not a valid phone number."""


def normalize_phone(raw: str, default_region: str = DEFAULT_REGION) -> str:
    """E.164 form of ``raw`` (``+22890123456``), or raise InvalidPhoneNumber."""
    text = (raw or "").strip()
    if not text or len(text) > 32:
        raise InvalidPhoneNumber(f"numéro de téléphone invalide: {raw!r}")
    digits = text.replace(" ", "").replace("-", "").replace(".", "")
    # Providers and residents often drop the "+" of an international number.
    if not digits.startswith("+") and digits.isdigit() and len(digits) > 8:
        if digits.startswith("00"):
            digits = "+" + digits[2:]
        elif digits.startswith("228") or len(digits) >= 11:
            digits = "+" + digits
    try:
        number = phonenumbers.parse(digits, default_region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhoneNumber(f"numéro de téléphone invalide: {raw!r}") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhoneNumber(f"numéro de téléphone invalide: {raw!r}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def country_calling_code(e164: str) -> str:
    """``+22890123456`` -> ``228``."""
    return str(phonenumbers.parse(e164, None).country_code)


def mask_phone(e164: str) -> str:
    """A partly masked number for agents' lists: ``+228 90 •• •• 56``."""
    if len(e164) < 6:
        return "•" * len(e164)
    return e164[:6] + "•" * (len(e164) - 8) + e164[-2:]
