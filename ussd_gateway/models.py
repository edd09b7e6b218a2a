"""Database models (SQLAlchemy 2.0 typed declarative). The database is the source of truth.

The same alembic migrations run on SQLite (embedded default) and PostgreSQL (production).
Times are stored as timezone-aware UTC.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class UtcDateTime(TypeDecorator[dt.datetime]):
    """A DateTime that always comes back timezone-aware UTC (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(dt.timezone.utc)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dt.datetime: UtcDateTime(), dict[str, Any]: JSON, list[Any]: JSON}


class Resident(Base):
    """A person known by phone number (E.164). No name, no national id: minimisation."""

    __tablename__ = "resident"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    language: Mapped[str] = mapped_column(String(5), default="fr")
    language_chosen: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_at: Mapped[dt.datetime | None]
    consent_version: Mapped[str | None] = mapped_column(String(20))
    sms_opted_out_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    requests: Mapped[list[ServiceRequest]] = relationship(back_populates="resident")

    @property
    def opted_out(self) -> bool:
        return self.sms_opted_out_at is not None


class ServiceGroup(Base):
    __tablename__ = "service_group"

    code: Mapped[str] = mapped_column(String(30), primary_key=True)
    names: Mapped[dict[str, Any]] = mapped_column(JSON)
    position: Mapped[int] = mapped_column(Integer, default=0)


class Service(Base):
    """One entry of the commune's catalogue (Open311 *service*). Staff edit fees and delays."""

    __tablename__ = "service"

    code: Mapped[str] = mapped_column(String(10), primary_key=True)
    group_code: Mapped[str] = mapped_column(ForeignKey("service_group.code"))
    kind: Mapped[str] = mapped_column(String(20))  # document | procedure | report | info
    names: Mapped[dict[str, Any]] = mapped_column(JSON)  # {"fr": ..., "en": ..., "ee": ...}
    fee_fcfa: Mapped[int | None]
    fee_note: Mapped[str] = mapped_column(String(120), default="")
    delay_days: Mapped[int] = mapped_column(Integer, default=3)
    documents: Mapped[str] = mapped_column(Text, default="")
    referral: Mapped[str | None] = mapped_column(String(120))  # body to go to, if not ours
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    def name(self, language: str) -> str:
        return self.names.get(language) or self.names.get("fr") or self.code


class StaffUser(Base):
    __tablename__ = "staff_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    full_name: Mapped[str] = mapped_column(String(120), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))  # agent | supervisor | admin
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: bumped on sign-out, disable and password reset: older sessions stop working
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[dt.datetime | None]

    services: Mapped[list[StaffService]] = relationship(
        back_populates="staff", cascade="all, delete-orphan"
    )


class StaffService(Base):
    """Which services an agent processes."""

    __tablename__ = "staff_service"

    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"), primary_key=True)
    service_code: Mapped[str] = mapped_column(ForeignKey("service.code"), primary_key=True)

    staff: Mapped[StaffUser] = relationship(back_populates="services")


#: the open statuses of lifecycle.OPEN_STATUSES, for a partial index (migration 0002)
_OPEN_STATUS_SQL = (
    "status IN ('recue', 'a_completer', 'attente_paiement', 'en_instruction', 'en_cours', "
    "'disponible')"
)


class ServiceRequest(Base):
    """A resident's request (Open311 *service request*)."""

    __tablename__ = "service_request"
    __table_args__ = (
        Index("ix_service_request_resident_created", "resident_id", "created_at"),
        Index("ix_service_request_status_created", "status", "created_at"),
        Index("ix_service_request_service_created", "service_code", "created_at"),
        Index("ix_service_request_created", "created_at"),
        Index("ix_service_request_assignee", "assignee_id"),
        Index("ix_service_request_quartier", "quartier"),
        # staff dashboard and list (migration 0002)
        Index(
            "ix_service_request_closed_service", "closed_at", "service_code",
            postgresql_include=["created_at", "status"],
            postgresql_where=text("closed_at IS NOT NULL"),
            sqlite_where=text("closed_at IS NOT NULL"),
        ),
        Index(
            "ix_service_request_open_expected", "expected_date",
            postgresql_include=["service_code"],
            postgresql_where=text(_OPEN_STATUS_SQL),
            sqlite_where=text(_OPEN_STATUS_SQL),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(12), unique=True)
    service_code: Mapped[str] = mapped_column(ForeignKey("service.code"))
    resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id"))
    channel: Mapped[str] = mapped_column(String(10), default="ussd")  # ussd | sms | guichet
    status: Mapped[str] = mapped_column(String(20), default="recue")
    #: [{"field": ..., "label": "<French label>", "value": ..., "display": ...}, ...]
    answers: Mapped[list[Any]] = mapped_column(JSON, default=list)
    quartier: Mapped[str | None] = mapped_column(String(60))
    language: Mapped[str] = mapped_column(String(5), default="fr")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[dt.datetime | None]
    expected_date: Mapped[dt.date | None] = mapped_column(Date)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("service_request.id"))
    referred_to: Mapped[str | None] = mapped_column(String(120))
    #: optimistic locking: two agents saving at once, the second is told
    version: Mapped[int] = mapped_column(Integer, default=1)
    #: the channel's idempotency key (USSD: provider:sessionId) — one request per journey
    idempotency_key: Mapped[str | None] = mapped_column(String(120), unique=True)

    resident: Mapped[Resident] = relationship(back_populates="requests")
    service: Mapped[Service] = relationship()
    assignee: Mapped[StaffUser | None] = relationship(foreign_keys=[assignee_id])
    history: Mapped[list[StatusChange]] = relationship(
        back_populates="request", order_by="StatusChange.id"
    )


class StatusChange(Base):
    """Audit of a request's status: append-only."""

    __tablename__ = "status_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("service_request.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))  # None: resident
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    public_note: Mapped[str] = mapped_column(Text, default="")
    internal_note: Mapped[str] = mapped_column(Text, default="")

    request: Mapped[ServiceRequest] = relationship(back_populates="history")
    actor: Mapped[StaffUser | None] = relationship()


class OutboundSms(Base):
    """The SMS outbox. Written in the same transaction as the event that causes it.

    ``dedupe_key`` is unique per (request, event) so one event never yields two rows.
    Status: pending → sending → sent → delivered | failed; retry; ambiguous (the send may have
    reached the provider before a crash: shown to staff, not resent blindly); held (quiet
    hours / budget); cancelled (opted out, country not allowed, cap reached).
    """

    __tablename__ = "outbound_sms"
    __table_args__ = (
        Index("ix_outbound_sms_status_not_before", "status", "not_before"),
        Index("ix_outbound_sms_to_created", "to_phone", "created_at"),
        Index("ix_outbound_sms_updated", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(120), unique=True)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("service_request.id"), index=True)
    event: Mapped[str] = mapped_column(String(40))
    to_phone: Mapped[str] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(5), default="fr")
    body: Mapped[str] = mapped_column(Text)
    #: immediate: answer to the resident's own action (ignores quiet hours)
    immediate: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    not_before: Mapped[dt.datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    provider: Mapped[str | None] = mapped_column(String(30))
    provider_message_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    provider_status: Mapped[str | None] = mapped_column(String(40))
    cost: Mapped[str | None] = mapped_column(String(40))
    segments: Mapped[int] = mapped_column(Integer, default=1)
    encoding: Mapped[str] = mapped_column(String(10), default="GSM-7")
    failure_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    claimed_at: Mapped[dt.datetime | None]
    sent_at: Mapped[dt.datetime | None]
    delivered_at: Mapped[dt.datetime | None]


class DeliveryReport(Base):
    """Every delivery report received, as received (repeats and unknown statuses included)."""

    __tablename__ = "delivery_report"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_message_id: Mapped[str] = mapped_column(String(100), index=True)
    status: Mapped[str] = mapped_column(String(40))
    failure_reason: Mapped[str | None] = mapped_column(String(80))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class IncomingSms(Base):
    """An SMS a resident sent us; ``provider_id`` dedupes the provider's retries."""

    __tablename__ = "incoming_sms"
    __table_args__ = (UniqueConstraint("provider", "provider_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(30), default="africastalking")
    provider_id: Mapped[str] = mapped_column(String(100))
    from_phone: Mapped[str] = mapped_column(String(32))
    to: Mapped[str] = mapped_column(String(32), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    link_id: Mapped[str | None] = mapped_column(String(100))
    command: Mapped[str | None] = mapped_column(String(20))
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class UssdSessionRecord(Base):
    """End-of-session notifications from the provider (for the operator's statistics)."""

    __tablename__ = "ussd_session_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(30), default="africastalking")
    session_id: Mapped[str] = mapped_column(String(100), unique=True)
    phone: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(20))
    hops: Mapped[int | None]
    duration_ms: Mapped[int | None]
    cost: Mapped[str | None] = mapped_column(String(40))
    error_message: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class AuditEvent(Base):
    """Append-only audit of staff actions: assignments, catalogue edits, account changes."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    action: Mapped[str] = mapped_column(String(40))
    target_type: Mapped[str] = mapped_column(String(30))
    target_id: Mapped[str] = mapped_column(String(40))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)


class SystemFlag(Base):
    """Small persistent key/values (e.g. SMS budget paused today, admin bootstrap done)."""

    __tablename__ = "system_flag"

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
