"""The send job applies the policy on the real database and the fake provider."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from rq import Queue

from tests.fake_africastalking import FakeAfricasTalking
from tests.workers.helpers import drain, new_request, row, status_news, statuses
from ussd_gateway import sms_quota
from ussd_gateway.db import transaction
from ussd_gateway.models import Resident, utcnow
from ussd_gateway.runtime import Runtime
from workers.jobs import send_outbox_row
from workers.queues import SMS_QUEUE, outbox_job_id

LOME = ZoneInfo("Africa/Lome")
QUIET = {"quiet_hours": {"start": "21:00", "end": "07:00"}}


def lome(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=LOME).astimezone(dt.timezone.utc)


@pytest.mark.parametrize("sms_overrides", [QUIET])
def test_status_news_at_night_waits_for_seven_but_the_confirmation_goes_at_once(
    runtime: Runtime, fake_at: FakeAfricasTalking
) -> None:
    request_id, _, confirmation = new_request(runtime, enqueue=False)
    news = status_news(runtime, request_id)

    assert send_outbox_row(runtime, confirmation[0], now=lome(28, 22, 30)) == "sent"
    assert send_outbox_row(runtime, news, now=lome(28, 22, 31)) == "held"
    held = row(runtime, news)
    assert (held.status, held.not_before, held.attempts) == ("held", lome(29, 7), 0)
    assert send_outbox_row(runtime, news, now=lome(29, 6, 59)) == "early:held"
    assert len(fake_at.requests) == 1

    assert send_outbox_row(runtime, news, now=lome(29, 7, 0)) == "sent"
    assert len(fake_at.accepted) == 2
    assert "en instruction" in fake_at.accepted[1].message


def test_held_row_is_scheduled_in_rq_for_the_end_of_quiet_hours(
    migrated_database: str, redis_url: str, tmp_path, fake_at: FakeAfricasTalking  # type: ignore[no-untyped-def]
) -> None:
    """Through a real worker: quiet hours set around the current time, the job returns an RQ
    Retry and RQ's scheduled registry holds the job until the end of the window."""
    from tests.conftest import make_test_settings
    from tests.workers.helpers import at_overrides
    from ussd_gateway.bootstrap import prepare_database
    from ussd_gateway.runtime import build_runtime

    now = dt.datetime.now(LOME)
    start, end = (now - dt.timedelta(hours=1)), (now + dt.timedelta(hours=1))
    quiet = {"start": start.strftime("%H:%M"), "end": end.strftime("%H:%M")}
    settings = make_test_settings(migrated_database, redis_url, tmp_path,
                                  **at_overrides(fake_at, quiet_hours=quiet))
    runtime = build_runtime(settings)
    runtime.redis.flushdb()
    try:
        prepare_database(settings, runtime.sessions)
        request_id, _, _ = new_request(runtime, phone="+22899887766", enqueue=False)
        news = status_news(runtime, request_id)
        from workers.queues import enqueue_outbox_sms

        enqueue_outbox_sms(runtime.redis, [news])
        drain(runtime, lambda: row(runtime, news).status == "held")
        queue = Queue(SMS_QUEUE, connection=runtime.redis)
        assert outbox_job_id(news) in queue.scheduled_job_registry.get_job_ids()
        scheduled = queue.scheduled_job_registry.get_scheduled_time(outbox_job_id(news))
        not_before = row(runtime, news).not_before
        assert not_before is not None
        assert abs((scheduled - not_before).total_seconds()) <= 2
        assert fake_at.requests == []
    finally:
        runtime.redis.flushdb()
        runtime.close()


def test_opted_out_resident_gets_no_status_news(runtime: Runtime, fake_at: FakeAfricasTalking) -> None:
    request_id, _, _ = new_request(runtime, enqueue=False)
    with transaction(runtime.sessions) as session:
        resident = session.query(Resident).filter_by(phone="+22890123456").one()
        resident.sms_opted_out_at = utcnow()
    news = status_news(runtime, request_id)

    assert send_outbox_row(runtime, news) == "cancelled"
    cancelled = row(runtime, news)
    assert cancelled.status == "cancelled"
    assert cancelled.failure_reason == "résident désabonné (STOP)"
    assert fake_at.requests == []


@pytest.mark.parametrize(
    ("sms_overrides", "expected"),
    [({}, "cancelled"), ({"allowed_country_codes": ["228", "33"]}, "sent")],
)
def test_diaspora_numbers_are_sent_to_only_when_their_country_is_allowed(
    runtime: Runtime, fake_at: FakeAfricasTalking, expected: str
) -> None:
    _, _, ids = new_request(runtime, phone="+33612345678", enqueue=False)
    assert send_outbox_row(runtime, ids[0]) == expected
    assert len(fake_at.accepted) == (1 if expected == "sent" else 0)


@pytest.mark.parametrize("sms_overrides", [{"per_number_daily_cap": 2}])
def test_per_number_daily_cap_delays_the_third_sms_of_the_day(
    runtime: Runtime, fake_at: FakeAfricasTalking
) -> None:
    ids = [new_request(runtime, enqueue=False)[2][0] for _ in range(3)]
    outcomes = [send_outbox_row(runtime, outbox_id) for outbox_id in ids]
    assert outcomes == ["sent", "sent", "held"]
    held = row(runtime, ids[2])
    assert held.failure_reason == "plafond quotidien du numéro atteint"
    assert held.not_before is not None and held.not_before > utcnow()
    assert len(fake_at.accepted) == 2
    # another number is not affected
    other = new_request(runtime, phone="+22870112233", enqueue=False)[2][0]
    assert send_outbox_row(runtime, other) == "sent"


@pytest.mark.parametrize("sms_overrides", [{"daily_budget": 2}])
def test_daily_budget_pauses_sending_and_tells_staff(
    runtime: Runtime, fake_at: FakeAfricasTalking
) -> None:
    phones = ["+22890000001", "+22890000002", "+22890000003"]
    ids = [new_request(runtime, phone=p, enqueue=False)[2][0] for p in phones]
    outcomes = [send_outbox_row(runtime, outbox_id) for outbox_id in ids]

    assert outcomes == ["sent", "sent", "held"]
    assert len(fake_at.accepted) == 2
    assert row(runtime, ids[2]).failure_reason == "budget SMS quotidien atteint"
    with transaction(runtime.sessions) as session:
        notice = sms_quota.budget_pause_notice(session, dt.datetime.now(LOME).date())
        used = sms_quota.budget_used(session, dt.datetime.now(LOME).date())
    assert notice is not None and "Budget SMS du jour atteint (2 SMS)" in notice
    assert used == 2


@pytest.mark.parametrize("sms_overrides", [{"daily_budget": 1}])
def test_a_send_that_certainly_failed_gives_its_budget_back(
    runtime: Runtime, fake_at: FakeAfricasTalking
) -> None:
    fake_at.reject_next(code=403)
    first = new_request(runtime, phone="+22890000011", enqueue=False)[2][0]
    second = new_request(runtime, phone="+22890000012", enqueue=False)[2][0]
    assert send_outbox_row(runtime, first) == "failed"
    assert send_outbox_row(runtime, second) == "sent"


def test_two_jobs_for_one_row_send_it_once(runtime: Runtime, fake_at: FakeAfricasTalking) -> None:
    """The claim is a conditional UPDATE: the same row enqueued many times is sent once."""
    from workers.queues import enqueue_outbox_sms

    _, _, ids = new_request(runtime)
    for _ in range(5):
        enqueue_outbox_sms(runtime.redis, ids)
    runtime.redis.rpush(  # and the same job id pushed again by hand: five in the queue
        Queue(SMS_QUEUE, connection=runtime.redis).key, *[outbox_job_id(ids[0])] * 4
    )
    drain(runtime, lambda: statuses(runtime) == {"sent": 1})
    assert len(fake_at.requests) == 1
