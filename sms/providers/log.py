"""A provider that sends nothing: it keeps and logs each message (embedded default, tests)."""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

from sms.providers.base import SendResult

__all__ = ["LogProvider", "LoggedSms"]

logger = logging.getLogger("sms.providers.log")


@dataclass(frozen=True, slots=True)
class LoggedSms:
    message_id: str
    to: str
    message: str
    sender_id: str | None
    at: datetime


class LogProvider:
    """Records every message in :attr:`sent` (thread-safe) and logs it at INFO."""

    name = "log"

    def __init__(self, **_settings: object) -> None:
        self._lock = threading.Lock()
        self._sent: list[LoggedSms] = []

    @property
    def sent(self) -> list[LoggedSms]:
        """A copy of the messages "sent" so far, oldest first."""
        with self._lock:
            return list(self._sent)

    def send(self, to: str, message: str, sender_id: str | None) -> SendResult:
        record = LoggedSms(
            message_id=f"log-{uuid.uuid4()}",
            to=to,
            message=message,
            sender_id=sender_id,
            at=datetime.now(timezone.utc),
        )
        with self._lock:
            self._sent.append(record)
        logger.info("SMS not sent (log provider) to=%s from=%s id=%s: %s",
                    to, sender_id or "-", record.message_id, message)
        return SendResult(message_id=record.message_id, cost="0", status_code=101, status="Logged")
