"""Africa's Talking callbacks: USSD hops, end of session, incoming SMS, delivery, opt-out.

Every URL carries the secret callback token (AT signs nothing and publishes no IP list). A wrong
token answers 404 before any database or Redis access. Each route decodes its form into a typed
record (``callbacks.py``) and hands it to the module that owns the behaviour:
USSD hop → ``ussd.answer_hop``; SMS callbacks → ``sms_callbacks``.

The USSD hop is the hot path (one request per key press of every resident): registering the
blueprint also installs ``UssdHopFastPath``, a thin WSGI layer in front of Flask that answers
well-formed hop POSTs itself, with the same token check, decoding, replies and statuses as the
``ussd_hop`` route, without Flask's per-request machinery (request context, session, CSRF
check, after-request hooks). Anything else (another URL, a wrong token, another content type,
a body over the size limit) goes to Flask unchanged.
"""
from __future__ import annotations

import hmac
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl

from flask import Blueprint, Response, abort, current_app, g, request
from sqlalchemy.exc import SQLAlchemyError

from ussd_gateway import callbacks, sms_callbacks, ussd

log = logging.getLogger(__name__)
PROVIDER = "africastalking"
bp = Blueprint("africastalking", __name__, url_prefix="/africastalking/<token>")
#: bodies larger than this go to Flask (which refuses them with its MAX_CONTENT_LENGTH)
FAST_PATH_MAX_BODY = 64 * 1024


@bp.url_value_preprocessor
def _check_token(endpoint: str | None, values: dict[str, Any] | None) -> None:
    token = (values or {}).pop("token", "")
    expected = current_app.extensions["gateway"].settings.callback_token
    if not expected or not hmac.compare_digest(token.encode(), expected.encode()):
        log.warning("callback with a wrong token from %s to %s", request.remote_addr, endpoint)
        abort(404)
    g.runtime = current_app.extensions["gateway"]


def _text(body: str, status: int = 200) -> Response:
    return Response(body, status=status, mimetype="text/plain")


def hop_reply(runtime: Any, form: Mapping[str, str]) -> tuple[int, str]:
    """(HTTP status, body) for one hop's form: 400 with a clean END if it is malformed."""
    try:
        hop = callbacks.decode_ussd_hop(form)
    except callbacks.CallbackError as exc:
        log.warning("malformed USSD callback: %s", exc)
        return 400, ussd.malformed_hop_reply(runtime, form)
    return 200, ussd.answer_hop(runtime, PROVIDER, hop)


@bp.post("/ussd")
def ussd_hop() -> Response:
    status, body = hop_reply(g.runtime, request.form)
    return _text(body, status)


@bp.post("/ussd-end")
def ussd_end() -> Response:
    return _decode_and_store(callbacks.decode_ussd_end, ussd.record_session_end, "end-of-session")


@bp.post("/sms/incoming")
def sms_incoming() -> Response:
    return _decode_and_store(
        callbacks.decode_incoming_sms, sms_callbacks.handle_incoming_sms, "incoming SMS"
    )


@bp.post("/sms/delivery")
def sms_delivery() -> Response:
    return _decode_and_store(
        callbacks.decode_delivery_report, sms_callbacks.record_delivery_report, "delivery report"
    )


@bp.post("/sms/optout")
def sms_optout() -> Response:
    return _decode_and_store(callbacks.decode_opt_out, sms_callbacks.record_opt_out, "opt-out")


def _decode_and_store(
    decode: Callable[[Mapping[str, str]], Any], store: Callable[[Any, str, Any], None], what: str
) -> Response:
    """Decode a callback (400 naming the field if malformed) and store it: 200 once stored,
    503 if the database is down (the provider retries)."""
    try:
        record = decode(request.form)
    except callbacks.CallbackError as exc:
        log.warning("malformed %s callback: %s", what, exc)
        return _text(f"400 {exc}", 400)
    try:
        store(g.runtime, PROVIDER, record)
    except SQLAlchemyError:
        log.exception("%s not stored: database unavailable; the provider will retry", what)
        return _text("503 base de donnees indisponible", 503)
    return _text("OK")


# -- the hop's fast path -------------------------------------------------------------------------
class UssdHopFastPath:
    """WSGI middleware answering ``POST /africastalking/<token>/ussd`` without Flask.

    Same contract as the ``ussd_hop`` route: wrong token → handled by Flask (404); malformed
    form → 400 with a clean ``END``; otherwise 200 ``text/plain`` with ``CON``/``END``.
    """

    def __init__(self, wsgi_app: Callable[..., Iterable[bytes]], runtime: Any) -> None:
        self.wsgi_app = wsgi_app
        self.runtime = runtime
        token = runtime.settings.callback_token
        self.path = f"/africastalking/{token}/ussd".encode() if token else None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        body = self._hop_body(environ)
        if body is None:
            return self.wsgi_app(environ, start_response)
        status, reply = self._answer(body)
        data = reply.encode("utf-8")
        start_response(status, [("Content-Type", "text/plain; charset=utf-8"),
                                ("Content-Length", str(len(data)))])
        return [data]

    def _hop_body(self, environ: dict[str, Any]) -> bytes | None:
        """The form body if this request is a hop the fast path answers, else None."""
        if self.path is None or environ.get("REQUEST_METHOD") != "POST":
            return None
        path = environ.get("PATH_INFO", "").encode("latin-1")
        # constant-time on the token: compare the whole path
        if len(path) != len(self.path) or not hmac.compare_digest(path, self.path):
            return None
        ctype = environ.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower()
        if ctype != "application/x-www-form-urlencoded":
            return None
        try:
            length = int(environ.get("CONTENT_LENGTH") or "")
        except ValueError:
            return None
        if not 0 <= length <= FAST_PATH_MAX_BODY:
            return None
        return environ["wsgi.input"].read(length) if length else b""

    def _answer(self, body: bytes) -> tuple[str, str]:
        form: dict[str, str] = {}
        for name, value in parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True):
            form.setdefault(name, value)  # the first value, like request.form.get
        try:
            status, reply = hop_reply(self.runtime, form)
            return ("200 OK" if status == 200 else "400 BAD REQUEST"), reply
        except Exception:  # answer_hop answers every failure itself; this is the last resort
            log.exception("unhandled error on POST (USSD hop fast path)")
            return "500 INTERNAL SERVER ERROR", "500 Erreur interne"


@bp.record_once
def _install_fast_path(state: Any) -> None:
    app = state.app
    app.wsgi_app = UssdHopFastPath(app.wsgi_app, app.extensions["gateway"])  # type: ignore[method-assign]
