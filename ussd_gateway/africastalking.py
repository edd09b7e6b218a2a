"""Africa's Talking callbacks: USSD hops, end of session, incoming SMS, delivery, opt-out.

Every URL carries the secret callback token (AT signs nothing and publishes no IP list). A wrong
token answers 404 before any database or Redis access. Each route decodes its form into a typed
record (``callbacks.py``) and hands it to the module that owns the behaviour:
USSD hop → ``ussd.answer_hop``; SMS callbacks → ``sms_callbacks``.
"""
from __future__ import annotations

import hmac
import logging
from typing import Any

from flask import Blueprint, Response, abort, current_app, g, request
from sqlalchemy.exc import SQLAlchemyError

from ussd_gateway import callbacks, sms_callbacks, ussd

log = logging.getLogger(__name__)
PROVIDER = "africastalking"
bp = Blueprint("africastalking", __name__, url_prefix="/africastalking/<token>")


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


@bp.post("/ussd")
def ussd_hop() -> Response:
    try:
        hop = callbacks.decode_ussd_hop(request.form)
    except callbacks.CallbackError as exc:
        log.warning("malformed USSD callback: %s", exc)
        return _text(ussd.malformed_hop_reply(g.runtime, request.form), 400)
    return _text(ussd.answer_hop(g.runtime, PROVIDER, hop))


@bp.post("/ussd-end")
def ussd_end() -> Response:
    try:
        end = callbacks.decode_ussd_end(request.form)
    except callbacks.CallbackError as exc:
        log.warning("malformed end-of-session callback: %s", exc)
        return _text(f"400 {exc}", 400)
    return _stored(lambda: ussd.record_session_end(g.runtime, PROVIDER, end), "end-of-session")


@bp.post("/sms/incoming")
def sms_incoming() -> Response:
    try:
        incoming = callbacks.decode_incoming_sms(request.form)
    except callbacks.CallbackError as exc:
        log.warning("malformed incoming SMS callback: %s", exc)
        return _text(f"400 {exc}", 400)
    return _stored(
        lambda: sms_callbacks.handle_incoming_sms(g.runtime, PROVIDER, incoming), "incoming SMS"
    )


@bp.post("/sms/delivery")
def sms_delivery() -> Response:
    try:
        report = callbacks.decode_delivery_report(request.form)
    except callbacks.CallbackError as exc:
        log.warning("malformed delivery report: %s", exc)
        return _text(f"400 {exc}", 400)
    return _stored(
        lambda: sms_callbacks.record_delivery_report(g.runtime, PROVIDER, report),
        "delivery report",
    )


@bp.post("/sms/optout")
def sms_optout() -> Response:
    try:
        opt_out = callbacks.decode_opt_out(request.form)
    except callbacks.CallbackError as exc:
        log.warning("malformed opt-out callback: %s", exc)
        return _text(f"400 {exc}", 400)
    return _stored(lambda: sms_callbacks.record_opt_out(g.runtime, PROVIDER, opt_out), "opt-out")


def _stored(action: Any, what: str) -> Response:
    """Run a callback's storage step: 200 once stored, 503 (provider retries) if the DB is down."""
    try:
        action()
    except SQLAlchemyError:
        log.exception("%s not stored: database unavailable; the provider will retry", what)
        return _text("503 base de donnees indisponible", 503)
    return _text("OK")
