"""Whole journeys through the pure engine: every catalogue service, in French, English and Ewe."""
from __future__ import annotations

import pytest

from menus.effects import ClearDraft
from tests.menus.driver import GRAPH, PHONE, Phone
from tests.menus.fakes import SERVICES, FakeHandlers

LANGUAGES = ("fr", "en", "ee")
DEMANDE_GROUP_KEY = {"etat_civil": "1", "attestations": "2", "urbanisme": "3"}

# (service, keypad inputs answering its form, canonical answers expected by create_request)
SERVICE_JOURNEYS = [
    ("EC01", ["1", "2", "Kossi Afi", "12031990"],
     {"type_copie": "integrale", "copies": "2", "titulaire": "Kossi Afi", "date_naissance": "1990-03-12"}),
    ("EC02", ["18112026", "1", "2", "3"],
     {"date_naissance": "2026-11-18", "lieu": "formation_sanitaire", "sexe": "M", "quartier": "doumassesse"}),
    ("EC03", ["Ama Mensah", "01/02/2015", "1"],
     {"epoux": "Ama Mensah", "date_mariage": "2015-02-01", "copies": "1"}),
    ("EC04", ["1", "Koffi Mensah", "01112026"],
     {"demarche": "declarer", "defunt": "Koffi Mensah", "date_deces": "2026-11-01"}),
    ("EC05", ["09012027", "2"], {"date_souhaitee": "2027-01-09", "nationalites": "etranger"}),
    ("AU01", ["3", "2"], {"documents": "3", "type_document": "contrat"}),
    ("AU02", ["12", "1"], {"pages": "12", "type_document": "diplome"}),
    ("AT01", ["1", "5", "2"], {"quartier": "tokoin_elavagnon", "annees": "5", "motif": "scolarite"}),
    ("AT02", ["05 06 1950", "1"], {"date_naissance": "1950-06-05", "organisme": "cnss"}),
    ("UR01", ["1", "PC-2026-00123"], {"objet": "suivi", "dossier": "PC-2026-00123"}),
    ("UR02", ["2", "4", "7"], {"objet": "materiaux", "quartier": "tokoin_kleve", "jours": "7"}),
    ("FI01", ["1", "6"], {"taxe": "droits_place", "quartier": "massouhoin"}),
    ("SI01", ["5", "Pres de l'ecole Sainte Rita", "3"],
     {"quartier": "kelegouvi", "repere": "Pres de l'ecole Sainte Rita", "lampadaires": "3"}),
    ("SI02", ["2", "Carrefour Bodjona", "1"],
     {"quartier": "tokoin_gbonvie", "repere": "Carrefour Bodjona", "type_probleme": "depot_sauvage"}),
    ("SI03", ["7", "Rue du marche", "2"],
     {"quartier": "ahanoukope_est", "repere": "Rue du marche", "type_probleme": "caniveau_bouche"}),
]
RECORDED = {"fr": "Demande enregistrée", "en": "Request recorded", "ee": "Woxo wo biabia"}


def test_the_table_covers_every_service_of_the_catalogue() -> None:
    assert sorted(code for code, _, _ in SERVICE_JOURNEYS) == sorted(SERVICES)


def keys_to_service(code: str) -> list[str]:
    """Main menu -> group -> service (position in the group's active services, 1-based)."""
    group = SERVICES[code]["group"]
    position = [c for c, s in SERVICES.items() if s["group"] == group].index(code) + 1
    if group == "signalements":
        return ["3", str(position)]
    return ["1", DEMANDE_GROUP_KEY[group], str(position)]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(("code", "inputs", "expected"), SERVICE_JOURNEYS, ids=[r[0] for r in SERVICE_JOURNEYS])
def test_every_service_can_be_requested_and_ends_with_its_reference(
    language: str, code: str, inputs: list[str], expected: dict[str, str]
) -> None:
    phone = Phone(language=language)
    phone.dial()
    phone.send(*keys_to_service(code))
    assert phone.state.answers["service"] == code
    phone.send(*inputs)
    assert phone.screen == "demande_confirmer"
    confirm = phone.steps[-1]
    assert SERVICES[code]["names"][language] in confirm.text or confirm.text.startswith(
        SERVICES[code]["names"][language][:20])
    end = phone.send("1")

    assert end.end
    assert RECORDED[language] in end.text
    created = phone.handlers.created
    assert len(created) == 1
    request = created[0]
    assert f"{request.reference[:3]} {request.reference[3:6]} {request.reference[6:]}" in end.text
    assert request.service == code and request.phone == PHONE
    assert {k: request.answers[k] for k in expected} == expected
    assert request.quartier == expected.get("quartier")
    # staff summary: French labels in question order, whatever the resident's language
    form = GRAPH.forms[code]
    assert [label for label, _ in request.summary] == [
        GRAPH.screens[s].summary["fr"] for s in form.screens]
    # dial -> reference: main, (group,) service, questions, confirmation, END
    assert len(phone.steps) == len(keys_to_service(code)) + len(inputs) + 2
    assert len(phone.steps) <= 9
    assert isinstance(end.effects[-1], ClearDraft) and phone.draft is None


@pytest.mark.parametrize("language", LANGUAGES)
def test_confirmation_summary_shows_the_answers_in_the_residents_language(language: str) -> None:
    phone = Phone(language=language)
    phone.dial()
    step = phone.send("1", "1", "1", "1", "2", "Kossi Afi", "12031990")
    label = {"fr": "Copie intégrale", "en": "Full copy", "ee": "Kopi blibo"}[language]
    assert label in step.text and "Kossi Afi" in step.text and "12/03/1990" in step.text
    actions = {"fr": "1 Confirmer\n2 Modifier\n0 Annuler", "en": "1 Confirm\n2 Change\n0 Cancel",
               "ee": "1 Kpe edzi"}[language]
    assert actions in step.text


def test_a_long_answer_is_shortened_on_the_confirmation_not_the_screen_budget() -> None:
    phone = Phone()
    phone.dial()
    step = phone.send("1", "1", "1", "1", "5", "Kossiwa Akpene Mawuena Adjoa Gbedemah", "12031990")
    assert step.text.endswith("1 Confirmer\n2 Modifier\n0 Annuler")
    phone.send("1")
    assert phone.handlers.created[0].answers["titulaire"] == "Kossiwa Akpene Mawuena Adjoa Gbedemah"


@pytest.mark.parametrize(
    ("code", "inputs", "expected"),
    [
        ("EC02", ["01012026"], "Tribunal de première instance"),
        ("FI01", ["4"], "OTR"),
        ("FI01", ["5"], "DAGL"),
        ("SI02", ["1", "Carrefour", "4"], "DAGL"),
        ("UR01", ["2"], "Portail national, via un architecte agréé"),
    ],
    ids=["late-birth-tribunal", "taxe-fonciere-otr", "grand-marche-dagl", "transfer-point-dagl",
         "permit-architect"],
)
def test_what_is_not_the_communes_says_where_to_go_instead(code: str, inputs: list[str], expected: str) -> None:
    phone = Phone()
    phone.dial()
    phone.send(*keys_to_service(code))
    end = phone.send(*inputs)
    assert end.end and expected in end.text
    assert phone.handlers.created == []


def test_a_refused_request_from_the_handler_shows_the_referral_outcome() -> None:
    phone = Phone()
    phone.handlers.outcome_for["create_request"] = "hors_competence"
    phone.dial()
    end = phone.send("1", "2", "1", "3", "1", "1")
    assert end.end and "ne relève pas de la mairie" in end.text


def test_too_many_requests_today_is_said_plainly() -> None:
    phone = Phone()
    phone.handlers.outcome_for["create_request"] = "limite"
    phone.dial()
    end = phone.send("1", "2", "1", "3", "1", "1")
    assert end.end and "Trop de demandes" in end.text


def test_only_active_services_are_offered() -> None:
    phone = Phone(handlers=FakeHandlers(inactive={"EC01", "EC03"}))
    phone.dial()
    step = phone.send("1", "1")
    assert "Copie d'acte de naissance" not in step.text and "Copie d'acte de mariage" not in step.text
    assert step.text.startswith("Choisissez le service:\n1 Déclaration de naissance")


def test_a_group_without_active_services_ends_politely() -> None:
    phone = Phone(handlers=FakeHandlers(inactive=set(SERVICES)))
    phone.dial()
    end = phone.send("3")
    assert end.end and "Aucun service disponible" in end.text


# -- follow my requests ----------------------------------------------------------------------

def test_my_requests_are_listed_newest_first_with_status_words_and_paginated() -> None:
    phone = Phone()
    for i in range(12):
        phone.handlers.add_request(PHONE, "EC01" if i % 2 else "SI02", "en_cours")
    phone.handlers.add_request("+22899000000", "EC03", "recue")  # someone else's
    newest = phone.handlers.requests[11].reference
    phone.dial()
    first = phone.send("2", "1")
    assert first.text.startswith("Vos demandes:\n1 " + f"{newest[:3]} {newest[3:6]} {newest[6:]}")
    assert "98 Suite" in first.text
    second = phone.send("98")
    assert second.text.split("\n")[0].split()[0].isdigit()
    assert "0 Retour" in second.text
    back = phone.send("0")
    assert back.text == first.text
    detail = phone.send("1")
    assert "Statut: en_cours" in detail.text and f"{newest[:3]} {newest[3:6]} {newest[6:]}" in detail.text
    assert phone.handlers.calls[-1][1] == "lookup_reference"
    assert phone.handlers.calls[-1][2].answers["reference"] == newest


def test_no_request_offers_to_type_a_reference() -> None:
    phone = Phone()
    phone.dial()
    step = phone.send("2", "1")
    assert step.text.startswith("Aucune demande pour ce numéro.")
    assert phone.send("1").text.startswith("Entrez la référence")


def test_a_reference_typed_with_spaces_is_found() -> None:
    phone = Phone()
    reference = phone.handlers.add_request(PHONE, "AT01", "disponible")
    phone.dial()
    step = phone.send("2", "2", f"{reference[:3]} {reference[3:6]} {reference[6:]}")
    assert "Statut: disponible" in step.text


def test_a_typo_in_the_reference_is_caught_by_the_check_digit_and_re_asked() -> None:
    phone = Phone()
    reference = phone.handlers.add_request(PHONE, "AT01", "disponible")
    typo = reference[:4] + str((int(reference[4]) + 1) % 10) + reference[5:]
    phone.dial()
    step = phone.send("2", "2", typo)
    assert step.text.startswith("Référence invalide.\nEntrez la référence")
    assert not step.end and phone.screen == "suivi_reference"
    assert not any(c[1] == "lookup_reference" for c in phone.handlers.calls)
    assert "Statut: disponible" in phone.send(reference).text


def test_another_persons_reference_shows_only_the_status_word() -> None:
    phone = Phone()
    reference = phone.handlers.add_request("+22899000000", "EC03", "rejetee")
    phone.dial()
    end = phone.send("2", "2", reference)
    assert end.end
    assert end.text == f"Réf {reference[:3]} {reference[3:6]} {reference[6:]}: rejetee."


def test_an_unknown_reference_says_not_found_and_offers_to_retry() -> None:
    from ussd_gateway.references import damm_check_digit

    phone = Phone()
    phone.dial()
    step = phone.send("2", "2", "12345678" + damm_check_digit("12345678"))
    assert step.text.startswith("Référence introuvable") and not step.end
    assert phone.send("1").text.startswith("Entrez la référence")


# -- info and fees ---------------------------------------------------------------------------

@pytest.mark.parametrize("language", LANGUAGES)
def test_info_and_fees_come_from_the_handler_and_lead_to_the_request(language: str) -> None:
    phone = Phone(language=language)
    phone.dial()
    info = phone.send("4", "2", "3")  # attestations -> AT01
    assert "5000 FCFA" in info.text and "3" in info.text
    assert SERVICES["AT01"]["names"][language] in info.text
    first_question = phone.send("1")
    assert phone.screen == "AT01.quartier"
    assert "Tokoin-Elavagnon" in first_question.text
