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
from sqlalchemy import and_, bindparam, func, or_, select, update

from sms.providers import (
    AmbiguousSendError,
    PermanentSendError,
    RetryableSendError,
    SendTimeout,
    SendResult,
    SmsProvider,
    build_provider,
)
from ussd_gateway import sms_quota
from ussd_gateway.db import transaction
from ussd_gateway.models import OutboundSms, Resident, UtcDateTime, utcnow
from ussd_gateway.runtime import Runtime
from ussd_gateway.settings import Settings
from ussd_gateway.sms_policy import SendPolicy, Verdict, retry_delay
from workers.context import current_runtime

log = logging.getLogger(__name__)

#: a row in one of these statuses may be claimed (``held`` only once ``not_before`` passed)
CLAIMABLE_STATUSES = ("pending", "retry", "held")
_lock = threading.Lock()
#: SMS of the daily budget a process reserves at once (see ``sms_quota``)
BUDGET_BLOCK = 20


class BudgetLease:
    """This process's share of today's budget, reserved in blocks of ``BUDGET_BLOCK``.

    ``take`` spends one SMS (reserving a new block in its own short transaction when the share
    is spent); ``give_back`` returns one for an SMS that certainly did not go out. A process
    that dies loses its unspent share for the day: the budget errs on the side of spending less.
    """

    def __init__(self, block: int = BUDGET_BLOCK) -> None:
        self.block = block
        self._lock = threading.Lock()
        self._day: dt.date | None = None
        self._left = 0

    def take(self, runtime: Runtime, day: dt.date, budget: int) -> bool:
        with self._lock:
            if day != self._day:
                self._day, self._left = day, 0
            if self._left == 0:
                with transaction(runtime.sessions) as session:
                    self._left = sms_quota.reserve_budget(session, day, budget, self.block)
            if self._left == 0:
                return False
            self._left -= 1
            return True

    def give_back(self, day: dt.date) -> None:
        with self._lock:
            if day == self._day:
                self._left += 1


#: id(runtime) -> (runtime, provider, policy, budget lease): built once per runtime
_per_runtime: dict[int, tuple[Runtime, SmsProvider, SendPolicy, BudgetLease]] = {}


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


def _built_for(runtime: Runtime) -> tuple[Runtime, SmsProvider, SendPolicy, BudgetLease]:
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
                    BudgetLease(),
                )
                _per_runtime[id(runtime)] = entry
    return entry


def sms_provider(runtime: Runtime) -> SmsProvider:
    """The runtime's provider (built once; adapters are thread-safe)."""
    return _built_for(runtime)[1]


def send_policy(runtime: Runtime) -> SendPolicy:
    return _built_for(runtime)[2]


def budget_lease(runtime: Runtime) -> BudgetLease:
    return _built_for(runtime)[3]


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
    except SendTimeout as exc:
        if runtime.settings.sms.retry_after_timeout:
            return _record_retryable(runtime, outbox_id, claimed, exc.reason)
        _record_final(runtime, outbox_id, claimed, "ambiguous", exc.reason, give_back=False)
        log.warning("outbox %s ambiguous (may have been sent): %s", outbox_id, exc.reason)
        return "ambiguous"
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


# Statements of the hot path, built once (Core on the tables: no ORM work per SMS).
_OUT = OutboundSms.__table__
_RES = Resident.__table__
_NOW = bindparam("now", type_=UtcDateTime())
_CLAIM = (
    update(_OUT)
    .where(
        _OUT.c.id == bindparam("oid"),
        _OUT.c.status.in_(CLAIMABLE_STATUSES),
        or_(_OUT.c.not_before.is_(None), _OUT.c.not_before <= _NOW),
    )
    .values(status="sending", claimed_at=_NOW, updated_at=_NOW, attempts=_OUT.c.attempts + 1,
            failure_reason=None, not_before=None)
    .returning(_OUT.c.event, _OUT.c.immediate, _OUT.c.to_phone, _OUT.c.request_id,
               _OUT.c.body, _OUT.c.attempts)
)
_CURRENT = select(_OUT.c.status, _OUT.c.not_before).where(_OUT.c.id == bindparam("oid"))
#: locks the resident's row: sends to one number are decided one after the other (cap)
_OPTED_OUT = (
    select(_RES.c.sms_opted_out_at).where(_RES.c.phone == bindparam("phone")).with_for_update()
)
_SENT_TO_NUMBER = select(func.count()).where(
    _OUT.c.to_phone == bindparam("phone"),
    _OUT.c.claimed_at >= bindparam("since", type_=UtcDateTime()),
    _OUT.c.status.in_(sms_quota.COUNTED_STATUSES),
    _OUT.c.id != bindparam("oid"),
)
_UNCLAIM = (  # a claimed row that must wait or not go: not an attempt after all
    update(_OUT)
    .where(_OUT.c.id == bindparam("oid"))
    .values(status=bindparam("status"), failure_reason=bindparam("reason"),
            not_before=bindparam("not_before", type_=UtcDateTime()), updated_at=_NOW,
            attempts=_OUT.c.attempts - 1)
)
#: the row as this attempt left it: ``sending`` (or marked ``ambiguous`` by the sweeper while
#: we waited on the provider: our definite answer is better than its guess)
_MINE = and_(
    _OUT.c.id == bindparam("oid"),
    _OUT.c.attempts == bindparam("attempt"),
    _OUT.c.status.in_(("sending", "ambiguous")),
)
_RECORD_SENT = update(_OUT).where(_MINE).values(
    status="sent", provider=bindparam("provider"), provider_message_id=bindparam("message_id"),
    provider_status=bindparam("provider_status"), cost=bindparam("cost"), sent_at=_NOW,
    updated_at=_NOW, failure_reason=None,
)
_RECORD_OUTCOME = update(_OUT).where(_MINE).values(
    status=bindparam("status"), failure_reason=bindparam("reason"),
    not_before=bindparam("not_before", type_=UtcDateTime()), updated_at=_NOW,
)


def _claim(runtime: Runtime, outbox_id: int, now: dt.datetime) -> _Claimed | str | Retry:
    policy = send_policy(runtime)
    day = policy.day(now)
    with runtime.engine.begin() as conn:
        row = conn.execute(_CLAIM, {"oid": outbox_id, "now": now}).one_or_none()
        if row is None:
            current = conn.execute(_CURRENT, {"oid": outbox_id}).one_or_none()
            if current is not None and current.status in CLAIMABLE_STATUSES and current.not_before:
                # due later (RQ's scheduler works to the second and may run a job early)
                return _wait_until(current.not_before, now) or f"early:{current.status}"
            status = current.status if current is not None else "missing"
            log.info("outbox %s not claimable (status %s): nothing to do", outbox_id, status)
            return f"skipped:{status}"
        opted_out_at = conn.execute(_OPTED_OUT, {"phone": row.to_phone}).scalar()
        sent_to_number = conn.execute(
            _SENT_TO_NUMBER,
            {"phone": row.to_phone, "since": policy.day_start(now), "oid": outbox_id},
        ).scalar_one()
        decision = policy.decide(
            now=now,
            event=row.event,
            immediate=row.immediate,
            to_phone=row.to_phone,
            about_request=row.request_id is not None,
            opted_out=opted_out_at is not None,
            sent_to_number_today=sent_to_number,
            sent_today=0,  # the budget is checked last, by the lease, after this commit
        )
        if decision.verdict is not Verdict.SEND:
            return _hold_or_cancel(conn, outbox_id, decision, now)
    # outside the claim transaction: the lease may reserve budget in a transaction of its own
    if not budget_lease(runtime).take(runtime, day, policy.daily_budget):
        decision = policy.decide(
            now=now, event=row.event, immediate=row.immediate, to_phone=row.to_phone,
            about_request=row.request_id is not None, opted_out=False,
            sent_to_number_today=0, sent_today=policy.daily_budget,
        )
        with transaction(runtime.sessions) as session:
            sms_quota.mark_budget_paused(session, day, policy.daily_budget)
            log.warning("daily SMS budget (%s) reached: sending paused", policy.daily_budget)
            return _hold_or_cancel(session, outbox_id, decision, now)
    return _Claimed(attempt=row.attempts, to_phone=row.to_phone, body=row.body, day=day)


def _hold_or_cancel(  # type: ignore[no-untyped-def]
    conn, outbox_id: int, decision, now: dt.datetime
) -> str | Retry:
    held = decision.verdict is Verdict.HOLD
    conn.execute(_UNCLAIM, {
        "oid": outbox_id, "status": "held" if held else "cancelled",
        "reason": decision.reason, "not_before": decision.not_before if held else None,
        "now": now,
    })
    if not held:
        log.info("outbox %s cancelled: %s", outbox_id, decision.reason)
        return "cancelled"
    assert decision.not_before is not None
    log.info("outbox %s held until %s: %s", outbox_id, decision.not_before, decision.reason)
    return _wait_until(decision.not_before, now) or "held"


def _record_sent(
    runtime: Runtime, outbox_id: int, claimed: _Claimed, provider_name: str, result: SendResult
) -> None:
    from ussd_gateway.sms_callbacks import apply_stored_reports

    with runtime.engine.begin() as conn:
        updated = conn.execute(_RECORD_SENT, {
            "oid": outbox_id, "attempt": claimed.attempt, "provider": provider_name,
            "message_id": result.message_id or None, "provider_status": result.status,
            "cost": result.cost or None, "now": utcnow(),
        })
        if updated.rowcount != 1:
            log.error("outbox %s sent (%s) but the row moved on meanwhile", outbox_id,
                      result.message_id)
            return
        if result.message_id:
            apply_stored_reports(conn, outbox_id, result.message_id)


def _record_outcome(
    runtime: Runtime, outbox_id: int, claimed: _Claimed, status: str, reason: str,
    not_before: dt.datetime | None = None,
) -> None:
    with runtime.engine.begin() as conn:
        conn.execute(_RECORD_OUTCOME, {
            "oid": outbox_id, "attempt": claimed.attempt, "status": status,
            "reason": reason[:500], "not_before": not_before, "now": utcnow(),
        })


def _record_retryable(runtime: Runtime, outbox_id: int, claimed: _Claimed, reason: str) -> str | Retry:
    intervals = tuple(runtime.settings.sms.retry_intervals_seconds)
    delay = retry_delay(claimed.attempt, intervals)
    now = utcnow()
    budget_lease(runtime).give_back(claimed.day)
    if delay is None:
        reason = f"abandon après {claimed.attempt} tentatives: {reason}"
        _record_outcome(runtime, outbox_id, claimed, "failed", reason)
        log.warning("outbox %s failed: %s", outbox_id, reason)
        return "failed"
    due = now + dt.timedelta(seconds=delay)
    _record_outcome(runtime, outbox_id, claimed, "retry", reason, not_before=due)
    log.info("outbox %s: attempt %s failed (%s), retry in %s s", outbox_id, claimed.attempt, reason, delay)
    return _wait_until(due, now, minimum=delay) or "retry"


def _record_final(
    runtime: Runtime, outbox_id: int, claimed: _Claimed, status: str, reason: str, *, give_back: bool
) -> None:
    if give_back:
        budget_lease(runtime).give_back(claimed.day)
    _record_outcome(runtime, outbox_id, claimed, status, reason)


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
