"""RQ queues and the enqueue helpers the web app calls after a commit.

A failed enqueue (Redis down) is logged and otherwise ignored: the outbox row stays ``pending``
in the database and the periodic sweeper enqueues it later. Nothing is lost.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable

import redis
from rq import Queue

log = logging.getLogger(__name__)

SMS_QUEUE = "sms"
MAINTENANCE_QUEUE = "maintenance"
SEND_JOB = "workers.jobs.send_outbox_sms"
SWEEP_JOB = "workers.jobs.sweep_outbox"
#: RQ job timeout of a send when the caller does not derive one from settings
#: (``workers.jobs.send_job_timeout``): above the provider's connect + read timeouts.
DEFAULT_SEND_JOB_TIMEOUT = 180
RESULT_TTL_SECONDS = 600
FAILURE_TTL_SECONDS = 7 * 86400


def outbox_job_id(outbox_id: int) -> str:
    """The RQ job id of an outbox row: one job per row, so enqueueing twice is harmless."""
    return f"outbox-{outbox_id}"


def sms_queue(connection: redis.Redis) -> Queue:
    return Queue(SMS_QUEUE, connection=connection)


def maintenance_queue(connection: redis.Redis) -> Queue:
    return Queue(MAINTENANCE_QUEUE, connection=connection)


def enqueue_outbox_sms(
    connection: redis.Redis,
    outbox_ids: Iterable[int],
    *,
    timeout: int | None = None,
    pipeline: redis.client.Pipeline | None = None,
) -> int:
    """Enqueue a send job per outbox id; return how many were enqueued (0 if Redis is down).

    With ``pipeline`` the commands are only queued on it (the USSD hop sends them with its
    session write, one round trip); the caller executes it and handles its errors.
    """
    ids = list(dict.fromkeys(outbox_ids))
    if not ids:
        return 0
    queue = sms_queue(connection)
    try:
        for start in range(0, len(ids), 1000):
            queue.enqueue_many(
                [
                    Queue.prepare_data(
                        SEND_JOB,
                        args=(outbox_id,),
                        job_id=outbox_job_id(outbox_id),
                        timeout=timeout or DEFAULT_SEND_JOB_TIMEOUT,
                        result_ttl=RESULT_TTL_SECONDS,
                        failure_ttl=FAILURE_TTL_SECONDS,
                        description=f"send outbox SMS {outbox_id}",
                    )
                    for outbox_id in ids[start : start + 1000]
                ],
                pipeline=pipeline,
            )
    except redis.RedisError as exc:
        log.warning("outbox %s left pending, the sweeper will enqueue it: %s", ids[:20], exc)
        return 0
    return len(ids)


def enqueue_sweep(connection: redis.Redis) -> None:
    """Enqueue one outbox sweep on the maintenance queue."""
    maintenance_queue(connection).enqueue(
        SWEEP_JOB, result_ttl=RESULT_TTL_SECONDS, failure_ttl=FAILURE_TTL_SECONDS, job_timeout=300
    )
