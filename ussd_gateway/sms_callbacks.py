"""What the gateway does with Africa's Talking SMS callbacks (decoded in callbacks.py).

Each function stores the callback in the database (the source of truth) before the blueprint
answers 200; a database error propagates so the provider gets 503 and retries.

* Delivery reports are all kept as received, then applied to the outbox row: a status only
  moves forward (``sent`` → ``failed`` → ``delivered``), so repeated and out-of-order reports
  change nothing; unknown statuses are kept, logged and answered 200.
* Incoming SMS are deduplicated on the provider's id (AT retries for 12 h until it gets 200):
  the incoming row and the reply's outbox row are written in one transaction, and the reply's
  ``dedupe_key`` derives from the incoming id, so a retry can never produce a second reply.
  Commands (``sms.commands``): STATUT/STATUS <ref> (full details only to the requester's own
  number, others get the status word at most; unknown, invalid and rate-limited lookups answer
  alike), STOP/ARRET (opt out; confirmed once), START, AIDE/HELP; anything else gets a short
  help reply at most once per number every ``UNKNOWN_REPLY_EVERY_SECONDS`` (two robots
  answering each other cannot loop).
* Opt-out callbacks mark the resident opted out.
"""
from __future__ import annotations

import datetime as dt
import logging
from zoneinfo import ZoneInfo

import redis
from sqlalchemy import Connection, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sms.commands import CommandKind, SmsCommand, parse_command
from ussd_gateway.callbacks import DeliveryReportCallback, IncomingSmsCallback, OptOutCallback
from ussd_gateway.db import transaction
from ussd_gateway.models import (
    DeliveryReport,
    IncomingSms,
    OutboundSms,
    Resident,
    ServiceRequest,
    utcnow,
)
from ussd_gateway.notifications import SmsComposer, add_outbox_sms
from ussd_gateway.phones import InvalidPhoneNumber, normalize_phone
from ussd_gateway.references import format_reference, parse_reference
from ussd_gateway.runtime import Runtime
from ussd_gateway.service_requests import get_or_create_resident
from ussd_gateway.ussd_sessions import LOOKUP_WINDOW_SECONDS, lookups_key
from ussd_gateway.ussd import ussd_service

log = logging.getLogger(__name__)

#: AT delivery status -> the outbox status it proves (None: informative only)
DELIVERY_STATUS: dict[str, str | None] = {
    "Success": "delivered",
    "Failed": "failed",
    "Rejected": "failed",
    "AbsentSubscriber": "failed",
    "Expired": "failed",
    "Sent": None,
    "Submitted": None,
    "Buffered": None,
}
#: a report may move a row only from these statuses (forward, never backward)
_MAY_BECOME: dict[str, tuple[str, ...]] = {
    "failed": ("sending", "sent", "ambiguous"),
    "delivered": ("sending", "sent", "ambiguous", "failed"),
}
UNKNOWN_REPLY_EVERY_SECONDS = 12 * 3600
_OUT = OutboundSms.__table__


# --------------------------------------------------------------------------- delivery reports


def record_delivery_report(runtime: Runtime, provider: str, report: DeliveryReportCallback) -> None:
    """Keep the report, then apply it to its outbox row if it moves the row forward."""
    with transaction(runtime.sessions) as session:
        session.add(
            DeliveryReport(
                provider_message_id=report.message_id,
                status=report.status,
                failure_reason=report.failure_reason or None,
                payload={"phone": report.phone, "retryCount": report.retry_count,
                         "provider": provider},
            )
        )
        if report.status not in DELIVERY_STATUS:
            log.warning("delivery report %s: unknown status %r kept, not applied",
                        report.message_id, report.status)
            return
        moved = _apply_report(
            session,
            _OUT.c.provider_message_id == report.message_id,
            report.status,
            report.failure_reason,
        )
        if not moved:
            log.info("delivery report %s (%s) changed nothing (unknown id, repeat or older)",
                     report.message_id, report.status)


def apply_stored_reports(conn: Session | Connection, outbox_id: int, message_id: str) -> None:
    """Apply reports that arrived before the send job recorded ``message_id`` (AT can be fast)."""
    reports = conn.execute(
        select(DeliveryReport.status, DeliveryReport.failure_reason)
        .where(DeliveryReport.provider_message_id == message_id)
        .order_by(DeliveryReport.id)
    ).all()
    for status, reason in reports:
        if status in DELIVERY_STATUS:
            _apply_report(conn, _OUT.c.id == outbox_id, status, reason or "")


def _apply_report(  # type: ignore[no-untyped-def]
    conn: Session | Connection, which, status: str, failure_reason: str
) -> bool:
    target = DELIVERY_STATUS[status]
    now = utcnow()
    if target is None:  # Sent / Submitted / Buffered: progress news only
        result = conn.execute(
            update(_OUT).where(which, _OUT.c.status == "sent")
            .values(provider_status=status, updated_at=now)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]
    values: dict[str, object] = {"status": target, "provider_status": status, "updated_at": now}
    if target == "delivered":
        values.update(delivered_at=now, failure_reason=None)
    else:
        values["failure_reason"] = f"non délivré: {failure_reason or status}"[:500]
    result = conn.execute(
        update(_OUT).where(which, _OUT.c.status.in_(_MAY_BECOME[target])).values(values)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- incoming SMS


def sms_composer(runtime: Runtime) -> SmsComposer:
    return runtime.sms_composer()  # type: ignore[no-any-return]


def handle_incoming_sms(runtime: Runtime, provider: str, incoming: IncomingSmsCallback) -> None:
    """Store the SMS and its reply (one transaction), then enqueue the reply."""
    try:
        with transaction(runtime.sessions) as session:
            record = IncomingSms(
                provider=provider,
                provider_id=incoming.provider_id,
                from_phone=incoming.from_phone[:32],
                to=incoming.to,
                text=incoming.text,
                link_id=incoming.link_id or None,
            )
            session.add(record)
            session.flush()  # a provider retry stops here (unique provider, provider_id)
            reply_ids = _answer(runtime, session, record)
    except IntegrityError:
        log.info("incoming SMS %s already received (provider retry): no second reply",
                 incoming.provider_id)
        return
    if reply_ids:
        from workers.jobs import send_job_timeout
        from workers.queues import enqueue_outbox_sms

        enqueue_outbox_sms(runtime.redis, reply_ids, timeout=send_job_timeout(runtime.settings))


def _answer(runtime: Runtime, session: Session, record: IncomingSms) -> list[int]:
    """Decide the reply to one new incoming SMS; return the outbox ids written."""
    command = parse_command(record.text)
    record.command = command.kind.value
    try:
        phone = normalize_phone(record.from_phone)
    except InvalidPhoneNumber:
        log.info("incoming SMS %s from %r (not a phone number): no reply",
                 record.provider_id, record.from_phone)
        return []
    record.from_phone = phone
    resident = get_or_create_resident(session, phone, command.language)
    language = command.language or resident.language or "fr"
    event, values = _reply_for(runtime, session, resident, command, language)
    if event is None:
        return []
    row = add_outbox_sms(
        session,
        sms_composer(runtime),
        dedupe_key=f"sms-reply:{record.provider}:{record.provider_id}"[:120],
        event=event,
        to_phone=phone,
        language=language,
        values=values,
        immediate=True,
    )
    return [row.id] if row is not None else []


def _reply_for(
    runtime: Runtime, session: Session, resident: Resident, command: SmsCommand, language: str
) -> tuple[str | None, dict[str, str]]:
    now = utcnow()
    if command.kind is CommandKind.STOP:
        if resident.sms_opted_out_at is not None:
            return None, {}  # already opted out: the confirmation was sent once
        resident.sms_opted_out_at = now
        return "stop_confirm", {}
    if command.kind is CommandKind.START:
        resident.sms_opted_out_at = None
        return "start_confirm", {}
    if command.kind is CommandKind.HELP:
        return "help", {}
    if command.kind is CommandKind.STATUS:
        return _status_reply(runtime, session, resident, command, language)
    if _first_unknown_in_a_while(runtime.redis, resident.phone):
        return "unknown_command", {}
    log.info("unknown SMS command from %s: help already sent recently, no reply", resident.phone)
    return None, {}


def _status_reply(
    runtime: Runtime, session: Session, resident: Resident, command: SmsCommand, language: str
) -> tuple[str, dict[str, str]]:
    invalid: tuple[str, dict[str, str]] = ("reference_invalid", {})
    if not _lookup_allowed(runtime, resident.phone):
        return invalid
    reference = parse_reference(command.reference or "")
    if reference is None:
        return invalid
    request = session.scalar(select(ServiceRequest).where(ServiceRequest.reference == reference))
    if request is None:
        return invalid
    word = ussd_service(runtime).engine.graph.status_word(request.status, language)
    ref = format_reference(request.reference)
    if request.resident_id != resident.id:
        return "statut_word_only", {"ref": ref, "statut": word}
    since = request.updated_at.astimezone(ZoneInfo(runtime.settings.commune.timezone))
    return "statut_reply", {
        "ref": ref,
        "svc": request.service.name(language),
        "statut": word,
        "date": since.strftime("%d/%m/%Y"),
    }


def _lookup_allowed(runtime: Runtime, phone: str) -> bool:
    """The USSD's reference-lookup budget, shared by SMS (same Redis key). If Redis is down the
    lookup is allowed: the per-number daily SMS cap still bounds the replies."""
    try:
        with runtime.redis.pipeline() as pipe:  # SET NX EX then INCR: works on Redis < 7 too
            pipe.set(lookups_key(phone), 0, nx=True, ex=LOOKUP_WINDOW_SECONDS)
            pipe.incr(lookups_key(phone))
            _, count = pipe.execute()
    except redis.RedisError as exc:
        log.warning("lookup rate limit unavailable (%s): allowing", exc)
        return True
    return int(count) <= runtime.settings.ussd.reference_lookups_per_hour


def _first_unknown_in_a_while(client: redis.Redis, phone: str) -> bool:
    """True at most once per number every UNKNOWN_REPLY_EVERY_SECONDS. Redis down: False
    (no reply is the safe side against two robots answering each other)."""
    try:
        return bool(client.set(f"sms:unknown-reply:{phone}", "1", nx=True,
                               ex=UNKNOWN_REPLY_EVERY_SECONDS))
    except redis.RedisError as exc:
        log.warning("unknown-command rate limit unavailable (%s): no reply", exc)
        return False


# --------------------------------------------------------------------------- opt-out


def record_opt_out(runtime: Runtime, provider: str, opt_out: OptOutCallback) -> None:
    with transaction(runtime.sessions) as session:
        resident = session.scalar(select(Resident).where(Resident.phone == opt_out.phone))
        if resident is None:
            resident = Resident(phone=opt_out.phone)
            session.add(resident)
        if resident.sms_opted_out_at is None:
            resident.sms_opted_out_at = utcnow()
            log.info("resident %s opted out through %s", opt_out.phone, provider)


def opted_out_since(session: Session, phone: str) -> dt.datetime | None:
    """When ``phone`` opted out of SMS (None if it did not): for the staff view."""
    return session.scalar(select(Resident.sms_opted_out_at).where(Resident.phone == phone))
