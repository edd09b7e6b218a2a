"""Admin pages: the catalogue (read by the USSD at once) and staff accounts, all audited."""
from __future__ import annotations

import re

from sqlalchemy import select

from tests.staff.conftest import Account, csrf_token, post_form, sign_in
from ussd_gateway.models import AuditEvent, Service, StaffService, StaffUser


def test_catalogue_edit_changes_the_service_and_is_audited(signed_in, runtime) -> None:  # type: ignore[no-untyped-def]
    admin = signed_in("admin", ())
    response = post_form(admin, "/staff/catalogue/EC01", "/staff/catalogue/EC01", {
        "fee_fcfa": "750", "fee_note": "par copie", "delay_days": "5",
        "documents": "Pièce d'identité", "active": "y"})
    assert response.status_code == 302
    with runtime.sessions() as session:
        service = session.get(Service, "EC01")
        assert (service.fee_fcfa, service.delay_days, service.active) == (750, 5, True)
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "service.update"))
        assert event.target_id == "EC01" and event.actor_id == admin.account.id
        assert event.details["changes"]["fee_fcfa"] == [500, 750]
    # unchecking "active" withdraws the service from the USSD
    post_form(admin, "/staff/catalogue/EC01", "/staff/catalogue/EC01", {
        "fee_fcfa": "750", "fee_note": "par copie", "delay_days": "5", "documents": "Pièce d'identité"})
    with runtime.sessions() as session:
        assert session.get(Service, "EC01").active is False
    assert "Inactif" in admin.get("/staff/catalogue").get_data(as_text=True)


def test_catalogue_refuses_a_negative_delay(signed_in, runtime) -> None:  # type: ignore[no-untyped-def]
    admin = signed_in("admin", ())
    response = post_form(admin, "/staff/catalogue/EC01", "/staff/catalogue/EC01", {"delay_days": "-2", "active": "y"})
    assert response.status_code == 200 and "field-error" in response.get_data(as_text=True)
    with runtime.sessions() as session:
        assert session.get(Service, "EC01").delay_days == 3


def test_admin_creates_an_agent_who_can_then_sign_in(app, signed_in, runtime) -> None:  # type: ignore[no-untyped-def]
    admin = signed_in("admin", ())
    page = admin.get("/staff/comptes/nouveau").get_data(as_text=True)
    response = admin.post("/staff/comptes/nouveau", data={
        "email": "Yawa.Dogbe@mairie.test", "full_name": "Yawa Dogbé", "role": "agent",
        "services": ["EC01", "EC02"], "password": "", "csrf_token": csrf_token(page)})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "Compte créé" in body
    password = re.search(r'id="new-password">([^<]+)<', body).group(1)
    with runtime.sessions() as session:
        user = session.scalar(select(StaffUser).where(StaffUser.email == "yawa.dogbe@mairie.test"))
        assert user.role == "agent" and user.password_hash.startswith("$argon2id$")
        assert sorted(session.scalars(select(StaffService.service_code).where(StaffService.staff_id == user.id))) == ["EC01", "EC02"]
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "staff.create", AuditEvent.target_id == str(user.id)))
        assert event.actor_id == admin.account.id
    fresh = app.test_client()
    sign_in(fresh, Account(user.id, "yawa.dogbe@mairie.test", password))


def test_admin_changes_role_and_services_with_an_audit_row(signed_in, make_staff, runtime) -> None:  # type: ignore[no-untyped-def]
    admin = signed_in("admin", ())
    agent = make_staff("agent", ["EC01"])
    response = post_form(admin, f"/staff/comptes/{agent.id}", f"/staff/comptes/{agent.id}", {
        "full_name": "Kodjo Amah", "role": "supervisor", "services": []})
    assert response.status_code == 302
    with runtime.sessions() as session:
        user = session.get(StaffUser, agent.id)
        assert (user.role, user.full_name) == ("supervisor", "Kodjo Amah")
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "staff.update"))
        assert event.details["changes"]["role"] == ["agent", "supervisor"]
        assert event.details["changes"]["services"] == [["EC01"], []]


def test_admin_cannot_demote_or_disable_themselves(signed_in, runtime) -> None:  # type: ignore[no-untyped-def]
    admin = signed_in("admin", ())
    me = admin.account.id
    refused = post_form(admin, f"/staff/comptes/{me}", f"/staff/comptes/{me}", {"full_name": "Moi", "role": "agent"})
    assert refused.status_code == 400
    post_form(admin, "/staff/comptes", f"/staff/comptes/{me}/desactiver", {})
    with runtime.sessions() as session:
        user = session.get(StaffUser, me)
        assert user.role == "admin" and user.active


def test_disable_and_reset_password_are_audited(signed_in, make_staff, runtime) -> None:  # type: ignore[no-untyped-def]
    admin = signed_in("admin", ())
    agent = make_staff("agent", ["EC01"])
    post_form(admin, "/staff/comptes", f"/staff/comptes/{agent.id}/mot-de-passe", {})
    post_form(admin, "/staff/comptes", f"/staff/comptes/{agent.id}/desactiver", {})
    with runtime.sessions() as session:
        actions = list(session.scalars(select(AuditEvent.action).where(AuditEvent.target_id == str(agent.id)).order_by(AuditEvent.id)))
        assert actions[-2:] == ["staff.reset_password", "staff.disable"]
        assert session.get(StaffUser, agent.id).session_epoch == 2


def test_a_fee_saved_in_the_catalogue_page_shows_at_once_on_the_ussd(signed_in, client, callback_prefix) -> None:  # type: ignore[no-untyped-def]
    from tests.ussd.phone import Phone

    phone = Phone(client, callback_prefix)
    phone.onboard()
    assert "5 000 FCFA" in phone.play("4", "2", "3").text  # Infos > Certificats > Résidence
    admin = signed_in("admin", ())
    post_form(admin, "/staff/catalogue/AT01", "/staff/catalogue/AT01", {
        "fee_fcfa": "3000", "fee_note": "", "delay_days": "4", "documents": "", "active": "y"})
    phone.dial()
    after = phone.play("4", "2", "3")
    assert "3 000 FCFA" in after.text and "4 jours" in after.text
