"""Africa's Talking callbacks decoded into validated, typed records (DOMAIN.md §3).

Each decoder takes the form fields and returns a frozen record, or raises CallbackError naming
the missing or malformed field. The blueprint turns that into a specific HTTP status.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from ussd_gateway.phones import InvalidPhoneNumber, normalize_phone

#: a USSD answer is at most ~182 characters a hop, but the accumulated ``text`` grows with
#: the session; anything beyond this is not a phone talking to us.
MAX_USSD_TEXT = 32768
MAX_ID = 200


class CallbackError(ValueError):
    """A callback is missing a field or carries a malformed one."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


def _required(form: Mapping[str, str], name: str, max_len: int = MAX_ID) -> str:
    value = form.get(name)
    if value is None or value.strip() == "":
        raise CallbackError(name, "missing")
    value = value.strip()
    if len(value) > max_len:
        raise CallbackError(name, f"longer than {max_len} characters")
    return value


def _optional(form: Mapping[str, str], name: str, max_len: int) -> str:
    """An optional field, empty when absent, cut to ``max_len`` characters."""
    return (form.get(name) or "")[:max_len]


def _phone(form: Mapping[str, str], name: str) -> str:
    raw = _required(form, name, 40)
    try:
        return _normalized_phone(raw)
    except InvalidPhoneNumber:
        raise CallbackError(name, f"not a valid phone number: {raw!r}") from None


@lru_cache(maxsize=4096)
def _normalized_phone(raw: str) -> str:
    """``normalize_phone`` remembered: a session's every hop carries the same number, and
    parsing it (``phonenumbers``) costs more than the rest of decoding the callback."""
    return normalize_phone(raw)


def _int_or_none(form: Mapping[str, str], name: str) -> int | None:
    raw = (form.get(name) or "").strip()
    if not raw:
        return None
    try:
        return int(float(raw))
    except ValueError:
        raise CallbackError(name, f"not a number: {raw!r}") from None


@dataclass(frozen=True, slots=True)
class UssdHop:
    session_id: str
    service_code: str
    phone: str
    network_code: str
    text: str


def _present(form: Mapping[str, str], name: str) -> str:
    """A field that must be sent but may be empty (USSD ``text`` on the first hop)."""
    value = form.get(name)
    if value is None:
        raise CallbackError(name, "missing")
    return value


def decode_ussd_hop(form: Mapping[str, str]) -> UssdHop:
    text = _present(form, "text")
    if len(text) > MAX_USSD_TEXT:
        raise CallbackError("text", f"longer than {MAX_USSD_TEXT} characters")
    return UssdHop(
        session_id=_required(form, "sessionId"),
        service_code=_required(form, "serviceCode", 40),
        phone=_phone(form, "phoneNumber"),
        network_code=(form.get("networkCode") or "").strip()[:20],
        text=text,
    )


@dataclass(frozen=True, slots=True)
class UssdSessionEnd:
    session_id: str
    phone: str
    status: str
    hops: int | None
    duration_ms: int | None
    cost: str
    error_message: str


def decode_ussd_end(form: Mapping[str, str]) -> UssdSessionEnd:
    return UssdSessionEnd(
        session_id=_required(form, "sessionId"),
        phone=_required(form, "phoneNumber", 40),
        status=_required(form, "status", 20),
        hops=_int_or_none(form, "hopsCount"),
        duration_ms=_int_or_none(form, "durationInMillis"),
        cost=_optional(form, "cost", 40),
        error_message=_optional(form, "errorMessage", 2000),
    )


@dataclass(frozen=True, slots=True)
class IncomingSmsCallback:
    provider_id: str
    from_phone: str
    to: str
    text: str
    link_id: str
    date: str


def decode_incoming_sms(form: Mapping[str, str]) -> IncomingSmsCallback:
    text = _present(form, "text")
    return IncomingSmsCallback(
        provider_id=_required(form, "id"),
        from_phone=_required(form, "from", 40),
        to=_optional(form, "to", 32),
        text=text[:2000],
        link_id=_optional(form, "linkId", 100),
        date=_optional(form, "date", 40),
    )


@dataclass(frozen=True, slots=True)
class DeliveryReportCallback:
    message_id: str
    status: str
    phone: str
    failure_reason: str
    retry_count: int | None


def decode_delivery_report(form: Mapping[str, str]) -> DeliveryReportCallback:
    return DeliveryReportCallback(
        message_id=_required(form, "id"),
        status=_required(form, "status", 40),
        phone=_optional(form, "phoneNumber", 40),
        failure_reason=_optional(form, "failureReason", 80),
        retry_count=_int_or_none(form, "retryCount"),
    )


@dataclass(frozen=True, slots=True)
class OptOutCallback:
    phone: str
    sender_id: str


def decode_opt_out(form: Mapping[str, str]) -> OptOutCallback:
    return OptOutCallback(
        phone=_phone(form, "phoneNumber"), sender_id=_optional(form, "senderId", 20)
    )
