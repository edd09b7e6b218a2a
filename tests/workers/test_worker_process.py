"""Real ``ussd-gateway worker`` processes: a SIGKILL in the middle of a batch, the periodic
sweeper, warm shutdown. Exactly one SMS per resident, except rows honestly marked ambiguous."""
from __future__ import annotations

import datetime as dt
import os
import signal
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.fake_africastalking import FakeAfricasTalking
from tests.workers.helpers import new_request, statuses, wait_for, worker_process
from ussd_gateway.db import transaction
from ussd_gateway.models import OutboundSms, utcnow
from ussd_gateway.runtime import Runtime
from ussd_gateway.settings import Settings
from workers.sweeper import sweep


def _rows(runtime: Runtime) -> list[tuple[str, str]]:
    with transaction(runtime.sessions) as session:
        return [(r.to_phone, r.status) for r in session.execute(
            select(OutboundSms.to_phone, OutboundSms.status)).all()]


@pytest.mark.parametrize("sms_overrides", [{"send_concurrency": 8, "sweep_interval_seconds": 5}])
def test_worker_killed_mid_batch_and_restarted_every_resident_gets_exactly_one_sms(
    runtime: Runtime, settings: Settings, fake_at: FakeAfricasTalking, tmp_path: Path
) -> None:
    fake_at.delay_ms = 40
    phones = [f"+2289300{i:04d}" for i in range(100)]
    for phone in phones:
        new_request(runtime, phone=phone)

    with worker_process(settings, tmp_path) as first:
        wait_for(lambda: len(fake_at.requests) >= 30, timeout=30, what="30 sends")
        os.killpg(first.pid, signal.SIGKILL)  # the worker and its scheduler, mid-batch
        first.wait()
    killed_at = len(fake_at.requests)
    assert killed_at < 100, "the batch finished before the kill: nothing was tested"

    with worker_process(settings, tmp_path):
        # the restarted worker sends what was still queued; rows popped by the dead worker
        # but never started come back through its periodic sweeper (grace: 5 s)
        wait_for(lambda: set(statuses(runtime)) <= {"sent", "sending"}, timeout=40,
                 what="every row sent or left sending by the killed worker",
                 state=lambda: statuses(runtime))
        # rows the dead worker left ``sending`` are ambiguous once stuck long enough
        later = utcnow() + dt.timedelta(seconds=settings.sms.stuck_sending_seconds + 1)
        sweep(runtime, now=later)
        wait_for(lambda: set(statuses(runtime)) <= {"sent", "ambiguous"}, timeout=20,
                 what="every row sent or ambiguous",
                 state=lambda: statuses(runtime))

    per_number = Counter(r.number for r in fake_at.accepted)
    rows = _rows(runtime)
    assert len(rows) == 100
    for phone, status in rows:
        if status == "sent":
            assert per_number[phone] == 1, (phone, per_number[phone])
        else:
            assert status == "ambiguous"
            assert per_number[phone] <= 1, (phone, per_number[phone])
    assert max(per_number.values()) == 1  # nobody got two SMS
    ambiguous = [phone for phone, status in rows if status == "ambiguous"]
    # a request the kill cut short (received, never answered) can only be an ambiguous row's;
    # one torn before its form arrived has no number: the provider refused it (400), as AT would
    cut_short = [r.number for r in fake_at.requests if not r.accepted and r.numbers]
    assert set(cut_short) <= set(ambiguous), (cut_short, ambiguous)
    torn = [r for r in fake_at.requests if not r.numbers]
    assert all(r.http_status == 400 for r in torn)
    assert len(ambiguous) <= settings.sms.send_concurrency  # at most the sends in flight


@pytest.mark.parametrize("sms_overrides", [{"sweep_interval_seconds": 5}])
def test_worker_sweeps_periodically_and_sends_rows_that_were_never_enqueued(
    runtime: Runtime, settings: Settings, fake_at: FakeAfricasTalking, tmp_path: Path
) -> None:
    phones = [f"+2289400{i:04d}" for i in range(3)]
    for phone in phones:
        new_request(runtime, phone=phone, enqueue=False)  # as if Redis was down at commit

    with worker_process(settings, tmp_path):
        wait_for(lambda: len(fake_at.accepted) == 3, timeout=30, what="the sweeper's sends")
        wait_for(lambda: statuses(runtime) == {"sent": 3}, timeout=5)

    assert sorted(r.number for r in fake_at.accepted) == sorted(phones)


def test_sigterm_lets_in_flight_sends_finish_and_be_recorded(
    runtime: Runtime, settings: Settings, fake_at: FakeAfricasTalking, tmp_path: Path
) -> None:
    fake_at.delay_ms = 1500
    _, _, ids = new_request(runtime)
    with worker_process(settings, tmp_path) as worker:
        wait_for(lambda: len(fake_at.requests) == 1, timeout=20, what="the send to start")
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=15) == 0
    assert statuses(runtime) == {"sent": 1}
