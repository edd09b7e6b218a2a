"""Send faults with real Redis, PostgreSQL, RQ workers and the fake Africa's Talking server."""
from __future__ import annotations

import time

import pytest

from tests.fake_africastalking import FakeAfricasTalking
from tests.workers.helpers import all_in, drain, new_request, row, statuses
from ussd_gateway.runtime import Runtime
from workers.sweeper import sweep


def test_provider_500_three_times_then_success_sends_exactly_one_sms(
    runtime: Runtime, fake_at: FakeAfricasTalking
) -> None:
    fake_at.fail_next(3, http_status=500)
    _, _, ids = new_request(runtime)

    drain(runtime, all_in(runtime, "sent"))

    assert [r.http_status for r in fake_at.requests] == [500, 500, 500, 200]
    assert len(fake_at.accepted) == 1
    sent = row(runtime, ids[0])
    assert sent.attempts == 4
    assert sent.provider_message_id == fake_at.accepted[0].message_id
    assert sent.failure_reason is None


@pytest.mark.parametrize("sms_overrides", [{"retry_intervals_seconds": [1, 1]}])
def test_retryable_errors_stop_after_the_configured_retries_with_the_reason(
    runtime: Runtime, fake_at: FakeAfricasTalking
) -> None:
    fake_at.fail_next(10, http_status=503)
    _, _, ids = new_request(runtime)

    drain(runtime, all_in(runtime, "failed"))

    assert len(fake_at.requests) == 3  # first attempt + 2 retries
    failed = row(runtime, ids[0])
    assert failed.attempts == 3
    assert failed.failure_reason is not None
    assert failed.failure_reason.startswith("abandon après 3 tentatives: HTTP 503")


def test_permanent_failure_is_not_retried_and_the_reason_is_kept(
    runtime: Runtime, fake_at: FakeAfricasTalking
) -> None:
    fake_at.reject_next(code=406)
    _, _, ids = new_request(runtime)

    drain(runtime, all_in(runtime, "failed"))
    time.sleep(1.2)  # longer than a retry interval: nothing may come back
    drain(runtime, lambda: True)

    assert len(fake_at.requests) == 1
    failed = row(runtime, ids[0])
    assert failed.status == "failed"
    assert failed.attempts == 1
    assert failed.failure_reason == "406 UserInBlacklist"


def test_hanging_provider_times_out_retries_and_does_not_block_other_sends(
    runtime: Runtime, fake_at: FakeAfricasTalking
) -> None:
    """The read timeout (2 s) ends the hung send (which, here, sent nothing); the job is
    retried and the resident gets one SMS. The other sends do not wait for it."""
    fake_at.hang_next(seconds=3, http_status=503)  # hangs past the read timeout, sends nothing
    started = time.monotonic()
    phones = [f"+2289100{i:04d}" for i in range(9)]
    ids = {phone: new_request(runtime, phone=phone)[2][0] for phone in phones}

    drain(runtime, all_in(runtime, "sent"), timeout=15)

    hung = fake_at.requests[0]
    others = [r for r in fake_at.requests[1:] if r.number != hung.number]
    assert len(others) == 8
    # every other send reached the provider while the hung one was still waiting (2 s)
    assert max(r.received_at for r in others).timestamp() - hung.received_at.timestamp() < 2.0
    assert sorted(r.number for r in fake_at.accepted) == sorted(phones)  # one SMS each
    assert row(runtime, ids[hung.number]).attempts == 2  # whichever send the provider hung on
    assert time.monotonic() - started < 12


@pytest.mark.parametrize("sms_overrides", [{"retry_after_timeout": False}])
def test_with_retry_after_timeout_off_a_hung_send_is_ambiguous_and_never_resent(
    runtime: Runtime, fake_at: FakeAfricasTalking
) -> None:
    """The commune may prefer "never a duplicate": the hung send (which the provider did send,
    after the client gave up) becomes ``ambiguous`` for staff. The other sends do not wait."""
    fake_at.hang_next(seconds=6)  # answered (sent) after the client gave up
    started = time.monotonic()
    phones = [f"+2289100{i:04d}" for i in range(9)]
    for phone in phones:
        new_request(runtime, phone=phone)

    drain(runtime, all_in(runtime, "sent", "ambiguous"), timeout=10)
    elapsed = time.monotonic() - started

    assert elapsed < 5.5, "the hung send held the others back"
    assert statuses(runtime) == {"sent": 8, "ambiguous": 1}
    hung = fake_at.requests[0]
    others = [r for r in fake_at.requests[1:] if r.number != hung.number]
    assert len(others) == 8
    # every other send reached the provider while the hung one was still waiting (2 s)
    assert max(r.received_at for r in others).timestamp() - hung.received_at.timestamp() < 2.0
    time.sleep(1.2)
    drain(runtime, lambda: True)
    assert [r.number for r in fake_at.requests].count(hung.number) == 1


def test_slow_provider_error_inside_the_read_timeout_is_retried_and_sent_once(
    runtime: Runtime, fake_at: FakeAfricasTalking
) -> None:
    fake_at.hang_next(seconds=1.0, http_status=503)  # slow, then "nothing sent"
    _, _, ids = new_request(runtime)

    drain(runtime, all_in(runtime, "sent"))

    assert [r.http_status for r in fake_at.requests] == [503, 200]
    assert row(runtime, ids[0]).attempts == 2


def test_redis_flushed_after_commit_the_sweeper_sends_every_pending_message(
    runtime: Runtime, fake_at: FakeAfricasTalking
) -> None:
    phones = [f"+2289200{i:04d}" for i in range(5)]
    for phone in phones:
        new_request(runtime, phone=phone)
    runtime.redis.flushdb()  # the jobs are gone; the rows are committed and pending

    drain(runtime, lambda: True)  # the workers find nothing to do
    assert fake_at.requests == []
    assert statuses(runtime) == {"pending": 5}

    result = sweep(runtime, grace_seconds=0)
    assert result.enqueued == 5
    drain(runtime, all_in(runtime, "sent"))

    assert sorted(r.number for r in fake_at.accepted) == sorted(phones)
    assert sweep(runtime, grace_seconds=0).enqueued == 0


def test_sweeper_leaves_rows_whose_job_is_still_queued_alone(
    runtime: Runtime, fake_at: FakeAfricasTalking
) -> None:
    new_request(runtime)
    assert sweep(runtime, grace_seconds=0).enqueued == 0  # its job is waiting in the queue
    drain(runtime, all_in(runtime, "sent"))
    assert len(fake_at.requests) == 1


def test_rows_stuck_sending_past_the_timeout_become_ambiguous_not_resent(
    runtime: Runtime, fake_at: FakeAfricasTalking
) -> None:
    """A worker that died mid-send leaves its row ``sending``: the sweeper marks it ambiguous
    (staff decide), it does not send it again."""
    import datetime as dt

    from sqlalchemy import update

    from ussd_gateway.db import transaction
    from ussd_gateway.models import OutboundSms, utcnow

    _, _, ids = new_request(runtime, enqueue=False)
    claimed_at = utcnow() - dt.timedelta(seconds=runtime.settings.sms.stuck_sending_seconds + 5)
    with transaction(runtime.sessions) as session:  # what a dead worker leaves behind
        session.execute(update(OutboundSms).where(OutboundSms.id == ids[0])
                        .values(status="sending", claimed_at=claimed_at, attempts=1))
    recent = new_request(runtime, phone="+22890555666", enqueue=False)[2][0]
    with transaction(runtime.sessions) as session:  # a send in progress right now
        session.execute(update(OutboundSms).where(OutboundSms.id == recent)
                        .values(status="sending", claimed_at=utcnow(), attempts=1))

    result = sweep(runtime, grace_seconds=0)

    assert result.marked_ambiguous == 1
    stuck = row(runtime, ids[0])
    assert stuck.status == "ambiguous"
    assert stuck.failure_reason is not None and "peut-être parti" in stuck.failure_reason
    assert row(runtime, recent).status == "sending"
    drain(runtime, lambda: True)
    assert fake_at.requests == []
