"""Follow my requests (own list, another person's reference, typos, rate limit) and
"Infos et tarifs" read live from the catalogue."""
from __future__ import annotations

from sqlalchemy import select

from tests.ussd.phone import Phone
from ussd_gateway.db import transaction
from ussd_gateway.models import Service, ServiceRequest
from ussd_gateway.references import damm_check_digit

EC03 = ["1", "1", "3", "Ama Akakpo", "01012010", "2", "1"]


def make_request(client, callback_prefix, number: str) -> str:  # type: ignore[no-untyped-def]
    phone = Phone(client, callback_prefix, number=number)
    phone.onboard()
    end = phone.play(*EC03)
    assert end.is_end
    return end.text.split("Réf: ")[1].split("\n")[0]


def test_my_requests_lists_own_requests_newest_first_with_status_words(client, callback_prefix):  # type: ignore[no-untyped-def]
    first = make_request(client, callback_prefix, "+22890000011")
    second = make_request(client, callback_prefix, "+22890000011")
    make_request(client, callback_prefix, "+22890000022")  # someone else's
    phone = Phone(client, callback_prefix, number="+22890000011")
    listing = phone.dial("2*1")
    lines = listing.text.splitlines()
    assert lines[1].startswith(f"1 {second}") and lines[2].startswith(f"2 {first}")
    assert "enregistrée" in lines[1]
    assert [line[:1] for line in lines[1:]] == ["1", "2", "0"]  # two requests, then Retour
    detail = phone.press("1")
    assert f"Réf {second}" in detail.text and "Statut: enregistrée" in detail.text
    assert "Copie d'acte de mariage" in detail.text


def test_someone_elses_reference_shows_only_the_status_word(client, callback_prefix):  # type: ignore[no-untyped-def]
    reference = make_request(client, callback_prefix, "+22890000011")
    stranger = Phone(client, callback_prefix, number="+22890000099")
    stranger.onboard()
    screen = stranger.play("2", "2", reference.replace(" ", ""))
    assert screen.is_end
    assert screen.text == f"Réf {reference}: enregistrée."


def test_reference_typed_with_spaces_finds_own_request(client, callback_prefix):  # type: ignore[no-untyped-def]
    reference = make_request(client, callback_prefix, "+22890000011")
    phone = Phone(client, callback_prefix, number="+22890000011")
    phone.dial()
    screen = phone.play("2", "2", reference)
    assert "Copie d'acte de mariage" in screen.text and "Statut: enregistrée" in screen.text


def test_reference_with_a_typo_is_caught_by_the_check_digit(client, callback_prefix):  # type: ignore[no-untyped-def]
    reference = make_request(client, callback_prefix, "+22890000011").replace(" ", "")
    typo = reference[:3] + reference[4] + reference[3] + reference[5:]  # adjacent swap
    if typo == reference:  # equal neighbours: change a digit instead
        typo = reference[:3] + str((int(reference[3]) + 1) % 10) + reference[4:]
    phone = Phone(client, callback_prefix, number="+22890000011")
    phone.dial()
    screen = phone.play("2", "2", typo)
    assert screen.is_con and "Référence invalide" in screen.text


def test_unknown_and_rate_limited_lookups_answer_alike(client, callback_prefix, settings):  # type: ignore[no-untyped-def]
    reference = make_request(client, callback_prefix, "+22890000011").replace(" ", "")
    prober = Phone(client, callback_prefix, number="+22890000077")
    prober.onboard()
    unknown_body = "12345678"
    unknown = unknown_body + damm_check_digit(unknown_body)
    answers = []
    for _ in range(settings.ussd.reference_lookups_per_hour):
        prober.dial()
        answers.append(prober.play("2", "2", unknown).text)
    assert all("introuvable" in a for a in answers)
    prober.dial()
    limited = prober.play("2", "2", reference)  # a real reference, but over the limit
    assert limited.text == answers[0]


def test_infos_show_the_catalogue_as_staff_left_it(client, callback_prefix, runtime):  # type: ignore[no-untyped-def]
    phone = Phone(client, callback_prefix)
    phone.onboard()
    before = phone.play("4", "2", "3")  # Infos > Certificats > Certificat de résidence
    assert "5 000 FCFA" in before.text and "3 jours" in before.text
    with transaction(runtime.sessions) as session:
        service = session.get(Service, "AT01")
        service.fee_fcfa = 2500
        service.delay_days = 2
    phone.dial()
    after = phone.play("4", "2", "3")
    assert "2 500 FCFA" in after.text and "2 jours" in after.text


def test_inactive_service_is_not_offered(client, callback_prefix, runtime):  # type: ignore[no-untyped-def]
    with transaction(runtime.sessions) as session:
        session.get(Service, "EC01").active = False
    phone = Phone(client, callback_prefix)
    phone.onboard()
    screen = phone.play("1", "1")
    assert "Copie d'acte de naissance" not in screen.text
    assert screen.text.splitlines()[1].startswith("1 Déclaration de naissance")
    with runtime.sessions() as session:
        assert session.scalars(select(ServiceRequest)).all() == []
