"""Settings: config.yaml parsed once into typed, frozen settings, then environment overrides.

Secrets (secret key, callback token, Africa's Talking API key) come only from the environment;
a secret written in the file is refused. A bad key or value raises SettingsError naming the key
and what was expected; the CLI prints it and exits non-zero.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

ENV_PREFIX = "USSD_GATEWAY_"
DEFAULT_CONFIG_NAME = "config.yaml"
PROJECT_DIR = Path(__file__).resolve().parent.parent

#: environment variable -> (section, key) it overrides
ENV_OVERRIDES: dict[str, tuple[str, str]] = {
    "USSD_GATEWAY_DATABASE_URL": ("database", "url"),
    "USSD_GATEWAY_REDIS_URL": ("redis", "url"),
    "USSD_GATEWAY_AT_USERNAME": ("africastalking", "username"),
    "USSD_GATEWAY_AT_BASE_URL": ("africastalking", "base_url"),
    "USSD_GATEWAY_SMS_SENDER_ID": ("sms", "sender_id"),
}
#: secrets: environment only
SECRET_ENV = {
    "secret_key": "USSD_GATEWAY_SECRET_KEY",
    "callback_token": "USSD_GATEWAY_CALLBACK_TOKEN",
    "at_api_key": "USSD_GATEWAY_AT_API_KEY",
}


class SettingsError(Exception):
    """config.yaml or the environment holds something invalid; the message says what."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CommuneSettings(_Section):
    name: str = Field("Mairie Golfe 3", min_length=1, max_length=30)
    slug: str = Field("golfe3", pattern=r"^[a-z0-9_-]+$")
    ussd_code: str = Field("*384*2#", pattern=r"^\*[0-9*]+#$")
    menus_dir: str = "menus/golfe3"
    catalogue_file: str = "menus/golfe3/catalogue.yaml"
    opening_hours: str = "lun-ven 7h30-16h30"
    timezone: str = "Africa/Lome"
    consent_version: str = "2026-11"
    default_language: Literal["fr", "en", "ee"] = "fr"


class ServerSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    public_url: str = ""
    #: reverse proxies in front (nginx, ...): trust that many X-Forwarded-For/-Proto/-Host
    trusted_proxies: int = Field(0, ge=0, le=5)


class DatabaseSettings(_Section):
    url: str = ""
    pool_size: int = Field(5, ge=1, le=100)
    echo: bool = False


class RedisSettings(_Section):
    url: str = ""


class UssdSettings(_Section):
    screen_limit: int = Field(160, ge=60, le=182)
    session_ttl_seconds: int = Field(240, ge=30, le=3600)
    draft_ttl_seconds: int = Field(900, ge=0, le=86400)
    reference_lookups_per_hour: int = Field(10, ge=1, le=1000)
    hop_deadline_seconds: float = Field(2.0, gt=0, le=10)


class QuietHours(_Section):
    start: str = Field("21:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    end: str = Field("07:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")


class SmsSettings(_Section):
    provider: Literal["auto", "africastalking", "log"] = "auto"
    sender_id: str = Field("", max_length=11)
    allowed_country_codes: tuple[str, ...] = ("228",)
    per_number_daily_cap: int = Field(10, ge=1)
    daily_budget: int = Field(5000, ge=0)
    quiet_hours: QuietHours = QuietHours()
    fold_staff_text: bool = True
    connect_timeout_seconds: float = Field(3.05, gt=0, le=60)
    read_timeout_seconds: float = Field(10.0, gt=0, le=120)
    #: a provider that times out after taking the request: resend (true) or keep the row
    #: ``ambiguous`` for staff (false: never a duplicate, but maybe a lost SMS)
    retry_after_timeout: bool = True
    retry_intervals_seconds: tuple[int, ...] = (10, 30, 60, 300, 900)
    sweep_interval_seconds: int = Field(60, ge=5)
    stuck_sending_seconds: int = Field(300, ge=30)
    send_concurrency: int = Field(32, ge=1, le=256)

    @field_validator("allowed_country_codes")
    @classmethod
    def _digits_only(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for code in value:
            if not code.isdigit() or not 1 <= len(code) <= 3:
                raise ValueError(f"country calling codes are 1-3 digits without '+', got {code!r}")
        return value


class AfricasTalkingSettings(_Section):
    username: str = ""
    base_url: str = ""


class StaffSettings(_Section):
    session_hours: int = Field(10, ge=1, le=168)
    login_attempts_per_15min: int = Field(5, ge=1)
    page_size: int = Field(50, ge=10, le=500)


class LoggingSettings(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class Settings(_Section):
    """Everything the gateway needs, read once at start-up. Frozen."""

    data_dir: str = "var"
    commune: CommuneSettings = CommuneSettings()
    server: ServerSettings = ServerSettings()
    database: DatabaseSettings = DatabaseSettings()
    redis: RedisSettings = RedisSettings()
    ussd: UssdSettings = UssdSettings()
    sms: SmsSettings = SmsSettings()
    africastalking: AfricasTalkingSettings = AfricasTalkingSettings()
    staff: StaffSettings = StaffSettings()
    logging: LoggingSettings = LoggingSettings()
    # secrets: environment only (see SECRET_ENV)
    secret_key: str = ""
    callback_token: str = ""
    at_api_key: str = ""
    #: directory config.yaml was read from; relative paths resolve against it
    base_dir: str = str(PROJECT_DIR)

    def path(self, relative: str) -> Path:
        """Resolve a path from the settings against the config file's folder."""
        p = Path(relative)
        if p.is_absolute():
            return p
        candidate = Path(self.base_dir) / p
        if candidate.exists() or relative == self.data_dir:
            return candidate
        # menus and catalogue ship inside the installed package too
        return PROJECT_DIR / p

    @property
    def data_path(self) -> Path:
        return self.path(self.data_dir)

    @property
    def embedded_database(self) -> bool:
        return not self.database.url

    @property
    def embedded_redis(self) -> bool:
        return not self.redis.url

    @property
    def sms_provider(self) -> str:
        """The provider actually used: 'auto' means AT when credentials are set, else log."""
        if self.sms.provider != "auto":
            return self.sms.provider
        return "africastalking" if self.africastalking.username and self.at_api_key else "log"

    def database_url(self) -> str:
        if self.database.url:
            return self.database.url
        return f"sqlite:///{self.data_path / 'ussd-gateway.sqlite3'}"


def _format_validation_error(exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"]) or "(top level)"
        if err["type"] == "extra_forbidden":
            lines.append(f"{key}: unknown key")
        else:
            lines.append(f"{key}: {err['msg']} (got {err.get('input')!r})")
    return "; ".join(lines)


def config_path_from_env(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    if env.get("USSD_GATEWAY_CONFIG"):
        return Path(env["USSD_GATEWAY_CONFIG"])
    return Path.cwd() / DEFAULT_CONFIG_NAME


def load_settings(
    config_path: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Read config.yaml (or USSD_GATEWAY_CONFIG), apply environment overrides, validate.

    ``overrides`` is a nested mapping applied last (tests and the CLI's flags use it).
    """
    env = os.environ if environ is None else environ
    path = Path(config_path) if config_path else config_path_from_env(env)
    raw: dict[str, Any] = {}
    if path.exists():
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise SettingsError(f"{path}: not valid YAML: {exc}") from exc
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise SettingsError(f"{path}: expected a mapping of sections at the top level")
        raw = loaded
    elif config_path or env.get("USSD_GATEWAY_CONFIG"):
        raise SettingsError(f"{path}: configuration file not found")
    for secret in SECRET_ENV:
        if secret in raw:
            raise SettingsError(
                f"{path}: {secret}: secrets are not read from the file; "
                f"set {SECRET_ENV[secret]} in the environment"
            )
    data: dict[str, Any] = {k: (dict(v) if isinstance(v, dict) else v) for k, v in raw.items()}
    for var, (section, key) in ENV_OVERRIDES.items():
        if env.get(var):
            section_data = data.setdefault(section, {})
            if not isinstance(section_data, dict):
                raise SettingsError(f"{path}: {section}: expected a mapping")
            section_data[key] = env[var]
    for secret, var in SECRET_ENV.items():
        if env.get(var):
            data[secret] = env[var]
    for key, value in (overrides or {}).items():
        if isinstance(value, Mapping) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    # relative paths resolve against the config file's folder (the working folder without one)
    data.setdefault("base_dir", str(path.resolve().parent if path.exists() else Path.cwd()))
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise SettingsError(f"{path}: {_format_validation_error(exc)}") from None
