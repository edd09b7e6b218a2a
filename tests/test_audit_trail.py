"""The audit trail (status history and staff actions) cannot be edited or deleted."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from ussd_gateway.audit import AuditTrailViolation
from ussd_gateway.db import transaction
from ussd_gateway.models import AuditEvent, StatusChange
from ussd_gateway.service_requests import NewRequest, create_request


def _history_row(runtime) -> int:  # type: ignore[no-untyped-def]
    with transaction(runtime.sessions) as session:
        create_request(session, runtime.sms_composer(), NewRequest("EC01", "+22890123456"))
        session.add(AuditEvent(action="test", target_type="x", target_id="1"))
    with runtime.sessions() as session:
        return session.scalars(select(StatusChange.id)).one()


def test_status_history_rows_cannot_be_edited(runtime) -> None:  # type: ignore[no-untyped-def]
    change_id = _history_row(runtime)
    with pytest.raises(AuditTrailViolation):
        with transaction(runtime.sessions) as session:
            session.get(StatusChange, change_id).public_note = "réécrit"
    with runtime.sessions() as session:
        assert session.get(StatusChange, change_id).public_note == ""


def test_audit_events_cannot_be_deleted(runtime) -> None:  # type: ignore[no-untyped-def]
    _history_row(runtime)
    with pytest.raises(AuditTrailViolation):
        with transaction(runtime.sessions) as session:
            session.delete(session.scalars(select(AuditEvent)).one())
    with runtime.sessions() as session:
        assert session.scalars(select(AuditEvent)).one().action == "test"
