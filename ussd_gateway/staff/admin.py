"""Admin pages: the service catalogue (fees, delays, documents, active) and staff accounts.

Every change writes an AuditEvent (actor, time, before/after) in the same transaction. The USSD
reads the catalogue from the database, so a saved change shows in « Infos et tarifs » at once.
A new or reset password is shown once, on the answer page (never stored in the session).
"""
from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from ussd_gateway.models import AuditEvent, Service, StaffService, StaffUser
from ussd_gateway.passwords import generate_password, hash_password
from ussd_gateway.staff import bp
from ussd_gateway.staff.auth import bump_session_epoch, current_staff, db, require_role
from ussd_gateway.staff.forms import (
    ROLE_LABELS,
    ConfirmForm,
    ServiceEditForm,
    StaffCreateForm,
    StaffEditForm,
    choices,
)
from ussd_gateway.staff.queries import services_by_code
from ussd_gateway.staff_accounts import StaffAccountError, create_staff

CATALOGUE_FIELDS = ("fee_fcfa", "fee_note", "delay_days", "documents", "active")


def _audit(action: str, target_type: str, target_id: str, details: dict[str, Any]) -> None:
    db().add(
        AuditEvent(
            actor_id=current_staff().id,
            action=action,
            target_type=target_type,
            target_id=target_id,
            details=details,
        )
    )


# --------------------------------------------------------------------------- catalogue


@bp.get("/catalogue")
@require_role("admin")
def catalogue() -> ResponseReturnValue:
    return render_template("staff/catalogue.html", services=list(services_by_code(db()).values()))


@bp.route("/catalogue/<code>", methods=["GET", "POST"])
@require_role("admin")
def service_edit(code: str) -> ResponseReturnValue:
    dbs = db()
    service = dbs.get(Service, code)
    if service is None:
        abort(404)
    form = ServiceEditForm(obj=service)
    if form.validate_on_submit():
        before = {name: getattr(service, name) for name in CATALOGUE_FIELDS}
        service.fee_fcfa = form.fee_fcfa.data
        service.fee_note = (form.fee_note.data or "").strip()
        service.delay_days = form.delay_days.data
        service.documents = (form.documents.data or "").strip()
        service.active = bool(form.active.data)
        changes = {
            name: [before[name], getattr(service, name)]
            for name in CATALOGUE_FIELDS
            if before[name] != getattr(service, name)
        }
        if changes:
            _audit("service.update", "service", service.code, {"changes": changes})
            dbs.commit()
            flash(f"Service {service.code} enregistré ; le USSD affiche déjà les nouvelles valeurs.", "ok")
        else:
            flash("Aucune modification.", "info")
        return redirect(url_for("staff.catalogue"))
    return render_template("staff/service_edit.html", service=service, form=form)


# --------------------------------------------------------------------------- staff accounts


def _service_choices() -> list[Any]:
    return choices((s.code, f"{s.code} · {s.name('fr')}") for s in services_by_code(db()).values())


@bp.get("/comptes")
@require_role("admin")
def staff_list() -> ResponseReturnValue:
    dbs = db()
    users = list(dbs.scalars(select(StaffUser).order_by(StaffUser.active.desc(), StaffUser.full_name)))
    services: dict[int, list[str]] = {}
    for staff_id, code in dbs.execute(select(StaffService.staff_id, StaffService.service_code)):
        services.setdefault(staff_id, []).append(code)
    return render_template(
        "staff/staff_list.html",
        users=users,
        services=services,
        role_labels=ROLE_LABELS,
        confirm_form=ConfirmForm(),
    )


@bp.route("/comptes/nouveau", methods=["GET", "POST"])
@require_role("admin")
def staff_create() -> ResponseReturnValue:
    form = StaffCreateForm()
    form.services.choices = _service_choices()
    if form.validate_on_submit():
        dbs = db()
        password = form.password.data or generate_password()
        try:
            user = create_staff(
                dbs,
                form.email.data,
                password,
                form.role.data,
                full_name=form.full_name.data.strip(),
                services=form.services.data if form.role.data == "agent" else [],
                actor_id=current_staff().id,
            )
        except StaffAccountError as exc:
            dbs.rollback()
            form.email.errors = [str(exc)]
            return render_template("staff/staff_form.html", form=form, user=None), 400
        dbs.commit()
        return render_template(
            "staff/password_shown.html",
            user=user,
            password=password,
            generated=not form.password.data,
            title="Compte créé",
        )
    return render_template("staff/staff_form.html", form=form, user=None)


def _load_user(staff_id: int) -> StaffUser:
    user = db().get(StaffUser, staff_id)
    if user is None:
        abort(404)
    return user


@bp.route("/comptes/<int:staff_id>", methods=["GET", "POST"])
@require_role("admin")
def staff_edit(staff_id: int) -> ResponseReturnValue:
    dbs = db()
    user = _load_user(staff_id)
    current_codes = sorted(s.service_code for s in user.services)
    form = StaffEditForm(obj=user, data={"services": current_codes})
    form.services.choices = _service_choices()
    if form.validate_on_submit():
        if user.id == current_staff().id and form.role.data != "admin":
            form.role.errors = ["Vous ne pouvez pas retirer votre propre rôle d'administrateur."]
            return render_template("staff/staff_form.html", form=form, user=user), 400
        new_codes = sorted(form.services.data or []) if form.role.data == "agent" else []
        changes: dict[str, Any] = {}
        if user.full_name != form.full_name.data.strip():
            changes["full_name"] = [user.full_name, form.full_name.data.strip()]
            user.full_name = form.full_name.data.strip()
        if user.role != form.role.data:
            changes["role"] = [user.role, form.role.data]
            user.role = form.role.data
        if new_codes != current_codes:
            changes["services"] = [current_codes, new_codes]
            user.services = [StaffService(service_code=c) for c in new_codes]
        if changes:
            _audit("staff.update", "staff_user", str(user.id), {"changes": changes})
            dbs.commit()
            flash(f"Compte {user.email} mis à jour.", "ok")
        else:
            flash("Aucune modification.", "info")
        return redirect(url_for("staff.staff_list"))
    return render_template("staff/staff_form.html", form=form, user=user, confirm_form=ConfirmForm())


@bp.post("/comptes/<int:staff_id>/desactiver")
@require_role("admin")
def staff_disable(staff_id: int) -> ResponseReturnValue:
    user = _load_user(staff_id)
    if user.id == current_staff().id:
        flash("Vous ne pouvez pas désactiver votre propre compte.", "error")
        return redirect(url_for("staff.staff_list"))
    dbs = db()
    user.active = False
    bump_session_epoch(dbs, user.id)  # signs the account out everywhere
    _audit("staff.disable", "staff_user", str(user.id), {"email": user.email})
    dbs.commit()
    flash(f"Compte {user.email} désactivé ; ses sessions sont fermées.", "ok")
    return redirect(url_for("staff.staff_list"))


@bp.post("/comptes/<int:staff_id>/activer")
@require_role("admin")
def staff_enable(staff_id: int) -> ResponseReturnValue:
    user = _load_user(staff_id)
    dbs = db()
    user.active = True
    _audit("staff.enable", "staff_user", str(user.id), {"email": user.email})
    dbs.commit()
    flash(f"Compte {user.email} réactivé.", "ok")
    return redirect(url_for("staff.staff_list"))


@bp.post("/comptes/<int:staff_id>/mot-de-passe")
@require_role("admin")
def staff_reset_password(staff_id: int) -> ResponseReturnValue:
    user = _load_user(staff_id)
    dbs = db()
    password = generate_password()
    user.password_hash = hash_password(password)
    bump_session_epoch(dbs, user.id)
    _audit("staff.reset_password", "staff_user", str(user.id), {"email": user.email})
    dbs.commit()
    return render_template(
        "staff/password_shown.html", user=user, password=password, generated=True,
        title="Mot de passe réinitialisé",
    )
