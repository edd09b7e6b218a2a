"""Requests: list, CSV export, detail, change status, refer, mark duplicate, assign.

Every change runs in one transaction with its audit row (StatusChange or AuditEvent) and its
outbox SMS; the SMS jobs are enqueued only after the commit. Each form carries the version of
the request the agent was looking at: if someone saved in between, nothing is written and the
page shows the new state with « la demande a été modifiée ».
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import logging
from collections.abc import Iterator
from typing import Any

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from ussd_gateway.lifecycle import STATUS_LABELS_FR, Status, allowed_transitions, is_open
from ussd_gateway.models import AuditEvent, ServiceRequest, StaffService, StaffUser, StatusChange, utcnow
from ussd_gateway.notifications import SmsComposer
from ussd_gateway.phones import mask_phone
from ussd_gateway.references import format_reference
from ussd_gateway.service_requests import (
    RequestError,
    StaleRequest,
    change_status,
    today_in_commune,
)
from ussd_gateway.staff import bp
from ussd_gateway.staff.auth import StaffIdentity, current_staff, db, runtime
from ussd_gateway.staff.forms import AssignForm, DuplicateForm, ReferForm, StatusChangeForm, ROLE_LABELS, choices
from ussd_gateway.staff.quartiers import Quartier, quartier_label
from ussd_gateway.staff.queries import (
    RequestFilters,
    find_by_reference,
    iter_export_rows,
    list_requests,
    parse_search,
    services_by_code,
    sms_of_request,
    staff_choices,
    visible_request,
)
from ussd_gateway.staff.sms_preview import NOTE_MARKER, preview_templates
from workers.queues import enqueue_outbox_sms

log = logging.getLogger(__name__)

#: statuses with their own form (they need an organisme / an original request)
SPECIAL_TARGETS = (Status.HORS_COMPETENCE, Status.DOUBLON)
REFERRAL_SUGGESTIONS = (
    "OTR (Office Togolais des Recettes)",
    "DAGL (District Autonome du Grand Lomé)",
    "Tribunal de première instance",
    "Portail national des permis de construire",
)
STALE_MESSAGE = (
    "La demande a été modifiée par quelqu'un d'autre pendant que vous la consultiez. "
    "Voici son nouvel état : vérifiez-le avant de recommencer. Rien n'a été enregistré."
)


def composer() -> SmsComposer:
    return current_app.extensions["staff_sms_composer"]  # type: ignore[no-any-return]


def quartiers() -> tuple[Quartier, ...]:
    return current_app.extensions["staff_quartiers"]  # type: ignore[no-any-return]


def quartier_aliases() -> dict[str, tuple[str, ...]]:
    """A quartier filter matches the stored value or its label (whichever the USSD stored)."""
    return {q.value: (q.value, q.label) for q in quartiers()}


def shown_phone(identity: StaffIdentity, phone: str) -> str:
    return mask_phone(phone) if identity.is_agent else phone


@bp.app_template_filter("ref")
def _ref_filter(reference: str) -> str:
    return format_reference(reference)


@bp.app_template_filter("status_label")
def _status_label(status: str) -> str:
    try:
        return STATUS_LABELS_FR[Status(status)]
    except ValueError:
        return status


@bp.app_template_filter("datetime_fr")
def _datetime_fr(value: dt.datetime | None) -> str:
    return value.strftime("%d/%m/%Y %H:%M") if value else ""


@bp.app_template_filter("date_fr")
def _date_fr(value: dt.date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


@bp.app_template_filter("age")
def _age(value: dt.datetime) -> str:
    seconds = (utcnow() - value).total_seconds()
    if seconds < 3600:
        return f"{max(1, int(seconds // 60))} min"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h"
    return f"{int(seconds // 86400)} j"


# --------------------------------------------------------------------------- list & export


@bp.get("/")
def index() -> ResponseReturnValue:
    return redirect(url_for("staff.requests_list"))


@bp.get("/demandes")
def requests_list() -> ResponseReturnValue:
    identity = current_staff()
    dbs = db()
    filters = RequestFilters.from_args(request.args)
    today = today_in_commune()
    page = list_requests(
        dbs,
        identity,
        filters,
        page_size=runtime().settings.staff.page_size,
        quartier_aliases=quartier_aliases(),
        today=today,
    )
    services = services_by_code(dbs)
    visible_services = [s for s in services.values() if identity.can_see_service(s.code)]
    search = parse_search(filters.q)
    return render_template(
        "staff/list.html",
        page=page,
        filters=filters,
        today=today,
        services=services,
        visible_services=visible_services,
        quartiers=quartiers(),
        quartier_label=lambda v: quartier_label(quartiers(), v),
        statuses=list(Status),
        staff=staff_choices(dbs),
        shown_phone=lambda p: shown_phone(identity, p),
        search_invalid=search is not None and search.kind == "invalid",
    )


def _csv_cell(value: object) -> str:
    """Text for a CSV cell; free text that a spreadsheet would run as a formula is quoted."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not text[1:].isdigit():
        return "'" + text
    return text


@bp.get("/demandes/export.csv")
def requests_export() -> ResponseReturnValue:
    identity = current_staff()
    filters = RequestFilters.from_args(request.args)
    today = today_in_commune()
    dbs = db()
    services = services_by_code(dbs)
    qs = quartiers()
    aliases = quartier_aliases()
    sessions = runtime().sessions
    header = [
        "Référence", "Service", "Code service", "Téléphone", "Quartier", "Statut", "Reçue le",
        "Date prévue", "En retard", "Attribuée à", "Organisme", "Canal",
    ]

    def generate() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=";")
        buffer.write("\ufeff")  # BOM: Excel then reads UTF-8 accents right
        writer.writerow(header)
        with sessions() as export_session:  # its own session: the page's is closed by now
            rows = iter_export_rows(
                export_session, identity, filters, quartier_aliases=aliases, today=today
            )
            for row in rows:
                service = services.get(row.service_code)
                writer.writerow(
                    [
                        format_reference(row.reference),
                        _csv_cell(service.name("fr") if service else row.service_code),
                        row.service_code,
                        shown_phone(identity, row.phone),
                        _csv_cell(quartier_label(qs, row.quartier)),
                        row.status_label,
                        row.created_at.strftime("%d/%m/%Y %H:%M"),
                        row.expected_date.strftime("%d/%m/%Y") if row.expected_date else "",
                        "oui" if row.overdue(today) else "non",
                        _csv_cell(row.assignee_name or ""),
                        _csv_cell(row.referred_to or ""),
                        row.channel,
                    ]
                )
                if buffer.tell() > 32_768:
                    yield buffer.getvalue()
                    buffer.seek(0)
                    buffer.truncate()
        yield buffer.getvalue()
        log.info("staff %s exported requests (%s)", identity.id, filters.to_args())

    filename = f"demandes-{today.isoformat()}.csv"
    return Response(
        generate(),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Content-Type": "text/csv; charset=utf-8",
        },
    )


# --------------------------------------------------------------------------- detail


def _load_visible(request_id: int) -> ServiceRequest:
    found = visible_request(db(), current_staff(), request_id)
    if found is None:
        abort(404)  # also when it exists but belongs to another service: no enumeration
    return found


def render_detail(
    req: ServiceRequest,
    *,
    status_form: StatusChangeForm | None = None,
    refer_form: ReferForm | None = None,
    duplicate_form: DuplicateForm | None = None,
    assign_form: AssignForm | None = None,
    stale: bool = False,
    code: int = 200,
) -> ResponseReturnValue:
    identity = current_staff()
    dbs = db()
    dbs.refresh(req)
    history = list(
        dbs.scalars(
            select(StatusChange)
            .where(StatusChange.request_id == req.id)
            .options(selectinload(StatusChange.actor))
            .order_by(StatusChange.id)
        )
    )
    assignments = list(
        dbs.scalars(
            select(AuditEvent)
            .where(AuditEvent.target_type == "service_request", AuditEvent.target_id == str(req.id))
            .order_by(AuditEvent.id)
        )
    )
    actors = {
        u.id: u
        for u in dbs.scalars(
            select(StaffUser).where(
                StaffUser.id.in_({a.actor_id for a in assignments if a.actor_id}
                                 | {int(a.details.get("to") or 0) for a in assignments})
            )
        )
    }
    allowed = allowed_transitions(req.status)
    general = [s for s in allowed if s not in SPECIAL_TARGETS]
    version = str(req.version)

    if status_form is None:
        status_form = StatusChangeForm(formdata=None)
    status_choices = [(s.value, STATUS_LABELS_FR[s]) for s in general]
    status_form.to_status.choices = choices(status_choices)
    status_form.version.data = version
    if refer_form is None:
        refer_form = ReferForm(formdata=None, organisme=req.service.referral or "")
    refer_form.version.data = version
    if duplicate_form is None:
        duplicate_form = DuplicateForm(formdata=None)
    duplicate_form.version.data = version
    staff = []
    if identity.is_supervisor:
        staff = _assignable_staff(req.service_code)
        if assign_form is None:
            assign_form = AssignForm(formdata=None)
        assign_form.assignee_id.choices = choices(
            [("", "— Personne —")]
            + [(str(u.id), f"{u.full_name or u.email} ({ROLE_LABELS[u.role]})") for u in staff]
        )
        assign_form.assignee_id.data = str(req.assignee_id or "")
        assign_form.version.data = version

    resident = req.resident
    previews = preview_templates(
        composer(), req, req.service, resident.language or req.language, [s.value for s in general]
    )
    original = dbs.get(ServiceRequest, req.duplicate_of_id) if req.duplicate_of_id else None
    return (
        render_template(
            "staff/detail.html",
            req=req,
            service=req.service,
            resident=resident,
            phone=shown_phone(identity, resident.phone),
            quartier=quartier_label(quartiers(), req.quartier),
            history=history,
            assignments=assignments,
            actors=actors,
            sms_list=sms_of_request(dbs, req.id),
            status_form=status_form,
            status_choices=status_choices,
            refer_form=refer_form if Status.HORS_COMPETENCE in allowed else None,
            duplicate_form=duplicate_form if Status.DOUBLON in allowed else None,
            assign_form=assign_form,
            previews={p.status: p for p in previews},
            note_marker=NOTE_MARKER,
            fold_note=composer().fold_staff_text,
            overdue=is_open(req.status) and req.expected_date is not None
            and req.expected_date < today_in_commune(),
            original=original,
            stale=stale,
            referral_suggestions=REFERRAL_SUGGESTIONS,
        ),
        code,
    )


def _assignable_staff(service_code: str) -> list[StaffUser]:
    """Active supervisors/admins, and the agents who process this service."""
    dbs = db()
    agents_of_service = select(StaffService.staff_id).where(StaffService.service_code == service_code)
    return list(
        dbs.scalars(
            select(StaffUser)
            .where(
                StaffUser.active.is_(True),
                (StaffUser.role != "agent") | StaffUser.id.in_(agents_of_service),
            )
            .order_by(StaffUser.role, StaffUser.full_name)
        )
    )


@bp.get("/demandes/<int:request_id>")
def request_detail(request_id: int) -> ResponseReturnValue:
    return render_detail(_load_visible(request_id))


# --------------------------------------------------------------------------- changes


def _stale(req: ServiceRequest, **forms: Any) -> ResponseReturnValue:
    db().rollback()
    flash(STALE_MESSAGE, "error")
    return render_detail(req, stale=True, code=409, **forms)


def _apply_status_change(
    req: ServiceRequest, expected_version: int | None, to_status: str, **kwargs: Any
) -> str | None:
    """Run the domain's change_status and commit; return an error message or None."""
    dbs = db()
    if expected_version is None or expected_version != req.version:
        raise StaleRequest("la demande a été modifiée")
    try:
        result = change_status(
            dbs,
            composer(),
            request_id=req.id,
            expected_version=expected_version,
            to_status=to_status,
            actor_id=current_staff().id,
            **kwargs,
        )
    except StaleRequest:
        raise  # the caller rolls back and shows the new state
    except RequestError as exc:
        dbs.rollback()
        return str(exc)
    dbs.commit()
    enqueue_outbox_sms(runtime().redis, result.outbox_ids)  # after the commit
    log.info(
        "staff %s moved request %s to %s (sms %s)",
        current_staff().id, req.id, to_status, result.outbox_ids,
    )
    sent = " Un SMS part vers le demandeur." if result.outbox_ids else ""
    flash(f"Statut changé : {STATUS_LABELS_FR[Status(to_status)]}.{sent}", "ok")
    return None


@bp.post("/demandes/<int:request_id>/statut")
def request_change_status(request_id: int) -> ResponseReturnValue:
    req = _load_visible(request_id)
    form = StatusChangeForm()
    form.to_status.choices = choices(
        (s.value, STATUS_LABELS_FR[s]) for s in Status if s not in SPECIAL_TARGETS
    )
    if not form.validate():
        return render_detail(req, status_form=form, code=400)
    try:
        error = _apply_status_change(
            req,
            form.expected_version(),
            form.to_status.data,
            public_note=form.public_note.data or "",
            internal_note=form.internal_note.data or "",
        )
    except StaleRequest:
        return _stale(req, status_form=form)
    if error:
        form.to_status.errors = [error[0].upper() + error[1:]]
        return render_detail(req, status_form=form, code=409)
    return redirect(url_for("staff.request_detail", request_id=req.id))


@bp.post("/demandes/<int:request_id>/orienter")
def request_refer(request_id: int) -> ResponseReturnValue:
    """Not the commune's competence: close as hors_competence and tell the resident where to go."""
    req = _load_visible(request_id)
    form = ReferForm()
    if not form.validate():
        return render_detail(req, refer_form=form, code=400)
    try:
        error = _apply_status_change(
            req,
            form.expected_version(),
            Status.HORS_COMPETENCE.value,
            referred_to=form.organisme.data,
            internal_note=form.internal_note.data or "",
        )
    except StaleRequest:
        return _stale(req, refer_form=form)
    if error:
        form.organisme.errors = [error]
        return render_detail(req, refer_form=form, code=409)
    return redirect(url_for("staff.request_detail", request_id=req.id))


@bp.post("/demandes/<int:request_id>/doublon")
def request_mark_duplicate(request_id: int) -> ResponseReturnValue:
    req = _load_visible(request_id)
    form = DuplicateForm()
    if not form.validate():
        return render_detail(req, duplicate_form=form, code=400)
    search = parse_search(form.original_reference.data)
    original = (
        find_by_reference(db(), current_staff(), search.value)
        if search is not None and search.kind == "reference"
        else None
    )
    if original is None or original.id == req.id:
        form.original_reference.errors = [
            "Référence introuvable (ou identique à cette demande). Saisissez les 9 chiffres."
        ]
        return render_detail(req, duplicate_form=form, code=400)
    try:
        error = _apply_status_change(
            req,
            form.expected_version(),
            Status.DOUBLON.value,
            duplicate_of_id=original.id,
            internal_note=form.internal_note.data or "",
        )
    except StaleRequest:
        return _stale(req, duplicate_form=form)
    if error:
        form.original_reference.errors = [error]
        return render_detail(req, duplicate_form=form, code=409)
    return redirect(url_for("staff.request_detail", request_id=req.id))


@bp.post("/demandes/<int:request_id>/attribuer")
def request_assign(request_id: int) -> ResponseReturnValue:
    identity = current_staff()
    if not identity.is_supervisor:
        abort(403)
    req = _load_visible(request_id)
    form = AssignForm()
    staff = _assignable_staff(req.service_code)
    form.assignee_id.choices = choices([("", "")] + [(str(u.id), u.email) for u in staff])
    if not form.validate():
        return render_detail(req, assign_form=form, code=400)
    new_assignee = int(form.assignee_id.data) if form.assignee_id.data else None
    dbs = db()
    previous = req.assignee_id
    expected = form.expected_version()
    result = dbs.execute(
        update(ServiceRequest)
        .where(ServiceRequest.id == req.id, ServiceRequest.version == expected)
        .values(
            assignee_id=new_assignee,
            version=ServiceRequest.version + 1,
            updated_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return _stale(req, assign_form=form)
    dbs.add(
        AuditEvent(
            actor_id=identity.id,
            action="request.assign",
            target_type="service_request",
            target_id=str(req.id),
            details={"from": previous, "to": new_assignee},
        )
    )
    dbs.commit()
    name = next((u.full_name or u.email for u in staff if u.id == new_assignee), None)
    flash(f"Demande attribuée à {name}." if name else "Demande désattribuée.", "ok")
    return redirect(url_for("staff.request_detail", request_id=req.id))
