"""The domain of service requests: create one, change its status.

Each function works inside the caller's transaction and returns the ids of the outbox rows it
wrote; the caller commits, then enqueues them (``workers.queues.enqueue_outbox_sms``). The
business change, its audit row and its SMS are therefore committed together or not at all.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ussd_gateway.lifecycle import Status, can_transition, is_open
from ussd_gateway.models import Resident, Service, ServiceRequest, StatusChange, utcnow
from ussd_gateway.notifications import SmsComposer, add_outbox_sms, request_values
from ussd_gateway.references import format_reference, new_reference

LOME = ZoneInfo("Africa/Lome")


class RequestError(Exception):
    """A request operation that cannot be done; the message is French, for staff."""


class UnknownService(RequestError):
    pass


class TransitionNotAllowed(RequestError):
    pass


class StaleRequest(RequestError):
    """Someone else changed the request since it was read: reload and decide again."""


@dataclass(frozen=True)
class NewRequest:
    service_code: str
    phone: str  # E.164
    language: str = "fr"
    #: [{"field": ..., "label": "<French label>", "value": ..., "display": ...}]
    answers: Sequence[dict[str, Any]] = field(default_factory=tuple)
    quartier: str | None = None
    channel: str = "ussd"
    idempotency_key: str | None = None


@dataclass(frozen=True)
class Created:
    request: ServiceRequest
    service: Service
    outbox_ids: list[int]
    already_existed: bool = False


def get_or_create_resident(session: Session, phone: str, language: str | None = None) -> Resident:
    """The resident with this E.164 number, created on first contact."""
    resident = session.scalar(select(Resident).where(Resident.phone == phone))
    if resident is not None:
        return resident
    resident = Resident(phone=phone, language=language or "fr")
    try:
        with session.begin_nested():
            session.add(resident)
            session.flush()
    except IntegrityError:  # created concurrently by another hop
        resident = session.scalars(select(Resident).where(Resident.phone == phone)).one()
    return resident


def today_in_commune() -> dt.date:
    return dt.datetime.now(LOME).date()


def create_request(session: Session, composer: SmsComposer, new: NewRequest) -> Created:
    """Store a request (status ``recue``), its first audit row and its confirmation SMS.

    With an ``idempotency_key`` already used, the existing request is returned unchanged,
    so a repeated or concurrent USSD hop creates one request only.
    """
    if new.idempotency_key:
        existing = session.scalar(
            select(ServiceRequest).where(ServiceRequest.idempotency_key == new.idempotency_key)
        )
        if existing is not None:
            return Created(existing, existing.service, [], already_existed=True)
    service = session.get(Service, new.service_code)
    if service is None or not service.active:
        raise UnknownService(f"service inconnu ou inactif: {new.service_code}")
    resident = get_or_create_resident(session, new.phone, new.language)
    now = utcnow()
    request: ServiceRequest | None = None
    for _attempt in range(5):
        candidate = ServiceRequest(
            reference=new_reference(),
            service_code=service.code,
            resident_id=resident.id,
            channel=new.channel,
            status=Status.RECUE.value,
            answers=list(new.answers),
            quartier=new.quartier,
            language=new.language,
            created_at=now,
            updated_at=now,
            expected_date=today_in_commune() + dt.timedelta(days=service.delay_days),
            idempotency_key=new.idempotency_key,
        )
        try:
            with session.begin_nested():
                session.add(candidate)
                session.flush()
        except IntegrityError:
            if new.idempotency_key:
                existing = session.scalar(
                    select(ServiceRequest).where(
                        ServiceRequest.idempotency_key == new.idempotency_key
                    )
                )
                if existing is not None:
                    return Created(existing, existing.service, [], already_existed=True)
            continue  # reference collision: draw another
        request = candidate
        break
    if request is None:
        raise RequestError("impossible d'attribuer une référence unique")
    session.add(
        StatusChange(request_id=request.id, from_status=None, to_status=Status.RECUE.value, at=now)
    )
    row = add_outbox_sms(
        session,
        composer,
        dedupe_key=f"req:{request.id}:recue",
        event="recue",
        to_phone=resident.phone,
        language=new.language,
        values=request_values(request, service),
        request_id=request.id,
        immediate=True,
    )
    session.flush()
    return Created(request, service, [row.id] if row else [])


@dataclass(frozen=True)
class StatusChanged:
    request: ServiceRequest
    change: StatusChange
    outbox_ids: list[int]


def change_status(
    session: Session,
    composer: SmsComposer,
    *,
    request_id: int,
    expected_version: int,
    to_status: str,
    actor_id: int | None,
    public_note: str = "",
    internal_note: str = "",
    referred_to: str | None = None,
    duplicate_of_id: int | None = None,
    notify: bool = True,
) -> StatusChanged:
    """Move a request to ``to_status`` if the lifecycle allows it and nobody changed it since
    ``expected_version`` was read. Writes the audit row and the resident's SMS."""
    request = session.get(ServiceRequest, request_id)
    if request is None:
        raise RequestError("demande introuvable")
    target = Status(to_status)
    if not can_transition(request.status, target):
        raise TransitionNotAllowed(
            f"passage de « {request.status} » à « {target.value} » non autorisé"
        )
    if target is Status.HORS_COMPETENCE and not (referred_to or "").strip():
        raise RequestError("indiquez l'organisme compétent")
    if target is Status.DOUBLON and duplicate_of_id is None:
        raise RequestError("indiquez la demande d'origine")
    previous = request.status
    now = utcnow()
    values: dict[str, Any] = {
        ServiceRequest.status: target.value,
        ServiceRequest.version: ServiceRequest.version + 1,
        ServiceRequest.updated_at: now,
        ServiceRequest.closed_at: None if is_open(target) else now,
    }
    if referred_to is not None:
        values[ServiceRequest.referred_to] = referred_to.strip()
    if duplicate_of_id is not None:
        values[ServiceRequest.duplicate_of_id] = duplicate_of_id
    result = session.execute(
        update(ServiceRequest)
        .where(ServiceRequest.id == request_id, ServiceRequest.version == expected_version)
        .values(values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise StaleRequest("la demande a été modifiée entre-temps")
    session.refresh(request)
    change = StatusChange(
        request_id=request.id,
        from_status=previous,
        to_status=target.value,
        actor_id=actor_id,
        at=now,
        public_note=public_note.strip(),
        internal_note=internal_note.strip(),
    )
    session.add(change)
    session.flush()
    outbox_ids: list[int] = []
    if notify:
        service = request.service
        resident = request.resident
        extra = {"motif": public_note or "-", "note": public_note, "ref_origine": "-"}
        if duplicate_of_id is not None:
            original = session.get(ServiceRequest, duplicate_of_id)
            if original is not None:
                extra["ref_origine"] = format_reference(original.reference)
        row = add_outbox_sms(
            session,
            composer,
            dedupe_key=f"req:{request.id}:change:{change.id}",
            event=target.value,
            to_phone=resident.phone,
            language=resident.language or request.language,
            values={**request_values(request, service), **extra},
            request_id=request.id,
            immediate=False,
        )
        if row is not None:
            outbox_ids.append(row.id)
    return StatusChanged(request, change, outbox_ids)
