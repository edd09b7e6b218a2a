"""The foundation: settings, callback authentication, probes, clear errors."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import CALLBACK_TOKEN, make_test_settings
from ussd_gateway.app import create_app
from ussd_gateway.runtime import build_runtime
from ussd_gateway.settings import SettingsError, load_settings

# Nothing listens there: a database and a Redis that are down.
DEAD_DATABASE = "postgresql://postgres@127.0.0.1:9/none"
DEAD_REDIS = "redis://127.0.0.1:9/0"


def test_environment_overrides_config_file(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("database:\n  url: sqlite:////tmp/from-file.db\nsms:\n  sender_id: FILE\n")
    settings = load_settings(
        environ={
            "USSD_GATEWAY_CONFIG": str(config),
            "USSD_GATEWAY_DATABASE_URL": "postgresql://db.example/gw",
            "USSD_GATEWAY_REDIS_URL": "redis://cache.example/3",
            "USSD_GATEWAY_SECRET_KEY": "s3cret",
            "USSD_GATEWAY_CALLBACK_TOKEN": "tok",
            "USSD_GATEWAY_AT_USERNAME": "golfe3",
            "USSD_GATEWAY_AT_API_KEY": "key",
            "USSD_GATEWAY_AT_BASE_URL": "http://127.0.0.1:1/",
            "USSD_GATEWAY_SMS_SENDER_ID": "GOLFE3",
        }
    )
    assert settings.database.url == "postgresql://db.example/gw"
    assert settings.redis.url == "redis://cache.example/3"
    assert settings.secret_key == "s3cret" and settings.callback_token == "tok"
    assert settings.africastalking.username == "golfe3"
    assert settings.africastalking.base_url == "http://127.0.0.1:1/"
    assert settings.at_api_key == "key"
    assert settings.sms.sender_id == "GOLFE3"
    assert settings.sms_provider == "africastalking"


def test_config_error_names_the_key_and_what_was_expected(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("ussd:\n  screen_limit: lots\n  colour: blue\n")
    with pytest.raises(SettingsError) as err:
        load_settings(config, environ={})
    message = str(err.value)
    assert "ussd.screen_limit" in message and "integer" in message
    assert "ussd.colour: unknown key" in message


def test_secret_in_config_file_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("callback_token: abc\n")
    with pytest.raises(SettingsError, match="USSD_GATEWAY_CALLBACK_TOKEN"):
        load_settings(config, environ={})


def test_cli_exits_non_zero_on_malformed_config(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("sms: [not, a, mapping\n")
    result = subprocess.run(
        [sys.executable, "-m", "ussd_gateway.cli", "--config", str(config), "db", "upgrade"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert "Configuration invalide" in result.stderr and "not valid YAML" in result.stderr
    assert "Traceback" not in result.stderr


def test_every_command_has_help() -> None:
    for args in (["--help"], ["serve", "--help"], ["worker", "--help"], ["db", "upgrade", "--help"],
                 ["staff", "add", "--help"], ["menus", "check", "--help"], ["simulate", "--help"]):
        result = subprocess.run(
            [sys.executable, "-m", "ussd_gateway.cli", *args], capture_output=True, text=True
        )
        assert result.returncode == 0, (args, result.stderr)
        assert "Usage:" in result.stdout


def test_healthz_answers_without_touching_services(client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/healthz").status_code == 200


def test_readyz_ok_when_database_and_redis_answer(client) -> None:  # type: ignore[no-untyped-def]
    resp = client.get("/readyz")
    assert resp.status_code == 200
    assert resp.get_data(as_text=True) == "database: ok\nredis: ok\n"


def _app_with(database_url: str, redis_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    settings = make_test_settings(database_url, redis_url, tmp_path)
    return create_app(runtime=build_runtime(settings))


def test_readyz_names_the_database_when_it_is_down(redis_url: str, tmp_path: Path) -> None:
    resp = _app_with(DEAD_DATABASE, redis_url, tmp_path).test_client().get("/readyz")
    assert resp.status_code == 503
    assert resp.get_data(as_text=True) == "database: unreachable\n"


def test_readyz_names_redis_when_it_is_down(migrated_database: str, tmp_path: Path) -> None:
    resp = _app_with(migrated_database, DEAD_REDIS, tmp_path).test_client().get("/readyz")
    assert resp.status_code == 503
    assert resp.get_data(as_text=True) == "redis: unreachable\n"


@pytest.mark.parametrize("path", ["ussd", "ussd-end", "sms/incoming", "sms/delivery", "sms/optout"])
def test_wrong_callback_token_is_404_and_touches_neither_database_nor_redis(
    path: str, tmp_path: Path
) -> None:
    # Both services are down: any access would fail loudly instead of the quick 404.
    client = _app_with(DEAD_DATABASE, DEAD_REDIS, tmp_path).test_client()
    form = {"sessionId": "s1", "serviceCode": "*384*2#", "phoneNumber": "+22890123456", "text": ""}
    resp = client.post(f"/africastalking/wrong-{CALLBACK_TOKEN}/{path}", data=form)
    assert resp.status_code == 404
    assert "Traceback" not in resp.get_data(as_text=True)


@pytest.mark.parametrize(
    ("missing", "field"),
    [("sessionId", "sessionId"), ("phoneNumber", "phoneNumber"), ("text", "text"),
     ("serviceCode", "serviceCode")],
)
def test_ussd_hop_missing_field_is_400_with_a_clean_end(client, callback_prefix, missing, field):  # type: ignore[no-untyped-def]
    form = {"sessionId": "s1", "serviceCode": "*384*2#", "phoneNumber": "+22890123456", "text": ""}
    del form[missing]
    resp = client.post(f"{callback_prefix}/ussd", data=form)
    assert resp.status_code == 400
    body = resp.get_data(as_text=True)
    assert body.startswith("END ") and "Traceback" not in body


def test_ussd_hop_with_unparseable_phone_is_400_with_a_clean_end(client, callback_prefix):  # type: ignore[no-untyped-def]
    form = {"sessionId": "s1", "serviceCode": "*384*2#", "phoneNumber": "12", "text": ""}
    resp = client.post(f"{callback_prefix}/ussd", data=form)
    assert resp.status_code == 400
    assert resp.get_data(as_text=True).startswith("END ")


@pytest.mark.parametrize(
    ("path", "form", "field"),
    [
        ("sms/delivery", {"status": "Success"}, "id"),
        ("sms/incoming", {"from": "+22890123456", "text": "AIDE"}, "id"),
        ("sms/optout", {"senderId": "GOLFE3"}, "phoneNumber"),
        ("ussd-end", {"phoneNumber": "+22890123456", "status": "Success"}, "sessionId"),
    ],
)
def test_sms_and_session_callbacks_name_the_missing_field(client, callback_prefix, path, form, field):  # type: ignore[no-untyped-def]
    resp = client.post(f"{callback_prefix}/{path}", data=form)
    assert resp.status_code == 400
    assert resp.get_data(as_text=True) == f"400 {field}: missing"


def test_migrations_create_the_catalogue(runtime) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import func, select

    from ussd_gateway.models import Service

    with runtime.sessions() as session:
        assert session.scalar(select(func.count(Service.code))) == 15




def test_behind_a_trusted_proxy_the_client_address_and_scheme_come_from_it(
    migrated_database: str, redis_url: str, tmp_path: Path
) -> None:
    from flask import request

    settings = make_test_settings(migrated_database, redis_url, tmp_path,
                                  server={"trusted_proxies": 1})
    app = create_app(runtime=build_runtime(settings))

    @app.get("/whoami")
    def whoami() -> str:
        return f"{request.remote_addr} {request.scheme}"

    seen = app.test_client().get(
        "/whoami", headers={"X-Forwarded-For": "41.207.1.2", "X-Forwarded-Proto": "https"}
    )
    assert seen.get_data(as_text=True) == "41.207.1.2 https"
    direct = _app_with(migrated_database, redis_url, tmp_path).test_client()
    # without trusted proxies a forged header changes nothing
    app2 = direct.application

    @app2.get("/whoami")
    def whoami2() -> str:
        return f"{request.remote_addr} {request.scheme}"

    forged = direct.get("/whoami", headers={"X-Forwarded-For": "41.207.1.2", "X-Forwarded-Proto": "https"})
    assert forged.get_data(as_text=True) == "127.0.0.1 http"


@pytest.mark.parametrize(
    ("path", "form"),
    [
        ("sms/incoming", {"id": "ATXid_1", "from": "+22890123456", "to": "1234", "text": "AIDE"}),
        ("sms/delivery", {"id": "ATXid_1", "status": "Success", "phoneNumber": "+22890123456"}),
        ("sms/optout", {"phoneNumber": "+22890123456", "senderId": "GOLFE3"}),
    ],
)
def test_sms_callback_with_database_down_is_503_so_the_provider_retries(
    path: str, form: dict[str, str], redis_url: str, tmp_path: Path
) -> None:
    client = _app_with(DEAD_DATABASE, redis_url, tmp_path).test_client()
    resp = client.post(f"/africastalking/{CALLBACK_TOKEN}/{path}", data=form)
    assert resp.status_code == 503
    assert resp.get_data(as_text=True) == "503 base de donnees indisponible"
