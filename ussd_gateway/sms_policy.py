"""What may be sent, and when: the SMS sending policy as pure functions.

The send job (``workers.jobs``) gathers the facts about one outbox row (who it goes to, whether
that resident opted out, how many SMS that number and the whole commune got today) and asks
:func:`decide` what to do. Nothing here touches the database, Redis or the clock: ``now`` is
always passed in, so every rule is testable on its own.

Rules, in order:

1. Opted-out residents get no status notification. Replies to an SMS they just sent us (the
   confirmation of their own STOP, a STATUT answer, AIDE) still go: they asked for them.
2. Only numbers of the allowed country calling codes (default ``228``) are sent to.
3. Quiet hours (default 21:00–07:00 Africa/Lome): a non-immediate row waits until the end of
   the quiet period. Immediate rows (the answer to the resident's own action) go at once.
4. Per-number daily cap: a status notification about a request is delayed to the next day
   (never lost); any other message (a reply to an SMS command) is cancelled. This is what
   stops SMS pumping through our command replies.
5. Global daily budget: when reached, sending pauses until the next day and staff are told.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from zoneinfo import ZoneInfo

#: events that are replies to an SMS the resident just sent (sms/templates.py REPLY_EVENTS)
REPLY_EVENTS: frozenset[str] = frozenset(
    {
        "statut_reply",
        "statut_word_only",
        "stop_confirm",
        "start_confirm",
        "help",
        "unknown_command",
        "reference_invalid",
    }
)


class Verdict(StrEnum):
    SEND = "send"
    HOLD = "hold"  # wait until ``not_before``
    CANCEL = "cancel"  # never send; ``reason`` says why


@dataclass(frozen=True, slots=True)
class Decision:
    verdict: Verdict
    reason: str = ""
    not_before: dt.datetime | None = None
    #: True when the global daily budget stopped this row (staff must be told)
    budget_exhausted: bool = False


@dataclass(frozen=True, slots=True)
class SendPolicy:
    """The policy's settings (from ``settings.sms`` and ``settings.commune``)."""

    timezone: ZoneInfo
    quiet_start: dt.time
    quiet_end: dt.time
    allowed_country_codes: tuple[str, ...]
    per_number_daily_cap: int
    daily_budget: int

    @classmethod
    def from_settings(cls, settings: object) -> SendPolicy:
        """Build from a ``ussd_gateway.settings.Settings`` (typed loosely to stay import-free)."""
        sms = settings.sms  # type: ignore[attr-defined]
        commune = settings.commune  # type: ignore[attr-defined]
        return cls(
            timezone=ZoneInfo(commune.timezone),
            quiet_start=parse_clock(sms.quiet_hours.start),
            quiet_end=parse_clock(sms.quiet_hours.end),
            allowed_country_codes=tuple(sms.allowed_country_codes),
            per_number_daily_cap=sms.per_number_daily_cap,
            daily_budget=sms.daily_budget,
        )

    # ------------------------------------------------------------------ time

    def local(self, now: dt.datetime) -> dt.datetime:
        return now.astimezone(self.timezone)

    def day(self, now: dt.datetime) -> dt.date:
        """The commune's calendar day at ``now`` (budgets and caps reset at local midnight)."""
        return self.local(now).date()

    def day_start(self, now: dt.datetime) -> dt.datetime:
        """Local midnight that began the commune's current day, as an aware UTC datetime."""
        local_midnight = dt.datetime.combine(self.day(now), dt.time(0), tzinfo=self.timezone)
        return local_midnight.astimezone(dt.timezone.utc)

    def next_day_start(self, now: dt.datetime) -> dt.datetime:
        following = self.day(now) + dt.timedelta(days=1)
        local_midnight = dt.datetime.combine(following, dt.time(0), tzinfo=self.timezone)
        return local_midnight.astimezone(dt.timezone.utc)

    def in_quiet_hours(self, now: dt.datetime) -> bool:
        return in_window(self.local(now).time(), self.quiet_start, self.quiet_end)

    def quiet_hours_end(self, now: dt.datetime) -> dt.datetime:
        """The next moment quiet hours end after ``now`` (UTC)."""
        local = self.local(now)
        end = dt.datetime.combine(local.date(), self.quiet_end, tzinfo=self.timezone)
        if end <= local:
            end = dt.datetime.combine(
                local.date() + dt.timedelta(days=1), self.quiet_end, tzinfo=self.timezone
            )
        return end.astimezone(dt.timezone.utc)

    def earliest_send(self, after: dt.datetime, *, immediate: bool) -> dt.datetime:
        """``after``, or the end of quiet hours if a non-immediate row would land in them."""
        if not immediate and self.in_quiet_hours(after):
            return self.quiet_hours_end(after)
        return after

    # ------------------------------------------------------------------ rules

    def country_allowed(self, e164: str) -> bool:
        return country_allowed(e164, self.allowed_country_codes)

    def decide(
        self,
        *,
        now: dt.datetime,
        event: str,
        immediate: bool,
        to_phone: str,
        about_request: bool,
        opted_out: bool,
        sent_to_number_today: int,
        sent_today: int,
    ) -> Decision:
        """What to do with one row now (see the module docstring for the rules)."""
        if opted_out and event not in REPLY_EVENTS:
            return Decision(Verdict.CANCEL, "résident désabonné (STOP)")
        if not self.country_allowed(to_phone):
            return Decision(Verdict.CANCEL, "indicatif pays non autorisé pour l'envoi")
        if not immediate and self.in_quiet_hours(now):
            return Decision(Verdict.HOLD, "heures calmes", self.quiet_hours_end(now))
        if sent_to_number_today >= self.per_number_daily_cap:
            if about_request:
                tomorrow = self.earliest_send(self.next_day_start(now), immediate=immediate)
                return Decision(Verdict.HOLD, "plafond quotidien du numéro atteint", tomorrow)
            return Decision(Verdict.CANCEL, "plafond quotidien du numéro atteint")
        if sent_today >= self.daily_budget:
            tomorrow = self.earliest_send(self.next_day_start(now), immediate=immediate)
            return Decision(
                Verdict.HOLD, "budget SMS quotidien atteint", tomorrow, budget_exhausted=True
            )
        return Decision(Verdict.SEND)


def parse_clock(text: str) -> dt.time:
    """``"21:00"`` -> ``time(21, 0)``."""
    hours, minutes = text.split(":")
    return dt.time(int(hours), int(minutes))


def in_window(clock: dt.time, start: dt.time, end: dt.time) -> bool:
    """True when ``clock`` is in [start, end), the window possibly wrapping past midnight.
    An empty window (start == end) contains nothing."""
    if start == end:
        return False
    if start < end:
        return start <= clock < end
    return clock >= start or clock < end


def country_allowed(e164: str, allowed_codes: Iterable[str]) -> bool:
    """True when the E.164 number starts with ``+`` and one of the allowed calling codes.

    Calling codes are prefix-free (ITU E.164), so a prefix test is exact.
    """
    if not e164.startswith("+"):
        return False
    digits = e164[1:]
    return any(digits.startswith(code) for code in allowed_codes)


def retry_delay(attempt: int, intervals: tuple[int, ...]) -> int | None:
    """Seconds to wait after failed attempt number ``attempt`` (1-based), or None when the
    retries are used up (``len(intervals)`` retries after the first attempt)."""
    if attempt < 1 or attempt > len(intervals):
        return None
    return intervals[attempt - 1]
