"""An RQ worker that keeps many I/O-bound jobs in flight: a bounded pool of threads.

Sending an SMS is a short database transaction, an HTTP request that waits on the provider
(200 ms is usual), and another short transaction. RQ's stock workers run one job at a time per
process (``Worker`` even forks per job); at 200 ms a job that caps a process at 5 SMS/s. This
worker keeps RQ's own bookkeeping (RQ 3 tracks several executions per worker: started registry,
results, ``Retry``, failure registry) but runs ``pool_size`` threads ("lanes"), each dequeuing
and running one job at a time. A job is only taken from Redis by a free lane, so queued jobs
stay in Redis (visible, and safe if this process dies) rather than piling up in memory; and
dequeuing is as parallel as the jobs (one dispatcher thread would be the bottleneck).

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
    #: the outbox row holds the outcome; RQ's per-job INFO lines would be noise at 100 SMS/s
    log_result_lifespan = False

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
        self._idle = threading.Condition()
        self._running = 0
        self._started = 0
        self._drained = False
        self._max_jobs: int | None = None
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
        """Run jobs until stopped (``burst``: until the queues are empty and every job in
        flight has finished). Returns whether any job ran.

        Each of the ``pool_size`` threads is a lane that dequeues its own job and runs it, so
        dequeuing is as parallel as the jobs; the main thread keeps the heartbeat, RQ's
        maintenance, the tick and the signals.
        """
        self.bootstrap(logging_level or "INFO", date_format, log_format)
        if with_scheduler:
            self._start_scheduler(burst, logging_level or "INFO", date_format, log_format)
        self._install_signal_handlers()
        self._max_jobs = max_jobs
        try:
            while True:
                self._drained = False
                lanes = [
                    threading.Thread(target=self._lane, args=(burst,), daemon=True,
                                     name=f"rq-lane-{n}")
                    for n in range(self.pool_size)
                ]
                for lane in lanes:
                    lane.start()
                while any(lane.is_alive() for lane in lanes):
                    self._periodic()
                    time.sleep(0.1)
                if not burst or self._stop_requested or self._max_jobs_reached():
                    break
                if self._queues_empty():  # a job may have re-queued itself as lanes ended
                    self.log.info("Worker %s: done, quitting", self.name)
                    break
        except StopRequested:
            self._stop_requested = True
        finally:
            self.teardown()
        return self._started > 0

    def _max_jobs_reached(self) -> bool:
        return self._max_jobs is not None and self._started >= self._max_jobs

    def _lane(self, burst: bool) -> None:
        """One thread: dequeue a job, run it, again; until stop, drain (burst) or max_jobs."""
        backoff = 1.0
        while not (self._stop_requested or self._drained or self._max_jobs_reached()):
            try:
                result = self._dequeue(burst)
            except (redis.ConnectionError, redis.TimeoutError) as exc:
                self.log.error("Worker %s: Redis unavailable (%s), retrying in %.0f s",
                               self.name, exc, backoff)
                time.sleep(backoff)
                backoff = min(backoff * 2, 30.0)
                continue
            except Exception:
                self.log.exception("Worker %s: could not dequeue", self.name)
                time.sleep(1.0)
                continue
            backoff = 1.0
            if result is None:
                if burst:
                    with self._idle:
                        if self._running == 0:
                            self._drained = True
                    time.sleep(0.02)
                continue
            job, queue = result
            with self._idle:
                self._running += 1
                self._started += 1
            try:
                execution = self.prepare_execution(job)
                self.perform_job(job, queue, execution)
            except BaseException:  # perform_job handles job errors: this is RQ bookkeeping
                self.log.exception("Worker %s: job %s could not be run or finalised",
                                   self.name, job.id)
            finally:
                with self._idle:
                    self._running -= 1
                    if self._running == 0:
                        self._idle.notify_all()
                        try:
                            self.set_state(WorkerStatus.IDLE)
                        except redis.RedisError:
                            pass

    def _dequeue(self, burst: bool) -> tuple[Job, Queue] | None:
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
