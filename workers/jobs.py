"""RQ jobs: send one outbox row; sweep the outbox. Jobs take ids, re-read rows, are idempotent.

``send_outbox_sms(outbox_id)``:

1. **Claim** (one transaction): a conditional UPDATE moves the row to ``sending`` only from
   ``pending`` / ``retry`` / ``held``-and-due. Whoever wins the UPDATE sends; any duplicate job
   (sweeper, repeated enqueue, RQ retry) finds nothing to claim and stops. Still in that
   transaction the resident's row is locked and :mod:`ussd_gateway.sms_policy` decides: send,
   hold until ``not_before`` (quiet hours, cap, budget) or cancel (opted out, country).
2. **Send** outside any transaction, through the provider built from settings.
3. **Record** (second transaction): ``sent`` with message id and cost; ``retry`` with the next
   attempt time; ``failed`` with the reason; or ``ambiguous`` when the request may have reached
   the provider (never resent blindly: the sweeper and staff see it).

Waiting (retry backoff, quiet hours) is done by returning an RQ ``Retry`` whose interval is the
wait: the worker's scheduler re-enqueues the same job id when it is due. If Redis loses it, the
sweeper enqueues the row again once ``not_before`` has passed.
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass

from rq import Retry, get_current_job
from sqlalchemy import or_, select, update

from sms.providers import (
    AmbiguousSendError,
    PermanentSendError,
    RetryableSendError,
    SendResult,
    SmsProvider,
    build_provider,
)
from ussd_gateway import sms_quota
from ussd_gateway.db import transaction
from ussd_gateway.models import OutboundSms, Resident, utcnow
from ussd_gateway.runtime import Runtime
from ussd_gateway.settings import Settings
from ussd_gateway.sms_policy import SendPolicy, Verdict, retry_delay
from workers.context import current_runtime

log = logging.getLogger(__name__)

#: a row in one of these statuses may be claimed (``held`` only once ``not_before`` passed)
CLAIMABLE_STATUSES = ("pending", "retry", "held")
_lock = threading.Lock()
#: id(runtime) -> (runtime, provider, policy): built once per runtime (per process)
_per_runtime: dict[int, tuple[Runtime, SmsProvider, SendPolicy]] = {}


def build_sms_provider(settings: Settings) -> SmsProvider:
    """The provider ``settings`` select (``auto``: AT with credentials, else ``log``)."""
    name = settings.sms_provider
    if name == "africastalking":
        return build_provider(
            name,
            username=settings.africastalking.username,
            api_key=settings.at_api_key,
            base_url=settings.africastalking.base_url or None,
            connect_timeout=settings.sms.connect_timeout_seconds,
            read_timeout=settings.sms.read_timeout_seconds,
        )
    return build_provider(name)


def _built_for(runtime: Runtime) -> tuple[Runtime, SmsProvider, SendPolicy]:
    entry = _per_runtime.get(id(runtime))
    if entry is None or entry[0] is not runtime:
        with _lock:
            entry = _per_runtime.get(id(runtime))
            if entry is None or entry[0] is not runtime:
                if len(_per_runtime) > 16:  # test runs build many runtimes
                    _per_runtime.clear()
                entry = (
                    runtime,
                    build_sms_provider(runtime.settings),
                    SendPolicy.from_settings(runtime.settings),
                )
                _per_runtime[id(runtime)] = entry
    return entry


def sms_provider(runtime: Runtime) -> SmsProvider:
    """The runtime's provider (built once; adapters are thread-safe)."""
    return _built_for(runtime)[1]


def send_policy(runtime: Runtime) -> SendPolicy:
    return _built_for(runtime)[2]


def send_job_timeout(settings: Settings) -> int:
    """RQ job timeout of a send: the provider's own timeouts plus time for two transactions."""
    return int(settings.sms.connect_timeout_seconds + settings.sms.read_timeout_seconds) + 30


# --------------------------------------------------------------------------- the job


def send_outbox_sms(outbox_id: int) -> str | Retry:
    """RQ job: send outbox row ``outbox_id`` at most once (see the module docstring)."""
    return send_outbox_row(current_runtime(), outbox_id)


@dataclass(frozen=True, slots=True)
class _Claimed:
    attempt: int
    to_phone: str
    body: str
    day: dt.date


def send_outbox_row(runtime: Runtime, outbox_id: int, *, now: dt.datetime | None = None) -> str | Retry:
    """Claim, send and record one row. Returns what happened (or a ``Retry`` to wait)."""
    claimed_or_outcome = _claim(runtime, outbox_id, now or utcnow())
    if not isinstance(claimed_or_outcome, _Claimed):
        return claimed_or_outcome
    claimed = claimed_or_outcome
    provider = sms_provider(runtime)
    sender_id = runtime.settings.sms.sender_id or None
    try:
        result = provider.send(claimed.to_phone, claimed.body, sender_id)
    except RetryableSendError as exc:
        return _record_retryable(runtime, outbox_id, claimed, exc.reason)
    except PermanentSendError as exc:
        _record_final(runtime, outbox_id, claimed, "failed", exc.reason, give_back=True)
        log.warning("outbox %s refused for good: %s", outbox_id, exc.reason)
        return "failed"
    except AmbiguousSendError as exc:
        _record_final(runtime, outbox_id, claimed, "ambiguous", exc.reason, give_back=False)
        log.warning("outbox %s ambiguous (may have been sent): %s", outbox_id, exc.reason)
        return "ambiguous"
    except Exception as exc:  # a bug or an unexpected library error: the SMS may have left
        log.exception("outbox %s: unexpected error while sending", outbox_id)
        _record_final(
            runtime, outbox_id, claimed, "ambiguous", f"erreur inattendue: {exc!r}"[:300],
            give_back=False,
        )
        return "ambiguous"
    _record_sent(runtime, outbox_id, claimed, provider.name, result)
    return "sent"


def _claim(runtime: Runtime, outbox_id: int, now: dt.datetime) -> _Claimed | str | Retry:
    policy = send_policy(runtime)
    with transaction(runtime.sessions) as session:
        won = session.execute(
            update(OutboundSms)
            .where(
                OutboundSms.id == outbox_id,
                OutboundSms.status.in_(CLAIMABLE_STATUSES),
                or_(OutboundSms.not_before.is_(None), OutboundSms.not_before <= now),
            )
            .values(status="sending", claimed_at=now, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        if won.rowcount != 1:  # type: ignore[attr-defined]
            current = session.execute(
                select(OutboundSms.status, OutboundSms.not_before).where(OutboundSms.id == outbox_id)
            ).one_or_none()
            if current is not None and current.status in CLAIMABLE_STATUSES and current.not_before:
                # due later (RQ's scheduler works to the second and may run a job early)
                return _wait_until(current.not_before, now) or f"early:{current.status}"
            status = current.status if current is not None else "missing"
            log.info("outbox %s not claimable (status %s): nothing to do", outbox_id, status)
            return f"skipped:{status}"
        row = session.execute(
            select(
                OutboundSms.event,
                OutboundSms.immediate,
                OutboundSms.to_phone,
                OutboundSms.request_id,
                OutboundSms.body,
                OutboundSms.attempts,
            ).where(OutboundSms.id == outbox_id)
        ).one()
        # lock the resident: sends to one number are decided one after the other (cap)
        opted_out_at = session.scalar(
            select(Resident.sms_opted_out_at).where(Resident.phone == row.to_phone).with_for_update()
        )
        day = policy.day(now)
        decision = policy.decide(
            now=now,
            event=row.event,
            immediate=row.immediate,
            to_phone=row.to_phone,
            about_request=row.request_id is not None,
            opted_out=opted_out_at is not None,
            sent_to_number_today=sms_quota.sent_to_number_since(
                session, row.to_phone, policy.day_start(now), excluding_id=outbox_id
            ),
            sent_today=sms_quota.budget_used(session, day),
        )
        if decision.verdict is Verdict.SEND and not sms_quota.take_budget(
            session, day, policy.daily_budget
        ):
            decision = policy.decide(
                now=now, event=row.event, immediate=row.immediate, to_phone=row.to_phone,
                about_request=row.request_id is not None, opted_out=False,
                sent_to_number_today=0, sent_today=policy.daily_budget,
            )
        if decision.budget_exhausted:
            sms_quota.mark_budget_paused(session, day, policy.daily_budget)
            log.warning("daily SMS budget (%s) reached: sending paused", policy.daily_budget)
        if decision.verdict is Verdict.CANCEL:
            _set(session, outbox_id, status="cancelled", failure_reason=decision.reason,
                 not_before=None, updated_at=now)
            log.info("outbox %s cancelled: %s", outbox_id, decision.reason)
            return "cancelled"
        if decision.verdict is Verdict.HOLD:
            assert decision.not_before is not None
            _set(session, outbox_id, status="held", failure_reason=decision.reason,
                 not_before=decision.not_before, updated_at=now)
            log.info("outbox %s held until %s: %s", outbox_id, decision.not_before, decision.reason)
            return _wait_until(decision.not_before, now) or "held"
        attempt = row.attempts + 1
        _set(session, outbox_id, attempts=attempt, failure_reason=None, not_before=None)
    return _Claimed(attempt=attempt, to_phone=row.to_phone, body=row.body, day=day)


def _set(session, outbox_id: int, **values: object) -> None:  # type: ignore[no-untyped-def]
    session.execute(
        update(OutboundSms)
        .where(OutboundSms.id == outbox_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def _mine(outbox_id: int, attempt: int):  # type: ignore[no-untyped-def]
    """The row as this attempt left it: ``sending`` (or marked ``ambiguous`` by the sweeper
    while we were waiting on the provider: our definite answer is better than its guess)."""
    return update(OutboundSms).where(
        OutboundSms.id == outbox_id,
        OutboundSms.attempts == attempt,
        OutboundSms.status.in_(("sending", "ambiguous")),
    ).execution_options(synchronize_session=False)


def _record_sent(
    runtime: Runtime, outbox_id: int, claimed: _Claimed, provider_name: str, result: SendResult
) -> None:
    from ussd_gateway.sms_callbacks import apply_stored_reports

    now = utcnow()
    with transaction(runtime.sessions) as session:
        updated = session.execute(
            _mine(outbox_id, claimed.attempt).values(
                status="sent",
                provider=provider_name,
                provider_message_id=result.message_id or None,
                provider_status=result.status,
                cost=result.cost or None,
                sent_at=now,
                updated_at=now,
                failure_reason=None,
            )
        )
        if updated.rowcount != 1:  # type: ignore[attr-defined]
            log.error("outbox %s sent (%s) but the row moved on meanwhile", outbox_id, result.message_id)
            return
        if result.message_id:
            apply_stored_reports(session, outbox_id, result.message_id)


def _record_retryable(runtime: Runtime, outbox_id: int, claimed: _Claimed, reason: str) -> str | Retry:
    intervals = tuple(runtime.settings.sms.retry_intervals_seconds)
    delay = retry_delay(claimed.attempt, intervals)
    now = utcnow()
    with transaction(runtime.sessions) as session:
        sms_quota.give_back_budget(session, claimed.day)
        if delay is None:
            reason = f"abandon après {claimed.attempt} tentatives: {reason}"
            session.execute(
                _mine(outbox_id, claimed.attempt).values(
                    status="failed", failure_reason=reason[:500], updated_at=now
                )
            )
            log.warning("outbox %s failed: %s", outbox_id, reason)
            return "failed"
        due = now + dt.timedelta(seconds=delay)
        session.execute(
            _mine(outbox_id, claimed.attempt).values(
                status="retry", failure_reason=reason[:500], not_before=due, updated_at=now
            )
        )
    log.info("outbox %s: attempt %s failed (%s), retry in %s s", outbox_id, claimed.attempt, reason, delay)
    return _wait_until(due, now, minimum=delay) or "retry"


def _record_final(
    runtime: Runtime, outbox_id: int, claimed: _Claimed, status: str, reason: str, *, give_back: bool
) -> None:
    with transaction(runtime.sessions) as session:
        if give_back:
            sms_quota.give_back_budget(session, claimed.day)
        session.execute(
            _mine(outbox_id, claimed.attempt).values(
                status=status, failure_reason=reason[:500], updated_at=utcnow()
            )
        )


def _wait_until(due: dt.datetime, now: dt.datetime, *, minimum: int = 0) -> Retry | None:
    """An RQ ``Retry`` that re-runs the current job at ``due``; None outside a worker."""
    job = get_current_job()
    if job is None:
        return None
    seconds = max(minimum, int((due - now).total_seconds() + 0.999))
    # max is always one more than the retries so far: waiting never "uses up" the job
    return Retry(max=(job.number_of_retries or 0) + 1, interval=[seconds])


# --------------------------------------------------------------------------- the sweeper


def sweep_outbox() -> dict[str, int]:
    """RQ job (maintenance queue): see :func:`workers.sweeper.sweep`."""
    from workers.sweeper import sweep

    return sweep(current_runtime()).as_dict()
