"""The production worker: a thread-pool RQ worker with its scheduler and the outbox sweeper.

``run_worker`` is what ``ussd-gateway worker`` (and therefore ``serve``) runs:

* queues ``maintenance`` (the sweeper, small and never stuck behind a backlog) then ``sms``;
* ``settings.sms.send_concurrency`` sends in flight (:class:`workers.thread_pool.ThreadPoolWorker`);
* RQ's scheduler (retry backoff, quiet hours: jobs return ``Retry`` with the wait);
* every ``settings.sms.sweep_interval_seconds`` one sweep is enqueued for the whole cluster
  (a Redis ``SET NX EX`` lock: several workers do not multiply sweeps), and one at start-up.
"""
from __future__ import annotations

import logging

import redis

from ussd_gateway.runtime import Runtime, build_runtime
from workers.queues import MAINTENANCE_QUEUE, SMS_QUEUE, enqueue_sweep
from workers.thread_pool import ThreadPoolWorker

log = logging.getLogger(__name__)

SWEEP_LOCK_KEY = "ussd-gateway:sms:sweep-lock"


def worker_runtime(runtime: Runtime) -> Runtime:
    """The runtime with a database pool sized for ``send_concurrency`` threads (a send holds a
    connection only for its two short transactions: a quarter as many connections suffice,
    at most 16, plus as many in overflow)."""
    settings = runtime.settings
    wanted = min(max(settings.database.pool_size, settings.sms.send_concurrency // 4), 16)
    if settings.embedded_database or wanted <= settings.database.pool_size:
        return runtime
    bigger = settings.model_copy(
        update={"database": settings.database.model_copy(update={"pool_size": wanted})}
    )
    rebuilt = build_runtime(bigger)  # same Redis: settings or the embedded server's URL file
    runtime.close()
    return rebuilt


def _own_connection(client: redis.Redis) -> redis.Redis:
    """A separate client for RQ's blocking calls (RQ raises the socket timeout of the pool it
    is given; the jobs keep the runtime's short timeouts)."""
    pool = client.connection_pool
    return redis.Redis(
        connection_pool=redis.ConnectionPool(
            connection_class=pool.connection_class, **pool.connection_kwargs
        )
    )


def sweep_ticker(interval_seconds: int):  # type: ignore[no-untyped-def]
    """The worker's tick: enqueue one sweep per interval for the whole cluster."""

    def tick(worker: ThreadPoolWorker) -> None:
        if worker.connection.set(SWEEP_LOCK_KEY, worker.name, nx=True, ex=interval_seconds):
            enqueue_sweep(worker.connection)

    return tick


def build_worker(runtime: Runtime, *, name: str | None = None) -> ThreadPoolWorker:
    sms = runtime.settings.sms
    return ThreadPoolWorker(
        [MAINTENANCE_QUEUE, SMS_QUEUE],
        connection=_own_connection(runtime.redis),
        pool_size=sms.send_concurrency,
        on_tick=sweep_ticker(sms.sweep_interval_seconds),
        tick_seconds=1.0,
        name=name,
    )


def run_worker(runtime: Runtime, *, burst: bool = False) -> bool:
    """Process jobs until stopped (or until the queues are empty with ``burst``)."""
    from workers import context

    runtime = worker_runtime(runtime)
    context.install(runtime)
    worker = build_worker(runtime)
    log.info(
        "worker %s: %s sends in flight, queues %s, %s; sweep every %s s",
        worker.name, worker.pool_size, MAINTENANCE_QUEUE, SMS_QUEUE,
        runtime.settings.sms.sweep_interval_seconds,
    )
    return worker.work(
        burst=burst, with_scheduler=True, logging_level=runtime.settings.logging.level
    )
