"""The sending policy (pure): quiet hours, countries, per-number cap, budget, opt-out."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from ussd_gateway.sms_policy import (
    SendPolicy,
    Verdict,
    country_allowed,
    in_window,
    parse_clock,
    retry_delay,
)

LOME = ZoneInfo("Africa/Lome")
POLICY = SendPolicy(
    timezone=LOME, quiet_start=dt.time(21), quiet_end=dt.time(7),
    allowed_country_codes=("228",), per_number_daily_cap=3, daily_budget=100,
)


def lome(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=LOME).astimezone(dt.timezone.utc)


def decide(**overrides: object):  # type: ignore[no-untyped-def]
    facts: dict[str, object] = dict(
        now=lome(28, 12), event="en_cours", immediate=False, to_phone="+22890123456",
        about_request=True, opted_out=False, sent_to_number_today=0, sent_today=0,
    )
    facts.update(overrides)
    return POLICY.decide(**facts)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("clock", "quiet"),
    [("20:59", False), ("21:00", True), ("23:59", True), ("00:00", True), ("06:59", True),
     ("07:00", False), ("12:00", False)],
)
def test_quiet_hours_wrap_past_midnight(clock: str, quiet: bool) -> None:
    assert in_window(parse_clock(clock), dt.time(21), dt.time(7)) is quiet


def test_a_window_that_does_not_wrap_and_an_empty_window() -> None:
    assert in_window(dt.time(13), dt.time(12), dt.time(14))
    assert not in_window(dt.time(14), dt.time(12), dt.time(14))
    assert not in_window(dt.time(3), dt.time(0), dt.time(0))


def test_quiet_hours_end_is_the_next_morning_in_lome() -> None:
    assert POLICY.quiet_hours_end(lome(28, 22, 30)) == lome(29, 7)
    assert POLICY.quiet_hours_end(lome(29, 3, 0)) == lome(29, 7)


def test_status_notification_in_quiet_hours_waits_for_the_morning() -> None:
    decision = decide(now=lome(28, 22, 15))
    assert decision.verdict is Verdict.HOLD
    assert decision.not_before == lome(29, 7)


def test_immediate_answer_goes_out_in_quiet_hours() -> None:
    assert decide(now=lome(28, 23), event="recue", immediate=True).verdict is Verdict.SEND


def test_only_allowed_country_codes_are_sent_to() -> None:
    assert country_allowed("+22890123456", ("228",))
    assert not country_allowed("+33612345678", ("228",))
    assert country_allowed("+33612345678", ("228", "33"))
    assert not country_allowed("22890123456", ("228",))
    assert decide(to_phone="+33612345678").verdict is Verdict.CANCEL


def test_opted_out_resident_gets_no_notification_but_gets_the_reply_to_their_own_stop() -> None:
    cancelled = decide(opted_out=True)
    assert cancelled.verdict is Verdict.CANCEL
    assert "désabonné" in cancelled.reason
    assert decide(opted_out=True, event="stop_confirm", immediate=True,
                  about_request=False).verdict is Verdict.SEND


def test_per_number_cap_delays_request_news_to_tomorrow_and_drops_command_replies() -> None:
    held = decide(sent_to_number_today=3)
    assert held.verdict is Verdict.HOLD
    assert held.not_before == lome(29, 7)  # tomorrow, after quiet hours
    reply = decide(sent_to_number_today=3, event="unknown_command", immediate=True,
                   about_request=False)
    assert reply.verdict is Verdict.CANCEL


def test_daily_budget_pauses_sending_until_tomorrow_and_flags_it() -> None:
    decision = decide(sent_today=100, immediate=True, event="recue")
    assert decision.verdict is Verdict.HOLD
    assert decision.budget_exhausted
    assert decision.not_before == lome(29, 0)  # immediate rows go at midnight


def test_retry_delays_follow_the_configured_intervals_then_stop() -> None:
    intervals = (10, 30, 60)
    assert [retry_delay(n, intervals) for n in (1, 2, 3, 4)] == [10, 30, 60, None]


def test_commune_day_starts_at_local_midnight() -> None:
    assert POLICY.day(lome(28, 23, 59)) == dt.date(2026, 11, 28)
    assert POLICY.day_start(lome(28, 12)) == lome(28, 0)
