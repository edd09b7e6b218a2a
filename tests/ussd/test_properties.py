"""Property-based tests: arbitrary sequences of hops through the HTTP endpoint never break the
protocol and never create more than one request per session."""
from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from sms.encoding import is_gsm7
from tests.ussd.phone import Phone
from ussd_gateway.models import ServiceRequest

_numbers = itertools.count(1)

keys = st.sampled_from(["1", "2", "3", "4", "5", "0", "00", "98", "9", "", " 1 "])
free_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=0, max_size=25
)
starry = st.builds(lambda a, b: f"{a}*{b}", free_text, free_text)
emoji = st.sampled_from(["😀", "Kossi 👍", "🇹🇬🇹🇬", "ƉƑƔŊƆƐƲ", "«ê»"])
huge = st.just("9" * 10_240) | st.just("x" * 10_240)
inputs = st.one_of(keys, keys, keys, free_text, starry, emoji, huge)

operations = st.lists(
    st.one_of(
        st.tuples(st.just("press"), inputs),
        st.tuples(st.just("repeat"), st.none()),
        st.tuples(st.just("redial"), st.none()),
        st.tuples(st.just("stale"), st.integers(min_value=0, max_value=20)),
        st.tuples(st.just("journey"), st.none()),
    ),
    min_size=1,
    max_size=25,
)


def _requests_of(runtime, number: str) -> int:  # type: ignore[no-untyped-def]
    from ussd_gateway.models import Resident

    with runtime.sessions() as session:
        return session.scalar(
            select(func.count(ServiceRequest.id))
            .join(Resident, Resident.id == ServiceRequest.resident_id)
            .where(Resident.phone == number)
        ) or 0


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=operations, onboarded=st.booleans())
def test_any_sequence_of_hops_gets_valid_screens_and_at_most_one_request_per_session(
    client, callback_prefix, runtime, ops, onboarded  # type: ignore[no-untyped-def]
) -> None:
    number = f"+2289{next(_numbers):07d}"
    phone = Phone(client, callback_prefix, number=number)
    if onboarded:
        phone.onboard()
    else:
        phone.dial()
    sessions = 1
    texts: list[str] = [""]
    for op, arg in ops:
        before = _requests_of(runtime, number)
        if op == "press":
            screen = phone.press(arg)
            texts.append("*".join(phone.answers))
        elif op == "repeat":
            screen = phone.post("*".join(phone.answers))
        elif op == "journey":  # a whole request from wherever the session is
            for key in ["00", "1", "1", "3", "Ama Akakpo", "01012010", "2", "1"]:
                screen = phone.press(key)
                texts.append("*".join(phone.answers))
                assert screen.status == 200
        elif op == "redial":
            screen = phone.dial()
            sessions += 1
            texts = [""]
        else:  # a hop from the past of this session (reordered delivery)
            screen = phone.post(texts[arg % len(texts)])
        assert screen.status == 200, screen.body[:200]
        assert screen.body.startswith(("CON ", "END ")), screen.body[:200]
        assert len(screen.text) <= 160, screen.body
        assert is_gsm7(screen.text), screen.body
        assert _requests_of(runtime, number) - before <= 1
    assert _requests_of(runtime, number) <= sessions
    created.append(_requests_of(runtime, number))


created: list[int] = []


def test_the_property_test_did_create_requests() -> None:
    """Guard against a vacuous property: some examples must have reached a confirmation."""
    assert created and max(created) >= 1
