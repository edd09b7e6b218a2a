"""Sign-in, throttling, revocable sessions, CSRF and security headers of the staff view."""
from __future__ import annotations

from sqlalchemy import select

from tests.staff.conftest import PASSWORD, Account, csrf_token, post_form, sign_in
from ussd_gateway.db import transaction
from ussd_gateway.models import StaffUser


def _attempt(client, email: str, password: str):  # type: ignore[no-untyped-def]
    page = client.get("/staff/connexion").get_data(as_text=True)
    return client.post(
        "/staff/connexion",
        data={"email": email, "password": password, "csrf_token": csrf_token(page)},
    )


def test_signed_out_visitor_is_sent_to_sign_in(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/staff/demandes")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/staff/connexion")


def test_correct_password_opens_the_requests_list(app, make_staff) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    sign_in(client, make_staff("agent", ["EC01"]))
    assert client.get("/staff/demandes").status_code == 200


def test_unknown_account_and_wrong_password_get_the_same_answer(app, make_staff) -> None:  # type: ignore[no-untyped-def]
    account = make_staff("agent", ["EC01"])
    wrong = _attempt(app.test_client(), account.email, "not the password")
    unknown = _attempt(app.test_client(), "nobody@mairie.test", "not the password")
    assert wrong.status_code == unknown.status_code == 200
    assert "Adresse e-mail ou mot de passe incorrect." in wrong.get_data(as_text=True)
    assert "Adresse e-mail ou mot de passe incorrect." in unknown.get_data(as_text=True)


def test_disabled_account_cannot_sign_in(app, runtime, make_staff) -> None:  # type: ignore[no-untyped-def]
    account = make_staff("agent", ["EC01"])
    with transaction(runtime.sessions) as session:
        session.get(StaffUser, account.id).active = False
    response = _attempt(app.test_client(), account.email, PASSWORD)
    assert response.status_code == 200
    assert "Adresse e-mail ou mot de passe incorrect." in response.get_data(as_text=True)


def test_sign_in_is_throttled_per_account_even_with_the_right_password(app, runtime, make_staff) -> None:  # type: ignore[no-untyped-def]
    account = make_staff("agent", ["EC01"])
    limit = runtime.settings.staff.login_attempts_per_15min
    for _ in range(limit):
        assert _attempt(app.test_client(), account.email, "wrong password!").status_code == 200
    refused = _attempt(app.test_client(), account.email, PASSWORD)
    assert refused.status_code == 429
    assert "Trop de tentatives" in refused.get_data(as_text=True)
    # an address without an account is throttled the same way (nothing tells them apart)
    for _ in range(limit):
        _attempt(app.test_client(), "ghost@mairie.test", "wrong password!")
    assert _attempt(app.test_client(), "ghost@mairie.test", "x").status_code == 429


def test_sign_in_is_throttled_per_client_address(app, runtime, make_staff) -> None:  # type: ignore[no-untyped-def]
    account = make_staff("agent", ["EC01"])
    per_ip = runtime.settings.staff.login_attempts_per_15min * 4
    for i in range(per_ip):
        _attempt(app.test_client(), f"someone{i}@mairie.test", "wrong password!")
    assert _attempt(app.test_client(), account.email, PASSWORD).status_code == 429


def test_a_copied_cookie_stops_working_after_sign_out(app, make_staff) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    sign_in(client, make_staff("agent", ["EC01"]))
    stolen = client.get_cookie("g3_staff").value
    thief = app.test_client()
    thief.set_cookie("g3_staff", stolen)
    assert thief.get("/staff/demandes").status_code == 200
    post_form(client, "/staff/demandes", "/staff/deconnexion", {})
    response = thief.get("/staff/demandes")
    assert response.status_code == 302 and "/staff/connexion" in response.headers["Location"]


def test_password_reset_and_disable_end_existing_sessions(app, make_staff) -> None:  # type: ignore[no-untyped-def]
    admin = app.test_client()
    sign_in(admin, make_staff("admin"))
    for action in ("mot-de-passe", "desactiver"):
        victim = make_staff("agent", ["EC01"])
        agent = app.test_client()
        sign_in(agent, victim)
        assert agent.get("/staff/demandes").status_code == 200
        response = post_form(admin, "/staff/comptes", f"/staff/comptes/{victim.id}/{action}", {})
        assert response.status_code in (200, 302)
        assert agent.get("/staff/demandes").status_code == 302


def test_form_posted_without_csrf_token_is_refused(app, make_request, make_staff, runtime) -> None:  # type: ignore[no-untyped-def]
    request_id, _ = make_request("EC01")
    client = app.test_client()
    sign_in(client, make_staff("agent", ["EC01"]))
    response = client.post(
        f"/staff/demandes/{request_id}/statut",
        data={"to_status": "en_cours", "version": "1", "public_note": ""},
    )
    assert response.status_code == 400
    assert "Formulaire refusé" in response.get_data(as_text=True)


def test_sign_in_form_needs_its_csrf_token(app, make_staff) -> None:  # type: ignore[no-untyped-def]
    account = make_staff("agent", ["EC01"])
    response = app.test_client().post(
        "/staff/connexion", data={"email": account.email, "password": PASSWORD}
    )
    assert response.status_code == 400


def test_pages_send_security_headers_and_a_strict_cookie(app, make_staff) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    page = client.get("/staff/connexion")
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Referrer-Policy"] == "same-origin"
    assert page.headers["Cache-Control"] == "no-store"
    cookie = page.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    secure = app.test_client().get("/staff/connexion", base_url="https://localhost")
    assert "Secure" in secure.headers["Set-Cookie"]


def test_sign_in_never_redirects_to_another_site(app, make_staff) -> None:  # type: ignore[no-untyped-def]
    account = make_staff("agent", ["EC01"])
    client = app.test_client()
    page = client.get("/staff/connexion").get_data(as_text=True)
    response = client.post(
        "/staff/connexion?next=//evil.example/staff/",
        data={"email": account.email, "password": PASSWORD, "csrf_token": csrf_token(page)},
    )
    assert response.headers["Location"] == "/staff/"


def test_sign_in_records_last_login(app, runtime, make_staff) -> None:  # type: ignore[no-untyped-def]
    account: Account = make_staff("supervisor")
    sign_in(app.test_client(), account)
    with runtime.sessions() as session:
        assert session.scalar(select(StaffUser.last_login_at).where(StaffUser.id == account.id))


def test_failed_sign_in_counters_expire_after_the_window(app, runtime, make_staff) -> None:  # type: ignore[no-untyped-def]
    from ussd_gateway.staff.auth import THROTTLE_WINDOW_SECONDS, LoginThrottle

    _attempt(app.test_client(), "someone@mairie.test", "wrong password!")
    for key in (LoginThrottle.account_key("someone@mairie.test"), LoginThrottle.ip_key("127.0.0.1")):
        assert runtime.redis.get(key) == b"1"
        assert 0 < runtime.redis.ttl(key) <= THROTTLE_WINDOW_SECONDS
