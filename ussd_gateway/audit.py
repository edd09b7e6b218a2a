"""The audit trail is append-only: rows of StatusChange and AuditEvent are never edited or
deleted through the application (a flush that tries raises AuditTrailViolation)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from ussd_gateway.models import AuditEvent, StatusChange

APPEND_ONLY = (StatusChange, AuditEvent)


class AuditTrailViolation(RuntimeError):
    """Something tried to change or delete an audit row."""


def _refuse_changes(session: Session, flush_context: Any, instances: Any) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, APPEND_ONLY) and (obj in session.deleted or session.is_modified(obj)):
            raise AuditTrailViolation(
                f"{type(obj).__name__} {getattr(obj, 'id', '?')} is append-only"
            )


def protect_audit_trail(factory: sessionmaker[Session]) -> None:
    """Make every session of ``factory`` refuse to update or delete audit rows."""
    if not event.contains(factory, "before_flush", _refuse_changes):
        event.listen(factory, "before_flush", _refuse_changes)
