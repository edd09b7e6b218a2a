"""What the gateway does with Africa's Talking SMS callbacks (decoded in callbacks.py).

Each function stores the callback in the database (the source of truth) before the blueprint
answers 200; a database error propagates so the provider gets 503 and retries.
"""
from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ussd_gateway.callbacks import DeliveryReportCallback, IncomingSmsCallback, OptOutCallback
from ussd_gateway.db import transaction
from ussd_gateway.models import DeliveryReport, IncomingSms, Resident, utcnow
from ussd_gateway.runtime import Runtime

log = logging.getLogger(__name__)


def record_delivery_report(runtime: Runtime, provider: str, report: DeliveryReportCallback) -> None:
    with transaction(runtime.sessions) as session:
        session.add(
            DeliveryReport(
                provider_message_id=report.message_id,
                status=report.status,
                failure_reason=report.failure_reason or None,
                payload={"phone": report.phone, "retryCount": report.retry_count},
            )
        )


def handle_incoming_sms(runtime: Runtime, provider: str, incoming: IncomingSmsCallback) -> None:
    try:
        with transaction(runtime.sessions) as session:
            session.add(
                IncomingSms(
                    provider=provider,
                    provider_id=incoming.provider_id,
                    from_phone=incoming.from_phone,
                    to=incoming.to,
                    text=incoming.text,
                    link_id=incoming.link_id or None,
                )
            )
    except IntegrityError:
        log.info("incoming SMS %s already received (provider retry)", incoming.provider_id)


def record_opt_out(runtime: Runtime, provider: str, opt_out: OptOutCallback) -> None:
    with transaction(runtime.sessions) as session:
        resident = session.scalar(select(Resident).where(Resident.phone == opt_out.phone))
        if resident is None:
            resident = Resident(phone=opt_out.phone)
            session.add(resident)
        if resident.sms_opted_out_at is None:
            resident.sms_opted_out_at = utcnow()
