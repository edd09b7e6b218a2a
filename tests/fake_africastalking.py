"""A fake Africa's Talking SMS API: a real HTTP server on 127.0.0.1 for tests and benchmarks.

It answers ``POST /version1/messaging`` like AT (form fields ``username``, ``to``, ``message``,
``from``, ``bulkSMSMode``, ``enqueue``; header ``apiKey``; JSON reply of DOMAIN.md §3 with
``Content-Type: application/json`` and ``messageId`` ``ATXid_<uuid>``), records every request it
receives, and can be scripted call by call::

    with FakeAfricasTalking() as fake:
        provider = AfricasTalkingProvider(username="sandbox", api_key=fake.api_key,
                                          base_url=fake.url)
        fake.fail_next(3, http_status=500)     # three HTTP 500, then success
        fake.reject_next(code=406)             # then one recipient status 406 UserInBlacklist
        fake.hang_next(seconds=5)              # then one request answered after 5 s
        fake.delay_ms = 200                    # every answer takes at least 200 ms
        ...
        fake.accepted                          # requests answered with a sent message

Scripted behaviours are consumed in order, one per request; afterwards every request
succeeds (101). A hung request is answered (success) once its time is up, as AT would still
send the SMS after the client gave up: it is recorded as accepted.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import parse_qs

__all__ = [
    "RECIPIENT_STATUSES",
    "Behaviour",
    "FakeAfricasTalking",
    "ReceivedRequest",
    "delivery_report_form",
    "incoming_sms_form",
    "optout_form",
]

MESSAGING_PATH = "/version1/messaging"
COST = "XOF 25.0000"

#: statusCode -> status text as AT writes it in ``Recipients``.
RECIPIENT_STATUSES: dict[int, str] = {
    100: "Processed",
    101: "Success",
    102: "Queued",
    401: "RiskHold",
    402: "InvalidSenderId",
    403: "InvalidPhoneNumber",
    404: "UnsupportedNumberType",
    405: "InsufficientBalance",
    406: "UserInBlacklist",
    407: "CouldNotRoute",
    409: "DoNotDisturbRejection",
    500: "InternalServerError",
    501: "GatewayError",
    502: "RejectedByGateway",
}


@dataclass(frozen=True, slots=True)
class Behaviour:
    """How to answer one request: an HTTP error status, or a recipient status code, after an
    optional hang (seconds); or close the connection without any answer (``drop``)."""

    http_status: int = 200
    recipient_status: int = 101
    hang_seconds: float = 0.0
    drop: bool = False


_SUCCESS = Behaviour()
_ERROR_BODIES = {
    400: "Request is missing required form field",
    401: "The supplied authentication is invalid",
    429: "Too many requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


@dataclass(frozen=True, slots=True)
class ReceivedRequest:
    """One request as the fake received it and how it answered."""

    number: str  # first recipient (we always send to one)
    numbers: tuple[str, ...]
    message: str
    sender: str | None
    api_key: str | None
    username: str | None
    bulk_sms_mode: str | None
    enqueue: str | None
    received_at: datetime
    http_status: int
    recipient_status: int | None
    message_ids: tuple[str, ...]
    form: Mapping[str, str] = field(repr=False)

    @property
    def message_id(self) -> str | None:
        return self.message_ids[0] if self.message_ids else None

    @property
    def accepted(self) -> bool:
        """True when the fake took the SMS (HTTP 200, status 100/101), even if the answer was
        late (hang) or never came (drop): AT would have sent it."""
        return self.http_status == 200 and self.recipient_status in (100, 101)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: clients reuse connections under load
    # answer at once: with Nagle's algorithm on, every reply stalls ~40 ms (delayed ACKs)
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet
        pass

    def do_POST(self) -> None:  # noqa: N802 - http.server naming
        self.server.fake._handle(self)

    def do_GET(self) -> None:  # noqa: N802
        self.server.fake._reply(self, 404, "text/plain", b"Not found")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024
    allow_reuse_address = True
    fake: FakeAfricasTalking


class FakeAfricasTalking:
    """The fake server. Use as a context manager, or call :meth:`start` / :meth:`stop`.

    ``username``/``api_key`` are what it expects (401 otherwise); ``delay_ms`` delays every
    answer. All methods are thread-safe.
    """

    def __init__(self, *, username: str = "sandbox", api_key: str = "test-api-key",
                 delay_ms: int = 0) -> None:
        self.username = username
        self.api_key = api_key
        self.delay_ms = delay_ms
        self._lock = threading.Condition()
        self._script: deque[Behaviour] = deque()
        self._requests: list[ReceivedRequest] = []
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # lifecycle -----------------------------------------------------------------------------

    def start(self) -> FakeAfricasTalking:
        if self._server is not None:
            raise RuntimeError("already started")
        self._stopping.clear()
        server = _Server(("127.0.0.1", 0), _Handler)
        server.fake = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05},
            name="fake-africastalking", daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; hung requests are released (and answered) at once."""
        if self._server is None:
            return
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> FakeAfricasTalking:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("not started")
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        """Base URL to configure as the AT base URL (the SDK adds ``/version1/messaging``)."""
        return f"http://127.0.0.1:{self.port}"

    # scripting -----------------------------------------------------------------------------

    def script(self, *behaviours: Behaviour) -> None:
        """Queue behaviours for the next requests, in order."""
        with self._lock:
            self._script.extend(behaviours)

    def fail_next(self, times: int = 1, *, http_status: int = 500) -> None:
        """The next ``times`` requests get HTTP ``http_status`` (e.g. 500, 503, 429, 401)."""
        self.script(*[Behaviour(http_status=http_status)] * times)

    def reject_next(self, times: int = 1, *, code: int = 403) -> None:
        """The next ``times`` requests get HTTP 200 with recipient ``statusCode`` ``code``."""
        self.script(*[Behaviour(recipient_status=code)] * times)

    def hang_next(self, times: int = 1, *, seconds: float = 30.0, http_status: int = 200,
                  code: int = 101) -> None:
        """The next ``times`` requests are answered only after ``seconds``: by default with a
        success (AT sent the SMS although the client gave up: recorded as accepted); pass
        ``http_status=503`` to script a hang that did not send anything."""
        self.script(*[Behaviour(http_status=http_status, recipient_status=code,
                                hang_seconds=seconds)] * times)

    def drop_next(self, times: int = 1) -> None:
        """The next ``times`` requests are read, recorded, then the connection is closed
        without an answer (did AT send it? the client cannot know)."""
        self.script(*[Behaviour(drop=True)] * times)

    def reset(self) -> None:
        """Forget recorded requests and pending behaviours; no delay."""
        with self._lock:
            self._script.clear()
            self._requests.clear()
            self.delay_ms = 0

    # inspection ----------------------------------------------------------------------------

    @property
    def requests(self) -> list[ReceivedRequest]:
        """Every request received so far (a copy), in arrival order."""
        with self._lock:
            return list(self._requests)

    @property
    def accepted(self) -> list[ReceivedRequest]:
        """Requests answered as sent (HTTP 200, recipient status 100/101)."""
        return [r for r in self.requests if r.accepted]

    def accepted_to(self, number: str) -> list[ReceivedRequest]:
        return [r for r in self.accepted if number in r.numbers]

    def wait_for(self, count: int, timeout: float = 10.0) -> bool:
        """Wait until at least ``count`` requests were received; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self._requests) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._lock.wait(remaining)
            return True

    # serving -------------------------------------------------------------------------------

    def _reply(self, handler: _Handler, status: int, content_type: str, body: bytes) -> None:
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", content_type)
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
            handler.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            handler.close_connection = True  # the client gave up (timeout): AT would not care

    def _handle(self, handler: _Handler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length).decode("utf-8", errors="replace") if length else ""
        if handler.path.split("?")[0] != MESSAGING_PATH:
            self._reply(handler, 404, "text/plain", b"Not found")
            return
        form = {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}
        api_key = handler.headers.get("apiKey")
        numbers = tuple(n.strip() for n in form.get("to", "").split(",") if n.strip())
        if api_key != self.api_key or form.get("username") != self.username:
            behaviour = Behaviour(http_status=401)
        elif not numbers or "message" not in form:
            behaviour = Behaviour(http_status=400)
        else:
            with self._lock:
                behaviour = self._script.popleft() if self._script else _SUCCESS
        ok_http = 200 <= behaviour.http_status < 300
        code = behaviour.recipient_status if ok_http else None
        message_ids = tuple(
            f"ATXid_{uuid.uuid4()}" for _ in numbers
        ) if code in (100, 101, 102) else ()
        record = ReceivedRequest(
            number=numbers[0] if numbers else "", numbers=numbers, message=form.get("message", ""),
            sender=form.get("from"), api_key=api_key, username=form.get("username"),
            bulk_sms_mode=form.get("bulkSMSMode"), enqueue=form.get("enqueue"),
            received_at=datetime.now(timezone.utc), http_status=behaviour.http_status,
            recipient_status=code, message_ids=message_ids, form=form,
        )
        with self._lock:
            self._requests.append(record)
            self._lock.notify_all()

        wait = behaviour.hang_seconds + self.delay_ms / 1000
        if wait > 0:
            self._stopping.wait(wait)
        if behaviour.drop:
            handler.close_connection = True
            return
        if not ok_http:
            body = _ERROR_BODIES.get(behaviour.http_status, f"Error {behaviour.http_status}").encode()
            self._reply(handler, behaviour.http_status, "text/plain", body)
            return
        self._reply(handler, 200, "application/json", _messaging_reply(numbers, code, message_ids))


def _messaging_reply(numbers: tuple[str, ...], code: int | None, message_ids: tuple[str, ...]) -> bytes:
    sent = code in (100, 101)
    recipients = [
        {
            "statusCode": code,
            "number": number,
            "status": RECIPIENT_STATUSES.get(code or 0, "Unknown"),
            "cost": COST if sent else "0",
            "messageId": message_ids[i] if message_ids else "None",
        }
        for i, number in enumerate(numbers)
    ]
    total = f"XOF {25 * len(numbers):.4f}" if sent else "0"
    summary = f"Sent to {len(numbers) if sent else 0}/{len(numbers)} Total Cost: {total}"
    return json.dumps({"SMSMessageData": {"Message": summary, "Recipients": recipients}}).encode()


# callback bodies (form fields AT posts to our callback URLs, DOMAIN.md §3) -----------------


def delivery_report_form(
    message_id: str, status: str = "Success", *, phone_number: str = "+22890123456",
    network_code: str = "99999", failure_reason: str | None = None, retry_count: int = 0,
) -> dict[str, str]:
    """Fields of a delivery report (``status``: Sent, Submitted, Buffered, Rejected, Success,
    Failed, AbsentSubscriber, Expired)."""
    form = {"id": message_id, "status": status, "phoneNumber": phone_number,
            "networkCode": network_code, "retryCount": str(retry_count)}
    if failure_reason is not None:
        form["failureReason"] = failure_reason
    return form


def incoming_sms_form(
    from_: str, text: str, *, to: str = "20880", sms_id: str | None = None,
    link_id: str | None = None, date: datetime | None = None, network_code: str = "99999",
) -> dict[str, str]:
    """Fields of an incoming SMS (AT retries it until it gets 200: reuse ``sms_id``)."""
    when = (date or datetime.now(timezone.utc)).strftime("%Y-%m-%d %H:%M:%S")
    return {"date": when, "from": from_, "to": to, "text": text,
            "id": sms_id or str(uuid.uuid4()), "linkId": link_id or str(uuid.uuid4()),
            "networkCode": network_code, "cost": "0"}


def optout_form(phone_number: str, sender_id: str = "GOLFE3") -> dict[str, str]:
    """Fields of an opt-out notification."""
    return {"senderId": sender_id, "phoneNumber": phone_number}


def iter_numbers(requests: list[ReceivedRequest]) -> Iterator[str]:
    """Every recipient number of ``requests``, in order (a number may repeat)."""
    for request in requests:
        yield from request.numbers
