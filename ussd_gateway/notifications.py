"""Outbox rows: the SMS an event causes, written in the same transaction as the event.

The text is rendered when the row is written (staff then see exactly what the resident gets).
``dedupe_key`` is unique, so the same event can never produce two rows. After the transaction
commits, the caller hands the new ids to ``workers.queues.enqueue_outbox_sms``.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sms.encoding import sms_info
from sms.templates import SmsTemplates
from ussd_gateway.models import OutboundSms, Service, ServiceRequest
from ussd_gateway.references import format_reference
from ussd_gateway.settings import Settings


@dataclass(frozen=True)
class SmsComposer:
    """Templates plus the commune's values every SMS may quote."""

    templates: SmsTemplates
    commune: str
    ussd_code: str
    opening_hours: str
    fold_staff_text: bool = True

    @classmethod
    def from_settings(cls, settings: Settings, templates: SmsTemplates) -> SmsComposer:
        return cls(
            templates=templates,
            commune=settings.commune.name,
            ussd_code=settings.commune.ussd_code,
            opening_hours=settings.commune.opening_hours,
            fold_staff_text=settings.sms.fold_staff_text,
        )

    def compose(self, event: str, language: str, values: Mapping[str, str]) -> str:
        full = {"commune": self.commune, "ussd": self.ussd_code, "horaires": self.opening_hours}
        full.update(values)
        return self.templates.render(event, language, full, fold_free_text=self.fold_staff_text)


def format_date_fr(day: dt.date | None) -> str:
    return day.strftime("%d/%m/%Y") if day else "-"


def request_values(request: ServiceRequest, service: Service) -> dict[str, str]:
    """The template values a request provides (DOMAIN.md §5 variables)."""
    fee = "" if service.fee_fcfa is None else str(service.fee_fcfa)
    return {
        "svc": service.name(request.language),
        "ref": format_reference(request.reference),
        "delai": str(service.delay_days),
        "date": format_date_fr(request.expected_date),
        "montant": fee or "-",
        "organisme": request.referred_to or service.referral or "-",
    }


def add_outbox_sms(
    session: Session,
    composer: SmsComposer,
    *,
    dedupe_key: str,
    event: str,
    to_phone: str,
    language: str,
    values: Mapping[str, str],
    request_id: int | None = None,
    immediate: bool = False,
) -> OutboundSms | None:
    """Write one outbox row; None if a row with this ``dedupe_key`` already exists."""
    body = composer.compose(event, language, values)
    info = sms_info(body)
    row = OutboundSms(
        dedupe_key=dedupe_key,
        request_id=request_id,
        event=event,
        to_phone=to_phone,
        language=language,
        body=body,
        immediate=immediate,
        status="pending",
        segments=info.segments,
        encoding=info.encoding,
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        existing = session.scalar(select(OutboundSms.id).where(OutboundSms.dedupe_key == dedupe_key))
        if existing is None:
            raise
        return None
    return row
