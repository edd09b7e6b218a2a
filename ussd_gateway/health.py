"""Liveness and readiness probes."""
from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app

from ussd_gateway.db import ping

log = logging.getLogger(__name__)
bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    """The process is alive (touches nothing)."""
    return Response("ok", mimetype="text/plain")


@bp.get("/readyz")
def readyz() -> Response:
    """The database and Redis both answer; 503 naming whichever does not."""
    runtime = current_app.extensions["gateway"]
    problems = []
    try:
        ping(runtime.engine)
    except Exception as exc:
        log.warning("readyz: database unreachable: %s", exc)
        problems.append("database: unreachable")
    try:
        runtime.redis.ping()
    except Exception as exc:
        log.warning("readyz: redis unreachable: %s", exc)
        problems.append("redis: unreachable")
    if problems:
        return Response("\n".join(problems) + "\n", status=503, mimetype="text/plain")
    return Response("database: ok\nredis: ok\n", mimetype="text/plain")
