"""The Africa's Talking USSD protocol: inputs from accumulated text, idempotent hops,
ended sessions, dial-string shortcuts, interrupted journeys, failures answered cleanly."""
from __future__ import annotations

import threading
import time

from sqlalchemy import func, select

from tests.conftest import make_test_settings
from tests.ussd.phone import Phone
from ussd_gateway.app import create_app
from ussd_gateway.models import OutboundSms, Resident, ServiceRequest
from ussd_gateway.runtime import build_runtime

EC03_TO_CONFIRM = ["1", "1", "3", "Ama Akakpo", "01012010", "2"]


def requests_count(runtime) -> int:  # type: ignore[no-untyped-def]
    with runtime.sessions() as session:
        return session.scalar(select(func.count(ServiceRequest.id))) or 0


def test_new_phone_is_asked_its_language_then_consent_then_sees_the_main_menu(client, callback_prefix, runtime):  # type: ignore[no-untyped-def]
    phone = Phone(client, callback_prefix)
    first = phone.dial()
    assert first.is_con and "Langue / Language" in first.text
    consent = phone.press("2")  # English
    assert "2019-014" in consent.text and "agree" in consent.text
    main = phone.press("1")
    assert main.text.startswith("Golfe 3 Town Hall") and "1 Make a request" in main.text
    with runtime.sessions() as session:
        resident = session.scalars(select(Resident)).one()
        assert resident.language == "en" and resident.language_chosen
        assert resident.consent_version == "2026-11-v1" and resident.consent_at is not None


def test_language_and_consent_are_remembered_for_the_next_dial(client, callback_prefix, runtime):  # type: ignore[no-untyped-def]
    phone = Phone(client, callback_prefix)
    phone.onboard("3")  # Ewe
    runtime.redis.flushdb()  # the cache is gone: the database remembers
    again = phone.dial()
    assert again.is_con and "Bia nane" in again.text


def test_refusing_consent_ends_without_storing_anything(client, callback_prefix, runtime):  # type: ignore[no-untyped-def]
    phone = Phone(client, callback_prefix)
    phone.dial()
    phone.press("1")
    refused = phone.press("2")
    assert refused.is_end and "guichet" in refused.text
    with runtime.sessions() as session:
        resident = session.scalars(select(Resident)).one_or_none()
        assert resident is None or resident.consent_version is None


def test_same_hop_posted_twice_gets_identical_reply_and_creates_one_request(client, callback_prefix, runtime):  # type: ignore[no-untyped-def]
    phone = Phone(client, callback_prefix)
    phone.onboard()
    phone.play(*EC03_TO_CONFIRM)
    first = phone.press("1")
    again = phone.post("*".join(phone.answers))
    assert first.is_end and again.body == first.body
    assert requests_count(runtime) == 1


def test_same_hop_posted_at_the_same_moment_creates_one_request(app, callback_prefix, runtime):  # type: ignore[no-untyped-def]
    phone = Phone(app.test_client(), callback_prefix)
    phone.onboard()
    phone.play(*EC03_TO_CONFIRM)
    text = "*".join(phone.answers + ["1"])
    bodies: list[str] = []
    barrier = threading.Barrier(4)

    def post() -> None:
        own = Phone(app.test_client(), callback_prefix, session_id=phone.session_id)
        barrier.wait()
        bodies.append(own.post(text).body)

    threads = [threading.Thread(target=post) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(bodies)) == 1 and bodies[0].startswith("END "), bodies
    assert requests_count(runtime) == 1
    with runtime.sessions() as session:
        assert session.scalar(select(func.count(OutboundSms.id))) == 1


def test_star_typed_inside_a_name_is_kept(client, callback_prefix, runtime):  # type: ignore[no-untyped-def]
    phone = Phone(client, callback_prefix)
    phone.onboard()
    phone.play("1", "1", "3", "Ama*Akakpo", "01012010", "2", "1")
    with runtime.sessions() as session:
        request = session.scalars(select(ServiceRequest)).one()
        assert request.answers[0]["value"] == "Ama*Akakpo"


def test_text_that_does_not_extend_the_previous_hop_ends_cleanly_and_changes_nothing(client, callback_prefix, runtime):  # type: ignore[no-untyped-def]
    phone = Phone(client, callback_prefix)
    phone.onboard()
    phone.play("1", "1")
    odd = phone.post("9*9*9")
    assert odd.status == 200 and odd.is_end
    # the session is where it was: the real next hop still works
    resumed = phone.post("*".join(phone.answers + ["3"]))
    assert resumed.is_con and "époux" in resumed.text


def test_hop_on_an_ended_session_ends_cleanly(client, callback_prefix, runtime):  # type: ignore[no-untyped-def]
    phone = Phone(client, callback_prefix)
    phone.onboard()
    phone.play(*EC03_TO_CONFIRM)
    assert phone.press("1").is_end
    late = phone.press("1")
    assert late.status == 200 and late.is_end
    assert requests_count(runtime) == 1


def test_dial_string_shortcut_is_replayed_as_inputs(client, callback_prefix, runtime):  # type: ignore[no-untyped-def]
    phone = Phone(client, callback_prefix)
    phone.onboard()
    screen = phone.dial("2*1")  # *384*2*2*1#: Suivre mes demandes > Mes demandes
    assert screen.is_con and ("Aucune demande" in screen.text or "Vos demandes" in screen.text)


def test_interrupted_request_is_offered_on_the_next_dial_and_continues(client, callback_prefix, runtime):  # type: ignore[no-untyped-def]
    phone = Phone(client, callback_prefix)
    phone.onboard()
    phone.play("1", "1", "3", "Ama Akakpo")  # the network drops here
    offer = phone.dial()
    assert offer.is_con and "reprendre" in offer.text.lower()
    back = phone.press("1")
    assert back.is_con and "JJMMAAAA" in back.text  # the date of the marriage, where it stopped
    phone.play("01012010", "2")
    assert phone.press("1").is_end
    assert requests_count(runtime) == 1
    # used: not offered again
    assert "reprendre" not in phone.dial().text.lower()


def test_declined_draft_is_forgotten(client, callback_prefix, runtime):  # type: ignore[no-untyped-def]
    phone = Phone(client, callback_prefix)
    phone.onboard()
    phone.play("1", "1", "3", "Ama Akakpo")
    phone.dial()
    main = phone.press("2")
    assert "Faire une demande" in main.text
    assert "reprendre" not in phone.dial().text.lower()


def _phone_on(app, callback_prefix):  # type: ignore[no-untyped-def]
    return Phone(app.test_client(), callback_prefix)


def test_redis_down_gets_a_clean_apology_quickly(migrated_database, callback_prefix, tmp_path):  # type: ignore[no-untyped-def]
    settings = make_test_settings(migrated_database, "redis://127.0.0.1:9/0", tmp_path)
    phone = _phone_on(create_app(runtime=build_runtime(settings)), callback_prefix)
    started = time.monotonic()
    screen = phone.dial()
    assert time.monotonic() - started < 2.0
    assert screen.status == 200 and screen.is_end
    assert "indisponible" in screen.text and "Veuillez nous excuser" in screen.text


def test_database_down_gets_a_clean_apology_quickly(redis_url, callback_prefix, tmp_path):  # type: ignore[no-untyped-def]
    settings = make_test_settings("postgresql://postgres@127.0.0.1:9/none", redis_url, tmp_path)
    phone = _phone_on(create_app(runtime=build_runtime(settings)), callback_prefix)
    started = time.monotonic()
    screen = phone.dial()
    assert time.monotonic() - started < 2.0
    assert screen.status == 200 and screen.is_end and "Traceback" not in screen.body
