"""Daily SMS counters kept in the database: the commune's budget and each number's cap.

The global budget is one ``system_flag`` row per commune day (``sms_budget_used:<date>``).
Send jobs do not lock it for each SMS (that row would serialise every send in the commune on
one lock held through a disk flush): each worker process reserves a small block of the budget
(:func:`reserve_budget`, its own tiny transaction) and spends it locally
(``workers.jobs.BudgetLease``). The counter therefore counts SMS *reserved*, at most one block
per process ahead of those sent, and never exceeds the budget. When the budget is reached, ``sms_budget_paused`` holds the day and a French message
for staff (:func:`budget_pause_notice`). The per-number count reads the outbox itself; the send
job locks the resident's row first, so two jobs for one number are counted one after the other.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from ussd_gateway.models import OutboundSms, SystemFlag

BUDGET_USED_PREFIX = "sms_budget_used:"
BUDGET_PAUSED_KEY = "sms_budget_paused"
#: statuses that mean "this SMS was (or may have been) handed to the provider"
COUNTED_STATUSES = ("sending", "sent", "delivered", "ambiguous")


def budget_key(day: dt.date) -> str:
    return f"{BUDGET_USED_PREFIX}{day.isoformat()}"


def _ensure_flag(session: Session, key: str, value: str) -> None:
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(
        insert(SystemFlag)
        .values(key=key, value=value, updated_at=dt.datetime.now(dt.timezone.utc))
        .on_conflict_do_nothing(index_elements=["key"])
    )


def budget_used(session: Session, day: dt.date) -> int:
    value = session.scalar(select(SystemFlag.value).where(SystemFlag.key == budget_key(day)))
    return int(value) if value else 0


def reserve_budget(session: Session, day: dt.date, budget: int, wanted: int) -> int:
    """Reserve up to ``wanted`` SMS of ``day``'s budget; return how many were granted (0 when
    it is used up). Call it in a short transaction of its own: it locks the day's counter row
    until commit, so every sender in every process waits on it. Never grants beyond the budget.
    """
    key = budget_key(day)
    _ensure_flag(session, key, "0")  # a write first: SQLite takes its write lock here
    used = int(session.scalar(
        select(SystemFlag.value).where(SystemFlag.key == key).with_for_update()) or 0)
    granted = max(0, min(wanted, budget - used))
    if granted:
        session.execute(
            update(SystemFlag)
            .where(SystemFlag.key == key)
            .values(value=str(used + granted), updated_at=dt.datetime.now(dt.timezone.utc))
            .execution_options(synchronize_session=False)
        )
    return granted


def mark_budget_paused(session: Session, day: dt.date, budget: int) -> None:
    """Tell staff that sending is paused for ``day`` (idempotent)."""
    value = f"{day.isoformat()}|Budget SMS du jour atteint ({budget} SMS) : envois suspendus jusqu'à demain."
    _ensure_flag(session, BUDGET_PAUSED_KEY, value)
    session.execute(
        update(SystemFlag)
        .where(SystemFlag.key == BUDGET_PAUSED_KEY, SystemFlag.value != value)
        .values(value=value, updated_at=dt.datetime.now(dt.timezone.utc))
        .execution_options(synchronize_session=False)
    )


def budget_pause_notice_today(session: Session, timezone: str) -> str | None:
    """The staff notice if sending is paused today in the commune's ``timezone`` (settings
    ``commune.timezone``), else None."""
    from zoneinfo import ZoneInfo

    return budget_pause_notice(session, dt.datetime.now(ZoneInfo(timezone)).date())


def budget_pause_notice(session: Session, day: dt.date) -> str | None:
    """The French notice for staff when sending is paused on ``day``, else None."""
    value = session.scalar(select(SystemFlag.value).where(SystemFlag.key == BUDGET_PAUSED_KEY))
    if not value:
        return None
    paused_day, _, message = value.partition("|")
    return message if paused_day == day.isoformat() else None


def sent_to_number_since(
    session: Session, phone: str, since: dt.datetime, *, excluding_id: int | None = None
) -> int:
    """SMS handed to the provider for ``phone`` since ``since`` (claimed at or after it)."""
    query = select(func.count()).where(
        OutboundSms.to_phone == phone,
        OutboundSms.claimed_at >= since,
        OutboundSms.status.in_(COUNTED_STATUSES),
    )
    if excluding_id is not None:
        query = query.where(OutboundSms.id != excluding_id)
    return int(session.scalar(query) or 0)
