"""The outbox sweeper: nothing committed to the outbox is ever forgotten.

Runs every ``sms.sweep_interval_seconds`` (the worker enqueues it, see ``workers.worker``):

* rows ``sending`` for longer than ``sms.stuck_sending_seconds`` belong to a worker that died
  mid-send: the request may have reached the provider, so they become ``ambiguous`` (shown to
  staff) instead of being sent again blindly;
* rows ``pending`` / ``retry`` / ``held`` that are due and have no job waiting in Redis (Redis
  was down at commit, flushed, or a worker died between popping a job and starting it) are
  enqueued again. A duplicate job is harmless: the claim lets one send only.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import asdict, dataclass

from rq import Queue
from sqlalchemy import or_, select, update

from ussd_gateway.db import transaction
from ussd_gateway.models import OutboundSms, utcnow
from ussd_gateway.runtime import Runtime
from workers.queues import SMS_QUEUE, enqueue_outbox_sms, outbox_job_id

log = logging.getLogger(__name__)

#: rows examined per sweep (a bigger backlog is taken by the next sweeps)
SWEEP_BATCH = 20_000
STUCK_REASON = "envoi interrompu (processus arrêté pendant l'envoi) : le SMS est peut-être parti"


@dataclass(frozen=True, slots=True)
class SweepResult:
    marked_ambiguous: int
    enqueued: int

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def jobs_waiting_in_redis(runtime: Runtime) -> set[str]:
    """Job ids waiting in the SMS queue or scheduled for later.

    Jobs in RQ's started registry are not counted: a live job claims its row within
    milliseconds, so a row still claimable after the grace period whose job "started" belongs
    to a worker that died between starting the job and claiming the row (RQ only notices
    such a job after its heartbeat TTL). Enqueueing it again is harmless: one claim wins.
    """
    queue = Queue(SMS_QUEUE, connection=runtime.redis)
    waiting = set(queue.get_job_ids())
    waiting.update(queue.scheduled_job_registry.get_job_ids(cleanup=False))
    return waiting


def sweep(
    runtime: Runtime, *, now: dt.datetime | None = None, grace_seconds: int | None = None
) -> SweepResult:
    """One sweep. ``grace_seconds`` (default: the sweep interval) spares rows changed very
    recently, whose enqueue after commit is probably in flight."""
    sms = runtime.settings.sms
    now = now or utcnow()
    grace = sms.sweep_interval_seconds if grace_seconds is None else grace_seconds
    stuck_before = now - dt.timedelta(seconds=sms.stuck_sending_seconds)
    with transaction(runtime.sessions) as session:
        stuck = list(
            session.scalars(
                select(OutboundSms.id).where(
                    OutboundSms.status == "sending", OutboundSms.claimed_at < stuck_before
                )
            )
        )
        if stuck:
            session.execute(
                update(OutboundSms)
                .where(OutboundSms.id.in_(stuck), OutboundSms.status == "sending",
                       OutboundSms.claimed_at < stuck_before)
                .values(status="ambiguous", failure_reason=STUCK_REASON, updated_at=now)
                .execution_options(synchronize_session=False)
            )
            log.warning("outbox rows stuck in sending marked ambiguous: %s", stuck)
    with transaction(runtime.sessions) as session:
        due = list(
            session.scalars(
                select(OutboundSms.id)
                .where(
                    OutboundSms.status.in_(("pending", "retry", "held")),
                    or_(OutboundSms.not_before.is_(None), OutboundSms.not_before <= now),
                    OutboundSms.updated_at <= now - dt.timedelta(seconds=grace),
                )
                .order_by(OutboundSms.id)
                .limit(SWEEP_BATCH)
            )
        )
    enqueued = 0
    if due:
        known = jobs_waiting_in_redis(runtime)
        missing = [outbox_id for outbox_id in due if outbox_job_id(outbox_id) not in known]
        if missing:
            enqueued = enqueue_outbox_sms(runtime.redis, missing, timeout=_job_timeout(runtime))
            log.info("sweeper enqueued %s outbox rows that had no job in Redis", enqueued)
    return SweepResult(marked_ambiguous=len(stuck), enqueued=enqueued)


def _job_timeout(runtime: Runtime) -> int:
    from workers.jobs import send_job_timeout

    return send_job_timeout(runtime.settings)
