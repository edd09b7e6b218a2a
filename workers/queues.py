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


def outbox_job_id(outbox_id: int) -> str:
    """The RQ job id of an outbox row: one job per row, so enqueueing twice is harmless."""
    return f"outbox-{outbox_id}"


def sms_queue(connection: redis.Redis) -> Queue:
    return Queue(SMS_QUEUE, connection=connection)


def enqueue_outbox_sms(connection: redis.Redis, outbox_ids: Iterable[int]) -> int:
    """Enqueue a send job per outbox id; return how many were enqueued (0 if Redis is down)."""
    ids = list(outbox_ids)
    if not ids:
        return 0
    queue = sms_queue(connection)
    try:
        with connection.pipeline() as pipe:
            for outbox_id in ids:
                queue.enqueue(
                    SEND_JOB,
                    outbox_id,
                    job_id=outbox_job_id(outbox_id),
                    pipeline=pipe,
                    result_ttl=3600,
                    failure_ttl=7 * 86400,
                )
            pipe.execute()
    except redis.RedisError as exc:
        log.warning("outbox %s left pending, the sweeper will enqueue it: %s", ids, exc)
        return 0
    return len(ids)
