"""The Flask application factory."""
from __future__ import annotations

import logging

from flask import Flask, Response, redirect, request, url_for
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from ussd_gateway.runtime import Runtime, build_runtime, ensure_local_secrets
from ussd_gateway.settings import Settings, load_settings
from ussd_gateway.ussd import ussd_service

log = logging.getLogger(__name__)


def configure_logging(level: str) -> None:
    """Readable one-line logs for operators (idempotent)."""
    root = logging.getLogger()
    if not any(getattr(h, "_ussd_gateway", False) for h in root.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
        )
        handler._ussd_gateway = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> Flask:
    """Build the app. Tests pass their own settings or runtime; production reads config.yaml."""
    if runtime is None:
        settings = ensure_local_secrets(settings or load_settings())
        runtime = build_runtime(settings)
    settings = runtime.settings
    configure_logging(settings.logging.level)

    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_NAME="g3_staff",
        MAX_CONTENT_LENGTH=64 * 1024,
        JSON_AS_ASCII=False,
    )
    app.extensions["gateway"] = runtime
    if settings.server.trusted_proxies:
        # the client's address (sign-in throttling) and scheme (Secure cookies) as the proxy saw them
        hops = settings.server.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    # menus are loaded and checked as a whole before anything is served
    ussd_service(runtime)

    from ussd_gateway import africastalking, health

    app.register_blueprint(health.bp)
    app.register_blueprint(africastalking.bp)
    _register_staff(app)

    @app.get("/")
    def index() -> Response:
        return redirect(url_for("staff.index")) if "staff.index" in app.view_functions else Response(
            "Passerelle USSD & SMS", mimetype="text/plain"
        )

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        if request.path.startswith("/staff"):
            return exc  # type: ignore[return-value]
        return Response(
            f"{exc.code} {exc.name}", status=exc.code or 500, mimetype="text/plain"
        )

    @app.errorhandler(Exception)
    def unexpected_error(exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return Response("500 Erreur interne", status=500, mimetype="text/plain")

    return app


def _register_staff(app: Flask) -> None:
    """The staff web view (its own package); absent pieces must not stop callbacks."""
    try:
        from ussd_gateway.staff import init_app
    except ImportError:
        return
    init_app(app)


def runtime_of(app: Flask) -> Runtime:
    return app.extensions["gateway"]  # type: ignore[no-any-return]
