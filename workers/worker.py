"""The production worker: RQ worker with its scheduler on the gateway's queues."""
from __future__ import annotations

import logging

from rq import Worker

from ussd_gateway.runtime import Runtime
from workers.queues import MAINTENANCE_QUEUE, SMS_QUEUE

log = logging.getLogger(__name__)


def run_worker(runtime: Runtime, *, burst: bool = False) -> bool:
    """Process jobs until stopped (or until the queues are empty with ``burst``)."""
    from workers import context

    context.install(runtime)
    worker = Worker([SMS_QUEUE, MAINTENANCE_QUEUE], connection=runtime.redis)
    log.info("worker %s listening on %s, %s", worker.name, SMS_QUEUE, MAINTENANCE_QUEUE)
    return worker.work(burst=burst, with_scheduler=True, logging_level="INFO")
