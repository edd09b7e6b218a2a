"""Indexes for the staff dashboard and list at 100,000 requests.

- service_request (closed_at, service_code) INCLUDE (created_at, status), closed rows only:
  median processing time per service over recent closings (an index-only scan);
- service_request (expected_date) INCLUDE (service_code), open rows only: the overdue list,
  the « en retard » filter and the open / overdue counts per service (an index-only scan);
- outbound_sms (updated_at): today's SMS figures.

Revision ID: 0002
Revises: 0001
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

OPEN = "status IN ('recue', 'a_completer', 'attente_paiement', 'en_instruction', 'en_cours', 'disponible')"


def upgrade() -> None:
    op.create_index(
        "ix_service_request_closed_service",
        "service_request",
        ["closed_at", "service_code"],
        postgresql_include=["created_at", "status"],
        postgresql_where=sa.text("closed_at IS NOT NULL"),
        sqlite_where=sa.text("closed_at IS NOT NULL"),
    )
    op.create_index(
        "ix_service_request_open_expected",
        "service_request",
        ["expected_date"],
        postgresql_include=["service_code"],
        postgresql_where=sa.text(OPEN),
        sqlite_where=sa.text(OPEN),
    )
    op.create_index("ix_outbound_sms_updated", "outbound_sms", ["updated_at"])


def downgrade() -> None:
    op.drop_index("ix_outbound_sms_updated", table_name="outbound_sms")
    op.drop_index("ix_service_request_open_expected", table_name="service_request")
    op.drop_index("ix_service_request_closed_service", table_name="service_request")
