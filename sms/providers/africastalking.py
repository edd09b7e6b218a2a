"""Africa's Talking adapter, through the official ``africastalking`` SDK (2.0.3).

We subclass the SDK's ``SMSService`` rather than call ``africastalking.initialize()`` (which
sets module globals) and override two hooks:

* ``_init_service`` points the service at ``base_url`` from settings (default: the SDK's own
  production URL, or its sandbox when ``username == "sandbox"``);
* ``_make_request`` sends through a per-thread ``requests.Session`` (connection reuse under
  concurrency) and, on a non-2xx answer, raises :class:`AfricasTalkingHTTPError`, an
  ``AfricasTalkingException`` that keeps the HTTP status code the SDK would lose.

Timeouts are always explicit: ``send(..., timeout=(connect, read))``, an argument of the SDK.
The reply is mapped to :class:`SendResult` or to a typed error by the tables below.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

import requests
from africastalking.Service import DEFAULT_TIMEOUT_S, AfricasTalkingException, validate_phone
from africastalking.SMS import SMSService
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, ProxyError

from sms.providers.base import (
    AmbiguousSendError,
    SendTimeout,
    PermanentSendError,
    RetryableSendError,
    SendError,
    SendResult,
)

__all__ = [
    "RECIPIENT_PERMANENT",
    "RECIPIENT_RETRYABLE",
    "RECIPIENT_SUCCESS",
    "AfricasTalkingHTTPError",
    "AfricasTalkingProvider",
    "ConfigurableSMSService",
    "error_for_http_status",
    "result_from_reply",
]

#: Recipient ``statusCode`` values (DOMAIN.md §3).
RECIPIENT_SUCCESS: dict[int, str] = {100: "Processed", 101: "Sent"}
RECIPIENT_RETRYABLE: dict[int, str] = {
    102: "Queued",
    500: "InternalServerError",
    501: "GatewayError",
    502: "RejectedByGateway",
}
RECIPIENT_PERMANENT: dict[int, str] = {
    401: "RiskHold",
    402: "InvalidSenderId",
    403: "InvalidPhoneNumber",
    404: "UnsupportedNumberType",
    405: "InsufficientBalance",
    406: "UserInBlacklist",
    407: "CouldNotRoute",
    409: "DoNotDisturbRejection",
}
_RETRYABLE_HTTP = frozenset({408, 429})


class AfricasTalkingHTTPError(AfricasTalkingException):
    """A non-2xx answer; unlike the SDK's plain exception it keeps the status code."""

    def __init__(self, status_code: int, body: str) -> None:
        super().__init__(body)
        self.status_code = status_code
        self.body = body


class ConfigurableSMSService(SMSService):
    """The SDK's SMS service with a base URL from settings and status-preserving errors."""

    def __init__(self, username: str, api_key: str, *, base_url: str | None = None) -> None:
        self._configured_base_url = base_url.rstrip("/") if base_url else None
        self._local = threading.local()
        super().__init__(username, api_key)

    def _init_service(self) -> None:
        super()._init_service()  # production or sandbox URL, plus "/version1"
        if self._configured_base_url:
            self._baseUrl = self._configured_base_url + "/version1"
            self._contentUrl = self._baseUrl

    @property
    def base_url(self) -> str:
        return self._baseUrl

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            self._local.session = session
        return session

    def _make_request(  # signature of the SDK's Service._make_request
        self,
        url: str,
        method: str,
        headers: Mapping[str, str],
        data: Any,
        params: Any,
        callback: Any = None,
        timeout: Any = DEFAULT_TIMEOUT_S,
    ) -> Any:
        if callback is not None:
            raise RuntimeError("asynchronous callbacks are not supported by this adapter")
        response = self._session().request(
            method.upper(),
            url,
            headers=dict(headers),
            data=data,
            params=params,
            timeout=timeout,
            allow_redirects=False,  # a redirect means a wrong base URL: fail, never re-POST
        )
        if not 200 <= response.status_code < 300:
            raise AfricasTalkingHTTPError(response.status_code, response.text)
        media_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type == "application/json":
            try:
                return response.json()
            except ValueError:
                return response.text
        return response.text


def error_for_http_status(status_code: int, body: str) -> SendError:
    """HTTP 5xx, 408 and 429 are retryable; any other non-2xx (401 bad key, 400...) is not."""
    snippet = " ".join(body.split())[:120]
    reason = f"HTTP {status_code}: {snippet}" if snippet else f"HTTP {status_code}"
    if status_code >= 500 or status_code in _RETRYABLE_HTTP:
        return RetryableSendError(reason, status_code=status_code)
    return PermanentSendError(reason, status_code=status_code)


def result_from_reply(reply: Any, to: str) -> SendResult:
    """Map AT's JSON reply for one recipient to a SendResult, or raise a typed SendError."""
    if not isinstance(reply, dict) or not isinstance(reply.get("SMSMessageData"), dict):
        raise AmbiguousSendError(f"unreadable reply: {str(reply)[:120]}")
    data = reply["SMSMessageData"]
    recipients = data.get("Recipients") or []
    if not recipients:
        raise PermanentSendError(f"no recipient accepted: {data.get('Message', '')}"[:160])
    recipient = next((r for r in recipients if r.get("number") == to), recipients[0])
    try:
        code = int(recipient.get("statusCode"))
    except (TypeError, ValueError):
        raise AmbiguousSendError(f"reply without a status code: {recipient}"[:160]) from None
    status = str(recipient.get("status", ""))
    if code in RECIPIENT_SUCCESS:
        return SendResult(
            message_id=str(recipient.get("messageId", "")),
            cost=str(recipient.get("cost", "")),
            status_code=code,
            status=status or RECIPIENT_SUCCESS[code],
        )
    reason = f"{code} {status or RECIPIENT_RETRYABLE.get(code) or RECIPIENT_PERMANENT.get(code, '')}"
    if code in RECIPIENT_RETRYABLE:
        raise RetryableSendError(reason.strip(), status_code=code)
    if code in RECIPIENT_PERMANENT:
        raise PermanentSendError(reason.strip(), status_code=code)
    raise AmbiguousSendError(f"unknown recipient status {reason.strip()}", status_code=code)


def _never_connected(exc: requests.exceptions.ConnectionError) -> bool:
    """True when the error happened before any byte of the request could reach AT."""
    if isinstance(exc, (requests.exceptions.SSLError, requests.exceptions.ProxyError)):
        return True
    cause = exc.args[0] if exc.args else None
    if isinstance(cause, MaxRetryError):
        cause = cause.reason
    # NewConnectionError (refused, unreachable) and NameResolutionError subclass ConnectTimeoutError
    return isinstance(cause, (ConnectTimeoutError, ProxyError))


class AfricasTalkingProvider:
    """Sends one SMS per call through Africa's Talking; see the module docstring."""

    name = "africastalking"

    def __init__(
        self,
        *,
        username: str,
        api_key: str,
        base_url: str | None = None,
        connect_timeout: float = 3.05,
        read_timeout: float = 10.0,
    ) -> None:
        if not username or not api_key:
            raise ValueError("Africa's Talking needs a username and an API key")
        if connect_timeout <= 0 or read_timeout <= 0:
            raise ValueError("timeouts must be positive")
        self._service = ConfigurableSMSService(username, api_key, base_url=base_url or None)
        self._timeout = (connect_timeout, read_timeout)

    @property
    def base_url(self) -> str:
        """The URL prefix messages are posted to (``.../version1``)."""
        return self._service.base_url

    @property
    def timeout(self) -> tuple[float, float]:
        return self._timeout

    def send(self, to: str, message: str, sender_id: str | None) -> SendResult:
        if not validate_phone(to):
            raise PermanentSendError(f"invalid phone number for AT: {to!r}")
        try:
            reply = self._service.send(
                message, [to], sender_id=sender_id or None, timeout=self._timeout
            )
        except AfricasTalkingHTTPError as exc:
            raise error_for_http_status(exc.status_code, exc.body) from exc
        except requests.exceptions.ConnectTimeout as exc:
            raise RetryableSendError(f"connect timeout after {self._timeout[0]} s") from exc
        except requests.exceptions.ReadTimeout as exc:
            raise SendTimeout(
                f"no answer within {self._timeout[1]} s after sending (may have been sent)"
            ) from exc
        except requests.exceptions.ConnectionError as exc:
            if _never_connected(exc):
                raise RetryableSendError(f"connection failed: {_short(exc)}") from exc
            raise AmbiguousSendError(f"connection lost after sending: {_short(exc)}") from exc
        except (
            requests.exceptions.InvalidURL,
            requests.exceptions.MissingSchema,
            requests.exceptions.InvalidSchema,
        ) as exc:
            raise PermanentSendError(f"bad Africa's Talking base URL: {_short(exc)}") from exc
        except requests.exceptions.RequestException as exc:  # broken body, decoding...
            raise AmbiguousSendError(f"request failed after sending: {_short(exc)}") from exc
        return result_from_reply(reply, to)


def _short(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:160]
