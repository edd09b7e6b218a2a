"""Navigation (0, 00, 98), validation re-asks, first use (language, consent), drafts, errors."""
from __future__ import annotations

import pytest

from menus.effects import ClearDraft, RecordConsent, SaveDraft, SetLanguage
from menus.handlers import UnknownOutcome
from menus.state import HopContext, SessionState
from tests.menus.driver import GRAPH, PHONE, TODAY, Phone
from tests.menus.fakes import FakeHandlers

MAIN_FR = "Mairie Golfe 3\n1 Faire une demande\n2 Suivre mes demandes\n3 Signaler un problème\n4 Infos et tarifs\n5 Langue"


def test_a_returning_resident_lands_on_the_main_menu() -> None:
    phone = Phone()
    step = phone.dial()
    assert step.text == MAIN_FR and not step.end and step.effects == ()


def test_zero_goes_back_one_screen_and_keeps_going_back_to_the_main_menu() -> None:
    phone = Phone()
    phone.dial()
    groups = phone.send("1")
    services = phone.send("1")
    assert phone.send("0").text == groups.text
    assert phone.send("0").text == MAIN_FR
    assert phone.send("0").text == MAIN_FR  # nothing before the main menu
    assert phone.send("1", "1").text == services.text


def test_zero_on_a_question_goes_back_to_the_previous_question_keeping_the_session() -> None:
    phone = Phone()
    phone.dial()
    copies = phone.send("1", "1", "1", "1")
    assert phone.screen == "EC01.copies"
    phone.send("2")
    assert phone.send("0").text == copies.text
    assert phone.state.answers["copies"] == "2"


def test_double_zero_goes_to_the_main_menu_from_anywhere_and_drops_the_draft() -> None:
    phone = Phone()
    phone.dial()
    phone.send("1", "1", "1", "1", "2")
    assert phone.draft is not None
    step = phone.send("00")
    assert step.text == MAIN_FR
    assert phone.state.answers == {} and phone.state.history == []
    assert ClearDraft() in step.effects and phone.draft is None


def test_ninety_eight_pages_forward_and_zero_pages_back_without_cutting_options() -> None:
    phone = Phone(language="ee")
    for _ in range(15):
        phone.handlers.add_request(PHONE, "EC01", "en_cours")
    phone.dial()
    pages = [phone.send("2", "1")]
    while "98 Edzi" in pages[-1].text:
        pages.append(phone.send("98"))
    assert len(pages) >= 4
    shown = [line for page in pages for line in page.text.split("\n") if line[:2].strip().isdigit()
             and not line.startswith(("98 ", "0 "))]
    assert [line.split(" ")[0] for line in shown] == [str(i) for i in range(1, 16)]
    assert all(".." not in line for line in shown)
    assert phone.send("98").text.startswith("Tiatia meso o.")  # past the last page
    assert phone.send("0").text == pages[-2].text
    assert phone.send("15").text.startswith("Ref ")  # any option number works from any page


def test_an_invalid_choice_re_asks_the_same_screen_with_an_error_line() -> None:
    phone = Phone(language="en")
    phone.dial()
    menu = phone.send("1")
    for bad in ("9", "", "abc", "1*2", "٣", "007", "😀", "x" * 10_000):
        step = phone.send(bad)
        assert step.text == "Invalid choice.\n" + menu.text
        assert not step.end and phone.screen == "demande_groupe"


@pytest.mark.parametrize(
    ("screen_inputs", "bad", "error"),
    [
        (["1", "1", "1", "1"], "9", "Nombre invalide (de 1 à 5)."),
        (["1", "1", "1", "1"], "2.5", "Nombre invalide (de 1 à 5)."),
        (["1", "1", "1", "1", "2"], "K", "Texte invalide (2 à 40 caractères)."),
        (["1", "1", "1", "1", "2"], "x" * 41, "Texte invalide (2 à 40 caractères)."),
        (["1", "1", "1", "1", "2", "Kossi"], "31021990", "Date invalide. Tapez JJMMAAAA, ex: 05031990."),
        (["1", "1", "1", "1", "2", "Kossi"], "1990", "Date invalide. Tapez JJMMAAAA, ex: 05031990."),
        (["1", "1", "1", "1", "2", "Kossi"], "01012027", "Cette date est dans le futur."),
        (["1", "1", "5"], "15122026", "Choisissez une date dans 30 jours au moins."),
        (["1", "1", "5"], "01012029", "Date trop lointaine (365 jours au plus)."),
    ],
    ids=["number-range", "number-decimal", "text-short", "text-long", "date-impossible",
         "date-format", "date-future", "date-too-soon", "date-too-far"],
)
def test_invalid_answers_are_re_asked_with_the_reason(screen_inputs: list[str], bad: str, error: str) -> None:
    phone = Phone()
    phone.dial()
    question = phone.send(*screen_inputs)
    before = phone.state.to_json()
    step = phone.send(bad)
    assert step.text == error + "\n" + question.text
    assert phone.state.to_json() == before  # nothing lost, nothing stored


@pytest.mark.parametrize("language", ["en", "ee"])
def test_error_lines_are_in_the_residents_language(language: str) -> None:
    phone = Phone(language=language)
    phone.dial()
    phone.send("1", "1", "1", "1")
    step = phone.send("0" + "9")
    expected = {"en": "Invalid number (1 to 5).", "ee": "Xexleme meso o (1 va se 5)."}[language]
    assert step.text.startswith(expected + "\n")


def test_confirmation_modify_restarts_the_form_and_cancel_stores_nothing() -> None:
    phone = Phone()
    phone.dial()
    phone.send("3", "1", "2", "Carrefour", "2")
    first_question = phone.send("2")
    assert phone.screen == "SI01.quartier" and first_question.text.startswith("Quartier:")
    confirm = phone.send("3", "Marche", "4")
    assert "Tokoin-Gbonvié" not in confirm.text and "Doumasséssé (Adéwui)" in confirm.text
    end = phone.send("0")
    assert end.end and end.text == "Demande annulée. Rien n'a été enregistré."
    assert phone.handlers.created == [] and phone.draft is None


def test_one_confirmation_creates_one_request_even_if_the_resident_keeps_typing() -> None:
    phone = Phone()
    phone.dial()
    phone.send("3", "1", "2", "Carrefour", "2")
    end = phone.send("1")
    assert end.end and len(phone.handlers.created) == 1
    engine = phone.engine
    again = engine.step(end.state, "1", phone.context())
    assert again.end and again.text.startswith("Session terminée")
    assert len(phone.handlers.created) == 1


# -- first use ---------------------------------------------------------------------------------

def test_first_use_asks_the_language_then_the_consent_and_stores_both_only_on_acceptance() -> None:
    phone = Phone(language=None, consent_version=None)
    step = phone.dial()
    assert step.text.startswith("Mairie Golfe 3\nLangue / Language / Gbe\n1 Francais\n2 English\n3 Evegbe")
    consent = phone.send("2")
    assert consent.effects == () and "law 2019-014" in consent.text
    main = phone.send("1")
    assert main.effects == (RecordConsent(GRAPH.consent_version), SetLanguage("en"))
    assert main.text.startswith("Golfe 3 Town Hall\n1 Make a request")
    assert phone.language == "en" and phone.consent_version == GRAPH.consent_version
    assert phone.dial().text.startswith("Golfe 3 Town Hall")  # next session: straight in


def test_refusing_consent_ends_without_storing_anything() -> None:
    phone = Phone(language=None, consent_version=None)
    phone.dial()
    phone.send("3")
    end = phone.send("2")
    assert end.end and "Doumassesse" in end.text
    assert all(step.effects == () for step in phone.steps)
    assert phone.language is None and phone.consent_version is None


def test_a_new_privacy_notice_version_asks_consent_again_in_the_stored_language() -> None:
    phone = Phone(language="ee", consent_version="2025-01-v0")
    step = phone.dial()
    assert step.text.startswith("Mairie Golfe 3: wo telefon xexleme")
    main = phone.send("1")
    assert main.effects == (RecordConsent(GRAPH.consent_version),)


def test_the_language_can_be_changed_from_the_main_menu() -> None:
    phone = Phone()
    phone.dial()
    phone.send("5")
    main = phone.send("3")
    assert main.effects == (SetLanguage("ee"),)
    assert main.text.startswith("Mairie Golfe 3\n1 Bia nane")


# -- interrupted journeys ----------------------------------------------------------------------

def test_an_interrupted_request_is_offered_again_and_finishes_with_one_request() -> None:
    phone = Phone()
    phone.dial()
    question = phone.send("1", "2", "1", "2")  # AU01 -> documents -> type
    assert SaveDraft() in question.effects and phone.draft is not None
    # the network drops the session; the resident dials again
    offer = phone.dial()
    assert offer.text.startswith("Une demande non terminée vous attend.")
    resumed = phone.send("1")
    assert resumed.text == question.text and phone.state.answers["documents"] == "2"
    end = phone.send("1", "1")
    assert end.end and len(phone.handlers.created) == 1
    assert phone.handlers.created[0].answers["documents"] == "2"
    assert phone.draft is None


def test_declining_the_draft_deletes_it() -> None:
    phone = Phone()
    phone.dial()
    phone.send("1", "2", "1", "2")
    phone.dial()
    main = phone.send("2")
    assert main.text == MAIN_FR and ClearDraft() in main.effects and phone.draft is None


def test_a_draft_of_a_screen_that_no_longer_exists_is_ignored() -> None:
    phone = Phone(draft=SessionState(screen="ancien_ecran", language="fr", answers={"service": "EC01"}))
    assert phone.dial().text == MAIN_FR


# -- errors ------------------------------------------------------------------------------------

def test_a_failing_handler_is_not_swallowed_and_the_apology_is_in_the_residents_language() -> None:
    phone = Phone(handlers=FakeHandlers(fail_on={"create_request"}), language="en")
    phone.dial()
    phone.send("3", "1", "2", "Carrefour", "2")
    with pytest.raises(RuntimeError, match="create_request failed"):
        phone.send("1")
    assert phone.engine.apology("en").startswith("Golfe 3 Town Hall: service temporarily unavailable")
    assert phone.engine.apology(None).startswith("Mairie Golfe 3: service momentanément")


def test_an_undeclared_outcome_is_a_bug_that_surfaces() -> None:
    phone = Phone(handlers=FakeHandlers(outcome_for={"service_info": "surprise"}))
    phone.dial()
    with pytest.raises(UnknownOutcome, match="surprise"):
        phone.send("4", "1", "1")


def test_a_state_from_another_menu_version_ends_cleanly() -> None:
    phone = Phone()
    ctx = HopContext("s", PHONE, TODAY, "fr", GRAPH.consent_version)
    step = phone.engine.step(SessionState(screen="disparu", language="fr"), "1", ctx)
    assert step.end and step.text.startswith("Session terminée")
