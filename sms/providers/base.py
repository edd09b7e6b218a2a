"""The interface every SMS provider adapter implements, and its typed errors.

Jobs only see :class:`SmsProvider`, :class:`SendResult` and the three error types, so a local
aggregator or an operator's gateway can be added next to Africa's Talking without touching them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

__all__ = [
    "AmbiguousSendError",
    "PermanentSendError",
    "RetryableSendError",
    "SendError",
    "SendResult",
    "SmsProvider",
]


@dataclass(frozen=True, slots=True)
class SendResult:
    """The provider accepted the message for one recipient.

    ``cost`` is the provider's text (e.g. ``"KES 0.8000"``); ``status_code``/``status`` are the
    provider's recipient status (AT: 100 Processed / 101 Sent).
    """

    message_id: str
    cost: str
    status_code: int
    status: str


class SendError(Exception):
    """Root of send failures. ``reason`` is short and shown to staff; ``status_code`` is the
    HTTP status or the provider's recipient status code when there is one."""

    def __init__(self, reason: str, *, status_code: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status_code = status_code


class RetryableSendError(SendError):
    """The message certainly did not go out (connection refused, 5xx, 429, queue full...):
    sending again later is safe."""


class PermanentSendError(SendError):
    """The provider refused this message for good (invalid number, blacklist, bad sender id,
    bad credentials...): do not retry; keep the reason for staff."""


class AmbiguousSendError(SendError):
    """The request may have reached the provider (read timeout after sending, connection
    dropped before the answer, unreadable answer): resending risks a duplicate SMS."""


class SendTimeout(AmbiguousSendError):
    """The provider took the request but did not answer in time. It may or may not have sent
    the SMS; the send job decides (``sms.retry_after_timeout``): resend (the default: a hung
    provider usually sent nothing) or keep the row ``ambiguous`` for staff."""


@runtime_checkable
class SmsProvider(Protocol):
    """Sends one SMS to one E.164 number. Raises one of the SendError subclasses."""

    name: str

    def send(self, to: str, message: str, sender_id: str | None) -> SendResult: ...
