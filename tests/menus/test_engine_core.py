"""Session state serialisation, purity of the engine, pagination layout and speed."""
from __future__ import annotations

import subprocess
import sys
import time

import pytest

from menus.render import fit_lines, paginate
from menus.state import SessionState
from sms.encoding import septet_count
from tests.menus.driver import Phone


def test_session_state_round_trips_through_compact_json() -> None:
    state = SessionState(
        screen="EC01.copies", language="ee", page=1, answers={"service": "EC01", "titulaire": "Kɔsi *1"},
        history=["accueil", "demande_groupe"], variables={"service_label": "Kopi"},
        options=[("EC01", "Kopi")], language_chosen=True, consented=True, resume_handled=True,
    )
    assert SessionState.from_json(state.to_json()) == state
    assert SessionState.from_json(state.to_json().encode()) == state
    assert SessionState(screen="accueil", language="fr").to_json() == '{"s":"accueil","l":"fr"}'


@pytest.mark.parametrize("garbage", ["", "{}", "[]", "null", '{"s": "x"}', "not json"])
def test_a_corrupt_state_is_refused(garbage: str) -> None:
    with pytest.raises(ValueError):
        SessionState.from_json(garbage)


def test_the_state_of_the_longest_journey_stays_small() -> None:
    phone = Phone()
    phone.dial()
    phone.send("1", "1", "1", "1", "2", "Kossiwa Akpene Mawuena Gbedemah", "12031990")
    assert phone.screen == "demande_confirmer"
    assert len(phone.state.to_json().encode()) < 400
    end = phone.send("1")
    assert len(end.state.to_json()) < 60


def test_the_engine_imports_no_web_database_or_redis_library() -> None:
    code = (
        "import sys, menus.engine, menus.check, menus.loader\n"
        "bad = [m for m in ('flask', 'redis', 'sqlalchemy', 'rq', 'psycopg') if m in sys.modules]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_pages_never_cut_an_option_and_stay_within_the_limit() -> None:
    lines = [f"{i} Option numero {i} assez longue" for i in range(1, 30)]
    pages, shortened = paginate("Titre", lines, limit=80, more_line="98 Suite", back_line="0 Retour",
                                back_on_first=True)
    assert not shortened and len(pages) > 3
    assert all(septet_count(p) <= 80 for p in pages)
    shown = [line for p in pages for line in p.split("\n") if line in lines]
    assert shown == lines
    assert pages[0].startswith("Titre\n") and not pages[1].startswith("Titre")
    assert all(p.endswith("98 Suite\n0 Retour") for p in pages[:-1]) and pages[-1].endswith("0 Retour")


def test_an_option_too_long_for_any_page_is_shortened_and_reported() -> None:
    pages, shortened = paginate("T", ["1 " + "x" * 200], limit=50, more_line="98 Suite",
                                back_line="0 Retour", back_on_first=True)
    assert shortened and septet_count(pages[0]) <= 50 and pages[0].endswith("0 Retour")


def test_fit_lines_shares_the_shortening_between_long_lines() -> None:
    text = fit_lines(["Titre", "a" * 100, "b" * 100, "1 Faire"], 80)
    assert septet_count(text) <= 80
    lines = text.split("\n")
    assert lines[0] == "Titre" and lines[3] == "1 Faire"
    assert abs(len(lines[1]) - len(lines[2])) <= 1 and lines[1].endswith("..")


def test_a_step_costs_microseconds() -> None:
    phone = Phone()
    phone.dial()
    engine, ctx = phone.engine, phone.context()
    state = SessionState.from_json(phone.send("3", "1", "2").state.to_json())  # a landmark question
    rounds = 2000
    started = time.perf_counter()
    for _ in range(rounds):
        SessionState.from_json(engine.step(state, "Carrefour", ctx).state.to_json())
    per_step = (time.perf_counter() - started) / rounds
    assert per_step < 0.001, f"{per_step * 1e6:.0f} µs per step"
