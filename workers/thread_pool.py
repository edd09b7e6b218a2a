"""An RQ worker that keeps many I/O-bound jobs in flight: a bounded pool of threads.

Sending an SMS is a short database transaction, an HTTP request that waits on the provider
(200 ms is usual), and another short transaction. RQ's stock workers run one job at a time per
process (``Worker`` even forks per job); at 200 ms a job that caps a process at 5 SMS/s. This
worker keeps RQ's own bookkeeping (RQ 3 tracks several executions per worker: started registry,
results, ``Retry``, failure registry) but hands each dequeued job to one of ``pool_size``
threads. It only dequeues when a thread is free, so queued jobs stay in Redis (visible, and
safe if this process dies) rather than piling up in memory.

* Job timeouts: ``TimerDeathPenalty`` (an exception raised in the job's thread). It cannot
  interrupt a blocked socket call, so every network call in a job has its own timeout (the SMS
  adapter always passes connect/read timeouts).
* Warm shutdown (SIGTERM/SIGINT): stop dequeuing, let the in-flight sends finish and be
  recorded, exit. A second signal exits at once.
* A callback (``on_tick``) runs in the main loop about every ``tick_seconds``; the gateway uses
  it to enqueue the outbox sweeper.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import redis
from rq.defaults import DEFAULT_LOGGING_DATE_FORMAT, DEFAULT_LOGGING_FORMAT
from rq.exceptions import DequeueTimeout, StopRequested
from rq.job import Job
from rq.queue import Queue
from rq.timeouts import TimerDeathPenalty
from rq.worker import SimpleWorker, WorkerStatus

log = logging.getLogger(__name__)

HEARTBEAT_EVERY_SECONDS = 5.0
DEQUEUE_BLOCK_SECONDS = 1


class ThreadPoolWorker(SimpleWorker):
    """``SimpleWorker`` whose jobs run in a bounded thread pool (see the module docstring)."""

    death_penalty_class = TimerDeathPenalty

    def __init__(
        self,
        queues: Any,
        *,
        pool_size: int,
        on_tick: Callable[[ThreadPoolWorker], None] | None = None,
        tick_seconds: float = 1.0,
        **kwargs: Any,
    ) -> None:
        if pool_size < 1:
            raise ValueError("pool_size must be at least 1")
        super().__init__(queues, **kwargs)
        self.pool_size = pool_size
        self.on_tick = on_tick
        self.tick_seconds = tick_seconds
        self._free = threading.Semaphore(pool_size)
        self._idle = threading.Condition()
        self._running = 0
        self._last_tick = 0.0
        self._last_heartbeat = 0.0

    # ------------------------------------------------------------------ signals

    def _shutdown(self) -> None:
        """First SIGTERM/SIGINT: finish what is in flight, then stop (never raise here)."""
        self._stop_requested = True
        self.log.info("Worker %s: warm shutdown: finishing %s in-flight jobs", self.name, self._running)

    # ------------------------------------------------------------------ main loop

    def work(  # type: ignore[override]
        self,
        burst: bool = False,
        logging_level: str | None = None,
        date_format: str = DEFAULT_LOGGING_DATE_FORMAT,
        log_format: str = DEFAULT_LOGGING_FORMAT,
        max_jobs: int | None = None,
        with_scheduler: bool = True,
        **_ignored: Any,
    ) -> bool:
        """Dequeue and run jobs until stopped (``burst``: until the queues are empty and every
        job in flight has finished). Returns whether any job ran."""
        self.bootstrap(logging_level or "INFO", date_format, log_format)
        if with_scheduler:
            self._start_scheduler(burst, logging_level or "INFO", date_format, log_format)
        self._install_signal_handlers()
        started = 0
        backoff = 1.0
        executor = ThreadPoolExecutor(self.pool_size, thread_name_prefix=f"rq-{self.name[:8]}")
        try:
            while not self._stop_requested:
                self._periodic()
                if not self._free.acquire(timeout=DEQUEUE_BLOCK_SECONDS):
                    continue  # every thread busy
                try:
                    result = self._dequeue(burst)
                except (redis.ConnectionError, redis.TimeoutError) as exc:
                    self._free.release()
                    self.log.error("Worker %s: Redis unavailable (%s), retrying in %.0f s",
                                   self.name, exc, backoff)
                    time.sleep(backoff)
                    backoff = min(backoff * 2, 30.0)
                    continue
                except BaseException:
                    self._free.release()
                    raise
                backoff = 1.0
                if result is None:
                    self._free.release()
                    if burst:
                        self._wait_until_idle()
                        if self._queues_empty():
                            self.log.info("Worker %s: done, quitting", self.name)
                            break
                    continue
                job, queue = result
                self._submit(executor, job, queue)
                started += 1
                if max_jobs is not None and started >= max_jobs:
                    break
        except StopRequested:
            pass
        finally:
            executor.shutdown(wait=True)
            self.teardown()
        return started > 0

    def _dequeue(self, burst: bool) -> tuple[Job, Queue] | None:
        self.reorder_queues(reference_queue=self._ordered_queues[0])
        try:
            result = self.queue_class.dequeue_any(
                self._ordered_queues,
                None if burst else DEQUEUE_BLOCK_SECONDS,
                connection=self.connection,
                job_class=self.job_class,
                serializer=self.serializer,
                death_penalty_class=self.death_penalty_class,
            )
        except DequeueTimeout:
            return None
        if result is not None:
            job, queue = result
            job.redis_server_version = self.get_redis_server_version()
            self.log.debug("Worker %s: %s: %s", self.name, queue.name, job.id)
        return result

    def _submit(self, executor: ThreadPoolExecutor, job: Job, queue: Queue) -> None:
        try:
            execution = self.prepare_execution(job)
        except BaseException:
            self._free.release()
            raise
        with self._idle:
            self._running += 1
        try:
            executor.submit(self._run, job, queue, execution)
        except BaseException:
            self._finished()
            raise

    def _run(self, job: Job, queue: Queue, execution: Any) -> None:
        try:
            self.perform_job(job, queue, execution)
        except BaseException:  # perform_job handles job errors; this is RQ bookkeeping failing
            self.log.exception("Worker %s: job %s could not be finalised", self.name, job.id)
        finally:
            self._finished()

    def _finished(self) -> None:
        with self._idle:
            self._running -= 1
            if self._running == 0:
                self.set_state(WorkerStatus.IDLE)
                self._idle.notify_all()
        self._free.release()

    def _wait_until_idle(self) -> None:
        with self._idle:
            while self._running:
                self._idle.wait(timeout=1.0)

    def _queues_empty(self) -> bool:
        return all(queue.count == 0 for queue in self.queues)

    def _periodic(self) -> None:
        """Heartbeat, RQ maintenance and our own tick, each at its own pace."""
        clock = time.monotonic()
        try:
            if clock - self._last_heartbeat >= HEARTBEAT_EVERY_SECONDS:
                self._last_heartbeat = clock
                self.heartbeat()
                if self.should_run_maintenance_tasks:
                    self.run_maintenance_tasks()
            if self.on_tick is not None and clock - self._last_tick >= self.tick_seconds:
                self._last_tick = clock
                self.on_tick(self)
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            self.log.warning("Worker %s: periodic tasks skipped, Redis unavailable: %s", self.name, exc)
        except Exception:
            self.log.exception("Worker %s: periodic task failed", self.name)

    @property
    def in_flight(self) -> int:
        return self._running
