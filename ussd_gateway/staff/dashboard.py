"""The supervisor's dashboard: counts, daily intake, processing times, overdue, SMS budget."""
from __future__ import annotations

from flask import render_template
from flask.typing import ResponseReturnValue

from ussd_gateway.lifecycle import Status
from ussd_gateway.models import utcnow
from ussd_gateway.service_requests import today_in_commune
from ussd_gateway.staff import bp
from ussd_gateway.staff.auth import db, require_role, runtime
from ussd_gateway.staff.queries import dashboard as dashboard_figures
from ussd_gateway.staff.queries import services_by_code


@bp.get("/tableau-de-bord")
@require_role("supervisor", "admin")
def dashboard() -> ResponseReturnValue:
    dbs = db()
    today = today_in_commune()
    figures = dashboard_figures(
        dbs, today=today, now=utcnow(), daily_budget=runtime().settings.sms.daily_budget
    )
    return render_template(
        "staff/dashboard.html",
        d=figures,
        today=today,
        services=services_by_code(dbs),
        statuses=list(Status),
    )
