"""The gateway's long-lived parts, built once per process from settings.

The web app and the worker both build a Runtime; nothing here runs at import time.
"""
from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import redis
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from ussd_gateway.audit import protect_audit_trail
from ussd_gateway.db import make_engine, make_session_factory
from ussd_gateway.redis_conn import connect_redis
from ussd_gateway.settings import Settings

if TYPE_CHECKING:
    from ussd_gateway.notifications import SmsComposer
    from ussd_gateway.ussd import UssdService

SECRETS_FILE = "secrets.json"


def ensure_local_secrets(settings: Settings) -> Settings:
    """Fill a missing secret key / callback token from ``data_dir/secrets.json``.

    The embedded default has no environment to read them from: they are generated once
    (128+ bits), kept in a file only the owner can read, and reused at every start.
    Environment variables always win.
    """
    if settings.secret_key and settings.callback_token:
        return settings
    path = settings.data_path / SECRETS_FILE
    stored: dict[str, str] = {}
    if path.exists():
        stored = json.loads(path.read_text(encoding="utf-8"))
    changed = False
    for name, nbytes in (("secret_key", 32), ("callback_token", 24)):
        if not stored.get(name):
            stored[name] = secrets.token_urlsafe(nbytes)
            changed = True
    if changed:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(stored, fh)
    return settings.model_copy(
        update={
            "secret_key": settings.secret_key or stored["secret_key"],
            "callback_token": settings.callback_token or stored["callback_token"],
        }
    )


def embedded_redis_url_file(settings: Settings) -> Path:
    """Where ``serve`` writes the embedded Redis URL for other processes to find."""
    return settings.data_path / "redis" / "url"


def resolve_redis_url(settings: Settings) -> str:
    """The Redis URL: from settings, else the embedded server's (which must be running)."""
    if settings.redis.url:
        return settings.redis.url
    url_file = embedded_redis_url_file(settings)
    if url_file.exists():
        return url_file.read_text(encoding="utf-8").strip()
    raise RuntimeError(
        "no Redis configured: set USSD_GATEWAY_REDIS_URL, or start the embedded default "
        "with `ussd-gateway serve`"
    )


@dataclass
class Runtime:
    """Settings plus the connections built from them (one per process)."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    redis: redis.Redis
    #: built on first use (they read files): the USSD service and the SMS composer
    ussd: UssdService | None = None
    _composer: SmsComposer | None = None

    def sms_composer(self) -> SmsComposer:
        """The SmsComposer of this process (templates loaded once)."""
        if self._composer is None:
            from sms.templates import load_templates
            from ussd_gateway.notifications import SmsComposer

            self._composer = SmsComposer.from_settings(self.settings, load_templates())
        return self._composer

    def close(self) -> None:
        self.engine.dispose()
        self.redis.close()


def build_runtime(settings: Settings, *, redis_url: str | None = None) -> Runtime:
    engine = make_engine(
        settings.database_url(), pool_size=settings.database.pool_size, echo=settings.database.echo
    )
    client = connect_redis(redis_url or resolve_redis_url(settings))
    sessions = make_session_factory(engine)
    protect_audit_trail(sessions)
    return Runtime(settings=settings, engine=engine, sessions=sessions, redis=client)
