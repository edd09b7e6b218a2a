"""The staff web view: municipal agents review, process and answer residents' requests.

Server-rendered pages (Flask + Jinja), French, no front-end build step. ``init_app`` is called
by ``ussd_gateway.app.create_app``; it registers the blueprint, CSRF protection (on the staff
pages only: provider callbacks are not forms), the session cookie policy, security headers and
the SMS composer the status changes use.

Modules: ``auth`` (sign-in, throttling, revocable sessions, roles), ``forms`` (Flask-WTF),
``queries`` (role-scoped list, filters, dashboard figures), ``sms_preview`` (what the note turns
into), ``views`` (requests), ``dashboard``, ``admin`` (catalogue and staff accounts).
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from flask import Blueprint, Flask, Response, render_template, request
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFError, CSRFProtect

bp = Blueprint(
    "staff",
    __name__,
    url_prefix="/staff",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

csrf = CSRFProtect()

#: a strict policy: no inline script or style anywhere in the staff pages
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; "
    "object-src 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


class StaffSessionInterface(SecureCookieSessionInterface):
    """Signed cookie session whose cookie is ``Secure`` whenever the page came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        if super().get_cookie_secure(app):
            return True
        return bool(request) and request.is_secure


def init_app(app: Flask) -> None:
    """Wire the staff view into ``app`` (called once by the app factory)."""
    from sms.templates import load_templates
    from ussd_gateway.notifications import SmsComposer
    from ussd_gateway.staff import admin, auth, dashboard, views  # noqa: F401 - routes
    from ussd_gateway.staff.quartiers import load_quartiers

    runtime = app.extensions["gateway"]
    settings = runtime.settings
    app.config.update(
        # CSRF is checked by the staff blueprint itself (see auth.protect_staff_forms), so the
        # provider callbacks, which are form posts without a token, keep working.
        WTF_CSRF_CHECK_DEFAULT=False,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the (revocable) session
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=settings.staff.session_hours),
        SESSION_COOKIE_SECURE=settings.server.public_url.startswith("https://"),
    )
    app.session_interface = StaffSessionInterface()
    csrf.init_app(app)
    app.extensions["staff_sms_composer"] = SmsComposer.from_settings(settings, load_templates())
    app.extensions["staff_quartiers"] = load_quartiers(
        Path(settings.path(settings.commune.menus_dir)) / "forms.yaml"
    )
    app.register_blueprint(bp)
    app.after_request(add_security_headers)


def add_security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.path.startswith("/staff") and not request.path.startswith("/staff/static"):
        # pages hold residents' personal data: never keep them in a shared PC's cache
        response.headers.setdefault("Cache-Control", "no-store")
    return response


@bp.errorhandler(CSRFError)
def csrf_refused(exc: CSRFError) -> tuple[str, int]:
    return (
        render_template(
            "staff/error.html",
            code=400,
            title="Formulaire refusé",
            message="Le formulaire a expiré ou ne vient pas de cette application. "
            "Rechargez la page et recommencez.",
        ),
        400,
    )


def _error_page(code: int, title: str, message: str) -> tuple[str, int]:
    return render_template("staff/error.html", code=code, title=title, message=message), code


@bp.errorhandler(404)
def not_found(exc: Exception) -> tuple[str, int]:
    return _error_page(404, "Page introuvable", "Cette page n'existe pas ou ne vous est pas accessible.")


@bp.errorhandler(403)
def forbidden(exc: Exception) -> tuple[str, int]:
    return _error_page(403, "Accès refusé", "Votre rôle ne permet pas cette action.")


@bp.errorhandler(400)
def bad_request(exc: Exception) -> tuple[str, int]:
    return _error_page(400, "Requête invalide", "La requête n'a pas pu être traitée.")
