"""Incoming SMS: deduplicated on the provider's id; STATUT/STATUS, STOP/ARRET, START,
AIDE/HELP; anything else a rate-limited help reply; opt-out callbacks."""
from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.fake_africastalking import FakeAfricasTalking, incoming_sms_form, optout_form
from tests.workers.helpers import all_in, drain, new_request, row, status_news
from ussd_gateway.db import transaction
from ussd_gateway.models import IncomingSms, OutboundSms, Resident
from ussd_gateway.references import format_reference
from ussd_gateway.runtime import Runtime
from workers.jobs import send_outbox_row

OWNER = "+22890123456"
STRANGER = "+22899000111"


def receive(client: FlaskClient, prefix: str, phone: str, text: str, sms_id: str | None = None) -> None:
    answer = client.post(f"{prefix}/sms/incoming", data=incoming_sms_form(phone, text, sms_id=sms_id))
    assert answer.status_code == 200


def replies(runtime: Runtime, phone: str) -> list[OutboundSms]:
    with transaction(runtime.sessions) as session:
        rows = list(session.scalars(
            select(OutboundSms).where(OutboundSms.to_phone == phone,
                                      OutboundSms.request_id.is_(None)).order_by(OutboundSms.id)))
        for r in rows:
            session.expunge(r)
        return rows


def opted_out(runtime: Runtime, phone: str) -> bool:
    with transaction(runtime.sessions) as session:
        return session.scalar(select(Resident.sms_opted_out_at).where(Resident.phone == phone)) is not None


def test_provider_retry_of_an_incoming_sms_gets_exactly_one_reply(
    runtime: Runtime, fake_at: FakeAfricasTalking, client: FlaskClient, callback_prefix: str
) -> None:
    for _ in range(3):  # AT retries until it gets a 200; here it got three
        receive(client, callback_prefix, OWNER, "AIDE", sms_id="at-incoming-1")

    drain(runtime, all_in(runtime, "sent"))
    with transaction(runtime.sessions) as session:
        assert session.scalar(select(func.count()).select_from(IncomingSms)) == 1
    assert [r.event for r in replies(runtime, OWNER)] == ["help"]
    assert len(fake_at.accepted) == 1
    assert fake_at.accepted[0].message.startswith("Mairie Golfe 3: envoyez STATUT et votre ref")


def test_status_to_the_requesters_own_number_gives_the_details(
    runtime: Runtime, client: FlaskClient, callback_prefix: str
) -> None:
    _, reference, _ = new_request(runtime, phone=OWNER, enqueue=False)
    receive(client, callback_prefix, OWNER, f"statut {format_reference(reference)}")

    reply = replies(runtime, OWNER)[-1]
    assert reply.event == "statut_reply"
    assert reply.immediate
    assert reply.body.startswith(
        f"Mairie Golfe 3: demande {format_reference(reference)} (Copie d'acte de naissance): "
        "enregistrée depuis le "
    )


def test_status_from_another_number_gives_only_the_status_word(
    runtime: Runtime, client: FlaskClient, callback_prefix: str
) -> None:
    _, reference, _ = new_request(runtime, phone=OWNER, enqueue=False)
    receive(client, callback_prefix, STRANGER, f"STATUS {reference}")

    reply = replies(runtime, STRANGER)[-1]
    assert reply.event == "statut_word_only"
    assert "Copie d'acte" not in reply.body
    assert reply.language == "en"
    assert reply.body.startswith(f"Mairie Golfe 3: request {format_reference(reference)}: received")


def test_unknown_and_mistyped_references_answer_alike(
    runtime: Runtime, client: FlaskClient, callback_prefix: str
) -> None:
    _, reference, _ = new_request(runtime, phone=OWNER, enqueue=False)
    mistyped = reference[:-2] + reference[-1] + reference[-2]  # adjacent swap: Damm catches it
    if mistyped == reference:  # equal neighbours: a one-digit error instead
        mistyped = reference[:-1] + str((int(reference[-1]) + 1) % 10)
    unknown = "100000007"  # a valid check digit, no such request
    for text in (f"STATUT {mistyped}", f"STATUT {unknown}", "STATUT"):
        receive(client, callback_prefix, STRANGER, text)
    answers = replies(runtime, STRANGER)
    assert [r.event for r in answers] == ["reference_invalid"] * 3
    assert len({r.body for r in answers}) == 1


def test_status_lookups_are_rate_limited_per_number(
    runtime: Runtime, client: FlaskClient, callback_prefix: str
) -> None:
    _, reference, _ = new_request(runtime, phone=OWNER, enqueue=False)
    limit = runtime.settings.ussd.reference_lookups_per_hour
    for _ in range(limit + 1):
        receive(client, callback_prefix, OWNER, f"STATUT {reference}")
    events = [r.event for r in replies(runtime, OWNER)]
    assert events == ["statut_reply"] * limit + ["reference_invalid"]


def test_stop_opts_out_confirms_once_and_stops_status_news(
    runtime: Runtime, fake_at: FakeAfricasTalking, client: FlaskClient, callback_prefix: str
) -> None:
    request_id, _, _ = new_request(runtime, phone=OWNER, enqueue=False)
    receive(client, callback_prefix, OWNER, "Arrêt")
    receive(client, callback_prefix, OWNER, "STOP")  # a second STOP: no second confirmation

    assert opted_out(runtime, OWNER)
    assert [r.event for r in replies(runtime, OWNER)] == ["stop_confirm"]
    drain(runtime, lambda: replies(runtime, OWNER)[0].status == "sent")
    assert [r.message for r in fake_at.accepted] == [
        "Mairie Golfe 3: vous ne recevrez plus nos SMS. Pour les réactiver, envoyez START à ce numéro."
    ]

    news = status_news(runtime, request_id)
    assert send_outbox_row(runtime, news) == "cancelled"
    assert len(fake_at.accepted) == 1


def test_start_opts_back_in_and_confirms(
    runtime: Runtime, client: FlaskClient, callback_prefix: str
) -> None:
    receive(client, callback_prefix, OWNER, "STOP")
    receive(client, callback_prefix, OWNER, "start")
    assert not opted_out(runtime, OWNER)
    assert [r.event for r in replies(runtime, OWNER)] == ["stop_confirm", "start_confirm"]


@pytest.mark.parametrize(("text", "language"), [("aide", "fr"), ("HELP", "en")])
def test_help_answers_in_the_keywords_language(
    runtime: Runtime, client: FlaskClient, callback_prefix: str, text: str, language: str
) -> None:
    receive(client, callback_prefix, OWNER, text)
    (reply,) = replies(runtime, OWNER)
    assert (reply.event, reply.language) == ("help", language)


def test_unknown_text_gets_one_short_help_then_silence_so_robots_cannot_loop(
    runtime: Runtime, client: FlaskClient, callback_prefix: str
) -> None:
    for text in ("Bonjour", "Your message was not understood", "Bonjour"):
        receive(client, callback_prefix, OWNER, text)
    assert [r.event for r in replies(runtime, OWNER)] == ["unknown_command"]
    receive(client, callback_prefix, STRANGER, "Bonjour")  # the limit is per number
    assert [r.event for r in replies(runtime, STRANGER)] == ["unknown_command"]


def test_sms_from_a_short_code_is_stored_without_reply(
    runtime: Runtime, client: FlaskClient, callback_prefix: str
) -> None:
    receive(client, callback_prefix, "20880", "Promo!")
    with transaction(runtime.sessions) as session:
        assert session.scalar(select(func.count()).select_from(IncomingSms)) == 1
        assert session.scalar(select(func.count()).select_from(OutboundSms)) == 0


def test_optout_callback_marks_the_resident_and_stops_status_news(
    runtime: Runtime, fake_at: FakeAfricasTalking, client: FlaskClient, callback_prefix: str
) -> None:
    request_id, _, ids = new_request(runtime, phone=OWNER, enqueue=False)
    answer = client.post(f"{callback_prefix}/sms/optout", data=optout_form(OWNER))
    assert answer.status_code == 200
    assert opted_out(runtime, OWNER)

    assert send_outbox_row(runtime, status_news(runtime, request_id)) == "cancelled"
    assert send_outbox_row(runtime, ids[0]) == "cancelled"  # the confirmation too: not a reply
    assert fake_at.requests == []
    assert row(runtime, ids[0]).failure_reason == "résident désabonné (STOP)"
