"""Helpers shared by the worker and SMS pipeline tests: real RQ workers, real databases.

Nothing here replaces our own code: jobs run in a real ``ThreadPoolWorker`` (in process, burst
mode, with RQ's scheduler) or in real ``ussd-gateway worker`` subprocesses.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml
from sqlalchemy import func, select

from tests.conftest import REPO
from tests.fake_africastalking import FakeAfricasTalking
from ussd_gateway.db import transaction
from ussd_gateway.models import OutboundSms
from ussd_gateway.runtime import Runtime
from ussd_gateway.service_requests import NewRequest, change_status, create_request
from ussd_gateway.sms_callbacks import sms_composer
from ussd_gateway.settings import Settings
from workers import context
from workers.jobs import send_job_timeout
from workers.queues import enqueue_outbox_sms
from workers.worker import build_worker

AT_USERNAME = "golfe3"
AT_API_KEY = "test-at-api-key"
#: no quiet hours unless a test asks for them (an empty window: start == end)
NO_QUIET_HOURS = {"start": "00:00", "end": "00:00"}


def at_overrides(fake: FakeAfricasTalking, **sms: object) -> dict[str, object]:
    """Settings overrides: Africa's Talking through the fake server, short test timings."""
    return {
        "sms": {
            "provider": "africastalking",
            "sender_id": "GOLFE3",
            "quiet_hours": NO_QUIET_HOURS,
            "retry_intervals_seconds": [1, 1, 1, 1],
            "connect_timeout_seconds": 1.0,
            "read_timeout_seconds": 2.0,
            "send_concurrency": 8,
            **sms,
        },
        "africastalking": {"username": AT_USERNAME, "base_url": fake.url},
        "at_api_key": AT_API_KEY,
    }


def drain(runtime: Runtime, until: Callable[[], bool], *, timeout: float = 20.0) -> None:
    """Run burst workers (with RQ's scheduler) until ``until()`` holds; fail after ``timeout``."""
    context.install(runtime)
    deadline = time.monotonic() + timeout
    while True:
        build_worker(runtime).work(burst=True, with_scheduler=True, logging_level="WARNING")
        if until():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not reached within {timeout} s: {statuses(runtime)}")
        time.sleep(0.2)


def statuses(runtime: Runtime) -> dict[str, int]:
    with transaction(runtime.sessions) as session:
        rows = session.execute(
            select(OutboundSms.status, func.count()).group_by(OutboundSms.status)
        ).all()
    return {status: count for status, count in rows}


def row(runtime: Runtime, outbox_id: int) -> OutboundSms:
    with transaction(runtime.sessions) as session:
        found = session.get(OutboundSms, outbox_id)
        assert found is not None
        session.expunge(found)
        return found


def all_in(runtime: Runtime, *wanted: str) -> Callable[[], bool]:
    def check() -> bool:
        found = statuses(runtime)
        return bool(found) and set(found) <= set(wanted)

    return check


def new_request(runtime: Runtime, phone: str = "+22890123456", service: str = "EC01",
                language: str = "fr", enqueue: bool = True) -> tuple[int, str, list[int]]:
    """A request created through the domain, committed, its SMS enqueued: (id, ref, outbox ids)."""
    with transaction(runtime.sessions) as session:
        created = create_request(
            session, sms_composer(runtime),
            NewRequest(service_code=service, phone=phone, language=language),
        )
        ids = list(created.outbox_ids)
        request_id, reference = created.request.id, created.request.reference
    if enqueue:
        enqueue_outbox_sms(runtime.redis, ids, timeout=send_job_timeout(runtime.settings))
    return request_id, reference, ids


def status_news(runtime: Runtime, request_id: int, to_status: str = "en_instruction") -> int:
    """A staff status change on a fresh request: its (non-immediate) notification's outbox id."""
    with transaction(runtime.sessions) as session:
        changed = change_status(session, sms_composer(runtime), request_id=request_id,
                                expected_version=1, to_status=to_status, actor_id=None)
        return changed.outbox_ids[0]


def write_config(settings: Settings, folder: Path) -> Path:
    """A config.yaml equivalent to ``settings`` (secrets excluded: they go in the env)."""
    data = settings.model_dump(
        exclude={"secret_key", "callback_token", "at_api_key", "base_dir"}, mode="json"
    )
    path = folder / "worker-config.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


@contextmanager
def worker_process(settings: Settings, folder: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A real ``ussd-gateway worker`` subprocess with ``settings``; stopped (SIGTERM, then
    SIGKILL) on exit. Its output goes to ``folder/worker-<n>.log``."""
    config = write_config(settings, folder)
    env = {k: v for k, v in os.environ.items() if not k.startswith("USSD_GATEWAY_")}
    env.update(
        USSD_GATEWAY_CONFIG=str(config),
        USSD_GATEWAY_SECRET_KEY=settings.secret_key,
        USSD_GATEWAY_CALLBACK_TOKEN=settings.callback_token,
        USSD_GATEWAY_AT_API_KEY=settings.at_api_key,
        PYTHONPATH=str(REPO),
    )
    n = len(list(folder.glob("worker-*.log")))
    log_file = (folder / f"worker-{n}.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "ussd_gateway.cli", "worker"],
        cwd=str(REPO), env=env, stdout=log_file, stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: the RQ scheduler child dies with it
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        else:
            try:
                os.killpg(process.pid, signal.SIGKILL)  # leftovers of the group (scheduler)
            except ProcessLookupError:
                pass
        log_file.close()


def wait_for(condition: Callable[[], bool], *, timeout: float = 20.0, what: str = "",
             state: Callable[[], object] | None = None) -> None:
    """Poll ``condition`` until it holds; on timeout fail with ``what`` and ``state()``."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            seen = f" (state: {state()})" if state is not None else ""
            raise AssertionError(f"timed out waiting for {what or condition}{seen}")
        time.sleep(0.05)
