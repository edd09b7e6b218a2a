"""The staff pages in headless Chromium: a request made over USSD is found, answered, its SMS
leaves through the fake Africa's Talking server and its delivery shows; plus the security
properties a browser sees (404 across services, CSRF, revoked cookies). Saves screenshots of
the list, detail and dashboard pages to docs/screenshots/."""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest
import requests
from sqlalchemy import select, update

from sms.encoding import sms_info
from sms.templates import prepare_free_text
from tests.browser.conftest import PHONE, SCREENSHOTS
from tests.conftest import CALLBACK_TOKEN
from tests.fake_africastalking import FakeAfricasTalking, delivery_report_form
from tests.ussd.phone import Phone
from tests.workers.helpers import drain
from ussd_gateway.db import transaction
from ussd_gateway.models import OutboundSms, ServiceRequest
from ussd_gateway.references import format_reference
from ussd_gateway.runtime import Runtime
from ussd_gateway.service_requests import NewRequest, change_status, create_request, today_in_commune
from ussd_gateway.staff_accounts import create_staff

pytestmark = pytest.mark.browser

PASSWORD = "mot de passe solide 2026"


def _staff(runtime: Runtime, email: str, role: str, services: list[str], name: str) -> None:
    with transaction(runtime.sessions) as session:
        create_staff(session, email, PASSWORD, role, full_name=name, services=services)


def _sign_in(page: Any, base: str, email: str) -> None:
    page.goto(f"{base}/staff/connexion")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/staff/demandes.*"))


def _request_over_ussd(app: Any, number: str) -> str:
    """Play a whole EC01 journey on the USSD endpoint; return the reference it ends with."""
    phone = Phone(app.test_client(), f"/africastalking/{CALLBACK_TOKEN}", number=number)
    phone.onboard("1")
    birth = (today_in_commune() - dt.timedelta(days=9000)).strftime("%d%m%Y")
    for key in ["1", "1", "1", "1", "2", "Kossi Mensah", birth]:
        phone.press(key)
    final = phone.press("1")
    assert final.is_end, final.body
    found = re.search(r"(\d{3} \d{3} \d{3})", final.text)
    assert found, final.body
    return found.group(1).replace(" ", "")


SHOWCASE = [
    # (service, quartier, days ago, status path, phone)
    ("EC01", "kelegouvi", 0, [], "+22890447812"),
    ("SI01", "massouhoin", 0, [], "+22899120455"),
    ("AT01", "tokoin_elavagnon", 1, ["en_instruction"], "+22870332190"),
    ("EC02", "doumassesse", 2, ["en_cours"], "+22896014477"),
    ("SI02", "ahanoukope_est", 3, [], "+22891550368"),
    ("AU01", "tokoin_gbonvie", 4, ["en_cours", "disponible"], "+22879883021"),
    ("EC01", "tokoin_kleve", 6, ["a_completer"], "+22893217740"),
    ("FI01", "kelegouvi", 8, [], "+22897660135"),
    ("EC03", "massouhoin", 9, ["en_instruction", "en_cours", "disponible", "delivree"], "+22890881236"),
    ("SI03", "doumassesse", 12, ["resolue"], "+22892004518"),
    ("EC01", "tokoin_elavagnon", 15, ["en_cours", "disponible", "delivree"], "+22890115587"),
    ("AT02", "ahanoukope_est", 20, ["rejetee"], "+22898771203"),
]


def _seed_showcase(app: Any, runtime: Runtime) -> None:
    """A dozen requests of various services, ages and statuses (for realistic pages)."""
    composer = app.extensions["staff_sms_composer"]
    now = dt.datetime.now(dt.timezone.utc)
    for code, quartier, days_ago, path, number in SHOWCASE:
        with transaction(runtime.sessions) as session:
            created = create_request(
                session, composer,
                NewRequest(service_code=code, phone=number, quartier=quartier,
                           answers=[{"field": "quartier", "label": "Quartier", "value": quartier,
                                     "display": quartier}]),
            )
            request = created.request
            when = now - dt.timedelta(days=days_ago, hours=2 + days_ago % 5)
            session.execute(
                update(ServiceRequest).where(ServiceRequest.id == request.id).values(
                    created_at=when,
                    expected_date=(when + dt.timedelta(days=request.service.delay_days)).date(),
                )
            )
            for status in path:
                version = session.scalar(select(ServiceRequest.version).where(ServiceRequest.id == request.id))
                change_status(session, composer, request_id=request.id, expected_version=version,
                              to_status=status, actor_id=None, notify=False)
    with transaction(runtime.sessions) as session:
        session.execute(update(OutboundSms).values(status="sent", sent_at=now))


def _outbox_row(runtime: Runtime, request_reference: str, event: str) -> OutboundSms | None:
    with runtime.sessions() as session:
        row = session.scalar(
            select(OutboundSms).join(ServiceRequest, ServiceRequest.id == OutboundSms.request_id)
            .where(ServiceRequest.reference == request_reference, OutboundSms.event == event)
        )
        if row is not None:
            session.expunge(row)
        return row


def test_agent_finds_a_ussd_request_answers_it_and_sees_the_sms_delivered(
    app: Any, runtime: Runtime, live_server: Any, browser_context: Callable[..., Any],
    fake_at: FakeAfricasTalking,
) -> None:
    base = live_server.url
    _seed_showcase(app, runtime)
    reference = _request_over_ussd(app, "+22891234567")
    _staff(runtime, "afi.agbeko@mairie-golfe3.tg", "agent", ["EC01", "EC02", "EC03"], "Afi Agbeko")
    _staff(runtime, "kodjo.amah@mairie-golfe3.tg", "supervisor", [], "Kodjo Amah")

    page = browser_context().new_page()
    _sign_in(page, base, "afi.agbeko@mairie-golfe3.tg")

    # find it by its reference typed with spaces
    page.fill("#q", format_reference(reference))
    page.click("form.filters button[type=submit]")
    link = page.locator("td.ref a")
    assert link.count() == 1 and link.inner_text() == format_reference(reference)
    assert "•" in page.locator("td.phone").first.inner_text()  # agents see masked numbers
    link.click()
    page.wait_for_url(re.compile(r".*/staff/demandes/\d+$"))
    assert "Kossi Mensah" in page.inner_text(".answers")

    # change status with a note: the live counter follows what is typed, folded to GSM-7
    page.select_option("#to_status", "a_completer")
    note = "Apportez l’acte original, même abîmé"
    page.fill("#public_note", note)
    preview = page.inner_text("#sms-preview")
    assert "Apportez l'acte original, meme abimé." in preview
    expected = sms_info(preview)
    assert page.inner_text("#sms-count") == f"{expected.units} caractères · {expected.segments} SMS"
    page.fill("#internal_note", "Copie abîmée vue au guichet")
    page.click("#status-form button[type=submit]")
    page.wait_for_selector(".flash-ok")
    assert "Statut changé : À compléter" in page.inner_text(".flash-ok")

    # the SMS leaves through the worker to the (fake) provider
    drain(runtime, lambda: (row := _outbox_row(runtime, reference, "a_completer")) is not None
          and row.status == "sent")
    sent = [r for r in fake_at.accepted if "Apportez l'acte original" in r.message]
    assert len(sent) == 1 and sent[0].numbers == ("+22891234567",)
    assert sent[0].message == preview  # the page showed exactly what the resident gets

    # the provider's delivery report shows on the page
    answer = requests.post(
        f"{base}/africastalking/{CALLBACK_TOKEN}/sms/delivery",
        data=delivery_report_form(sent[0].message_id, "Success", phone_number="+22891234567"),
        timeout=5,
    )
    assert answer.status_code == 200
    page.reload()
    row = page.locator("table.sms tr", has_text="Apportez l'acte original")
    assert "Remis au téléphone" in row.inner_text()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "detail.png"), full_page=True)

    # the supervisor's views
    boss = browser_context().new_page()
    _sign_in(boss, base, "kodjo.amah@mairie-golfe3.tg")
    assert boss.locator("td.ref a").count() == len(SHOWCASE) + 1
    boss.screenshot(path=str(SCREENSHOTS / "list.png"), full_page=True)
    boss.goto(f"{base}/staff/tableau-de-bord")
    assert "demandes au total" in boss.inner_text(".kpis")
    boss.screenshot(path=str(SCREENSHOTS / "dashboard.png"), full_page=True)
    small = browser_context(viewport=PHONE).new_page()
    _sign_in(small, base, "afi.agbeko@mairie-golfe3.tg")
    small.screenshot(path=str(SCREENSHOTS / "list-phone.png"), full_page=False)


def test_agent_cannot_open_a_request_of_another_service(
    app: Any, runtime: Runtime, live_server: Any, browser_context: Callable[..., Any]
) -> None:
    composer = app.extensions["staff_sms_composer"]
    with transaction(runtime.sessions) as session:
        other = create_request(session, composer, NewRequest(service_code="SI01", phone="+22890000011"))
        other_id, other_ref = other.request.id, other.request.reference
    _staff(runtime, "agent.ec@mairie-golfe3.tg", "agent", ["EC01"], "Agent EC")
    page = browser_context().new_page()
    _sign_in(page, live_server.url, "agent.ec@mairie-golfe3.tg")
    response = page.goto(f"{live_server.url}/staff/demandes/{other_id}")
    assert response.status == 404
    assert "Page introuvable" in page.inner_text("h1")
    page.goto(f"{live_server.url}/staff/demandes?q={other_ref}")
    assert page.locator("td.ref a").count() == 0


def test_a_form_posted_without_its_csrf_token_is_refused(
    app: Any, runtime: Runtime, live_server: Any, browser_context: Callable[..., Any]
) -> None:
    composer = app.extensions["staff_sms_composer"]
    with transaction(runtime.sessions) as session:
        created = create_request(session, composer, NewRequest(service_code="EC01", phone="+22890000012"))
        request_id = created.request.id
    _staff(runtime, "agent.csrf@mairie-golfe3.tg", "agent", ["EC01"], "Agent CSRF")
    page = browser_context().new_page()
    _sign_in(page, live_server.url, "agent.csrf@mairie-golfe3.tg")
    page.goto(f"{live_server.url}/staff/demandes/{request_id}")
    page.eval_on_selector("#status-form input[name=csrf_token]", "el => el.remove()")
    page.select_option("#to_status", "en_cours")
    with page.expect_navigation() as navigation:
        page.click("#status-form button[type=submit]")
    assert navigation.value.status == 400
    assert "Formulaire refusé" in page.inner_text("h1")
    with runtime.sessions() as session:
        assert session.get(ServiceRequest, request_id).status == "recue"


def test_a_stolen_cookie_stops_working_after_sign_out(
    runtime: Runtime, live_server: Any, browser_context: Callable[..., Any]
) -> None:
    _staff(runtime, "agent.cookie@mairie-golfe3.tg", "agent", ["EC01"], "Agent Cookie")
    owner_ctx = browser_context()
    owner = owner_ctx.new_page()
    _sign_in(owner, live_server.url, "agent.cookie@mairie-golfe3.tg")
    cookies = owner_ctx.cookies()
    session_cookie = next(c for c in cookies if c["name"] == "g3_staff")
    assert session_cookie["httpOnly"] and session_cookie["sameSite"] == "Lax"

    thief_ctx = browser_context()
    thief_ctx.add_cookies(cookies)
    thief = thief_ctx.new_page()
    thief.goto(f"{live_server.url}/staff/demandes")
    assert thief.url.endswith("/staff/demandes")

    owner.click("text=Se déconnecter")
    owner.wait_for_url(re.compile(r".*/staff/connexion$"))
    thief.goto(f"{live_server.url}/staff/demandes")
    assert "/staff/connexion" in thief.url
    assert thief.locator("#password").count() == 1


def test_the_live_counter_counts_like_the_server(
    app: Any, runtime: Runtime, live_server: Any, browser_context: Callable[..., Any]
) -> None:
    composer = app.extensions["staff_sms_composer"]
    with transaction(runtime.sessions) as session:
        created = create_request(session, composer, NewRequest(service_code="EC01", phone="+22890000013"))
        request_id = created.request.id
    _staff(runtime, "agent.js@mairie-golfe3.tg", "agent", ["EC01"], "Agent JS")
    page = browser_context().new_page()
    _sign_in(page, live_server.url, "agent.js@mairie-golfe3.tg")
    page.goto(f"{live_server.url}/staff/demandes/{request_id}")
    texts = [
        "", "Bonjour", "é" * 161, "x" * 160, "x" * 161, "{[]}" * 40, "€" * 80, "ê" * 70, "ê" * 71,
        "Ɖeka 😀 " * 20, "a" * 152 + "€",
    ]
    for text in texts:
        js = page.evaluate("t => window.G3Sms.smsInfo(t)", text)
        info = sms_info(text)
        assert (js["encoding"], js["units"], js["segments"]) == (info.encoding, info.units, info.segments), text
    notes = ["  Dossier   incomplet ", "Pièce d’identité à fournir – vite", "«Œuvre» ça", "Ɖeka ɔ ɛ",
             "x" * 80, "Fin;", "Déjà fait!"]
    for note in notes:
        assert page.evaluate("t => window.G3Sms.prepareFreeText(t, true)", note) == prepare_free_text(note), note
