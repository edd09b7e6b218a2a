"""Property tests on the pure engine: arbitrary keypad input never breaks a screen."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from menus.state import SessionState
from sms.encoding import is_gsm7, septet_count
from tests.menus.driver import GRAPH, PHONE, Phone
from tests.menus.fakes import FakeHandlers, make_reference

DIAL = "<dial>"  # not an input: the resident hangs up and dials again

keys = st.sampled_from(["0", "00", "98", "1", "2", "3", "4", "5", "6", "7", "9", "10", "15", "99"])
typed = st.sampled_from([
    "12031990", "01012027", "31021990", "Kossi Afi", "Rue 12*3", "*", "**", "1*1", " 1 ",
    make_reference(10000000), "100 000 006", "123456789", "90123456", "+22890123456", "😀", "ɖɔ ŋ",
    "x" * 10_000, "1" * 10_000, "\n", "", "٣", "00000", "-1", "1.0", "{reference}", "{", "%s",
])
free = st.text(max_size=60)
inputs = st.lists(st.one_of(keys, keys, keys, typed, free, st.just(DIAL)), max_size=40)
contexts = st.tuples(st.sampled_from([None, "fr", "en", "ee"]),
                     st.sampled_from([None, "old", GRAPH.consent_version]))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sequence=inputs, context=contexts, own_requests=st.integers(0, 25))
def test_arbitrary_input_never_raises_and_every_screen_fits(sequence, context, own_requests) -> None:
    handlers = FakeHandlers()
    for i in range(own_requests):
        handlers.add_request(PHONE if i % 3 else "+22899000000", "EC01" if i % 2 else "SI03", "en_cours")
    language, consent = context
    phone = Phone(handlers=handlers, language=language, consent_version=consent)
    step = phone.dial()
    for text in sequence:
        if text == DIAL or step.end:
            step = phone.dial()
            continue
        on_confirm = phone.screen == "demande_confirmer"
        created_before = len(handlers.created)
        step = phone.send(text)  # the driver asserts: non-empty, GSM-7, <= 160, CON/END
        created = len(handlers.created) - created_before
        assert created <= 1
        if created:
            assert on_confirm and text.strip() == "1" and step.end
        assert SessionState.from_json(step.state.to_json()) == step.state
    assert all(is_gsm7(s.text) and septet_count(s.text) <= 160 for s in phone.steps)


@settings(max_examples=200, deadline=None)
@given(answer=st.text(min_size=1, max_size=200))
def test_any_free_text_answer_is_stored_or_re_asked_never_breaks_the_confirmation(answer) -> None:
    phone = Phone()
    phone.dial()
    phone.send("3", "1", "2")
    assert phone.screen == "SI01.repere"
    step = phone.send(answer)
    if phone.screen == "SI01.repere":
        assert step.text.startswith(("Texte invalide", "Repère proche")) or answer.strip() in ("0", "00", "98")
    elif phone.screen == "SI01.lampadaires":
        confirm = phone.send("2")
        assert confirm.text.endswith("1 Confirmer\n2 Modifier\n0 Annuler")
        end = phone.send("1")
        assert end.end and len(phone.handlers.created) == 1
        assert phone.handlers.created[0].answers["repere"] == " ".join(answer.split())


@settings(max_examples=200, deadline=None)
@given(after=st.lists(st.one_of(keys, typed, free), max_size=25))
def test_from_a_confirmation_any_input_sequence_creates_at_most_one_request_per_confirmation(after) -> None:
    phone = Phone()
    phone.dial()
    phone.send("3", "2", "1", "Carrefour", "1")
    assert phone.screen == "demande_confirmer"
    confirmations = 0
    step = phone.steps[-1]
    for text in after:
        if step.end:
            step = phone.dial()
            continue
        if phone.screen == "demande_confirmer" and text.strip() == "1":
            confirmations += 1
        step = phone.send(text)
    assert len(phone.handlers.created) == confirmations
    assert confirmations <= 1 or len({r.reference for r in phone.handlers.created}) == confirmations
