"""The `ussd-gateway` command."""
from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from ussd_gateway.settings import Settings, SettingsError, load_settings


def _settings(ctx: click.Context) -> Settings:
    try:
        return load_settings(ctx.obj.get("config"))
    except SettingsError as exc:
        click.echo(f"Configuration invalide: {exc}", err=True)
        ctx.exit(2)
        raise AssertionError  # unreachable


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="config.yaml to read (default: USSD_GATEWAY_CONFIG, else ./config.yaml; built-in defaults without one).",
)
@click.pass_context
def main(ctx: click.Context, config: Path | None) -> None:
    """USSD & SMS gateway of the commune: residents' requests by USSD, alerts by SMS."""
    ctx.ensure_object(dict)
    ctx.obj["config"] = config


@main.command()
@click.option("--host", default=None, help="Address to listen on (default from config: 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port to listen on (default from config: 8000).")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None) -> None:
    """Run everything on this machine: database, Redis, web app and SMS worker.

    With nothing configured it uses a SQLite file and an embedded Redis server in data_dir;
    with USSD_GATEWAY_DATABASE_URL / USSD_GATEWAY_REDIS_URL it uses those.
    """
    from ussd_gateway.embedded import serve as run_serve

    settings = _settings(ctx)
    with _clear_start_up_errors(ctx):
        code = run_serve(
            settings, host or settings.server.host, port if port is not None else settings.server.port
        )
    sys.exit(code)


@contextmanager
def _clear_start_up_errors(ctx: click.Context) -> Iterator[None]:
    """Broken menus, catalogue or templates, an unreachable database or Redis: a clear message
    instead of a traceback, exit 1."""
    from redis.exceptions import RedisError
    from sqlalchemy.exc import OperationalError

    from menus.problems import MenuDefinitionError
    from sms.templates import TemplateError
    from ussd_gateway.catalogue import CatalogueError

    try:
        yield
    except (MenuDefinitionError, TemplateError, CatalogueError) as exc:
        click.echo(f"Démarrage impossible, définitions invalides:\n{exc}", err=True)
        ctx.exit(1)
    except OperationalError as exc:
        click.echo(f"Base de données injoignable ou non migrée: {exc.orig}", err=True)
        ctx.exit(1)
    except RedisError as exc:
        click.echo(f"Redis injoignable: {exc}", err=True)
        ctx.exit(1)


@main.command()
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@click.pass_context
def worker(ctx: click.Context, burst: bool) -> None:
    """Run the SMS worker (RQ worker with its scheduler and the outbox sweeper)."""
    from ussd_gateway.app import configure_logging
    from ussd_gateway.runtime import build_runtime, ensure_local_secrets
    from workers.worker import run_worker

    settings = ensure_local_secrets(_settings(ctx))
    configure_logging(settings.logging.level)
    try:
        runtime = build_runtime(settings)
    except RuntimeError as exc:
        click.echo(str(exc), err=True)
        ctx.exit(2)
    with _clear_start_up_errors(ctx):
        run_worker(runtime, burst=burst)


@main.group()
def db() -> None:
    """Database schema (alembic migrations)."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
@click.pass_context
def db_upgrade(ctx: click.Context, revision: str) -> None:
    """Apply migrations, then add catalogue services missing from the database."""
    from ussd_gateway.catalogue import seed_catalogue
    from ussd_gateway.db import make_engine, make_session_factory, transaction, upgrade_database

    settings = _settings(ctx)
    with _clear_start_up_errors(ctx):
        upgrade_database(settings.database_url(), revision)
        if revision == "head":
            sessions = make_session_factory(make_engine(settings.database_url()))
            with transaction(sessions) as session:
                added = seed_catalogue(session, settings.path(settings.commune.catalogue_file))
    if revision == "head":
        click.echo(f"Base à jour ({added} service(s) ajouté(s) au catalogue).")
    else:
        click.echo(f"Base migrée jusqu'à {revision}.")


@main.group()
def staff() -> None:
    """Staff accounts."""


@staff.command("add")
@click.argument("email")
@click.option("--role", type=click.Choice(["agent", "supervisor", "admin"]), required=True)
@click.option("--name", "full_name", default="", help="Full name shown in the history.")
@click.option("--service", "services", multiple=True, help="Service code an agent processes (repeat).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.pass_context
def staff_add(
    ctx: click.Context,
    email: str,
    role: str,
    full_name: str,
    services: tuple[str, ...],
    password_stdin: bool,
) -> None:
    """Create a staff account (the password is prompted unless --password-stdin)."""
    from ussd_gateway.db import make_engine, make_session_factory, transaction
    from ussd_gateway.staff_accounts import StaffAccountError, create_staff

    settings = _settings(ctx)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Mot de passe", hide_input=True, confirmation_prompt=True)
    sessions = make_session_factory(make_engine(settings.database_url()))
    try:
        with _clear_start_up_errors(ctx), transaction(sessions) as session:
            create_staff(session, email, password, role, full_name=full_name, services=services)
    except StaffAccountError as exc:
        click.echo(f"Refusé: {exc}", err=True)
        ctx.exit(1)
    click.echo(f"Compte {role} créé pour {email}.")


@main.group()
def menus() -> None:
    """USSD menus and SMS texts."""


@menus.command("check")
@click.option(
    "--path",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Menu folder to check (default: commune.menus_dir).",
)
@click.pass_context
def menus_check(ctx: click.Context, path: Path | None) -> None:
    """Check the whole menu graph and every SMS template; exit 1 on any problem."""
    from menus.check import menus_check_report
    from sms.templates import templates_check_report
    from ussd_gateway.ussd_actions import UssdHandlers

    settings = _settings(ctx)
    folder = path or settings.path(settings.commune.menus_dir)
    catalogue = settings.path(settings.commune.catalogue_file)
    report, code = menus_check_report(
        folder,
        screen_limit=settings.ussd.screen_limit,
        known_actions=UssdHandlers.ACTIONS,
        known_sources=UssdHandlers.SOURCES,
        catalogue_path=catalogue if path is None else None,
    )
    click.echo(report)
    sms_report, sms_code = templates_check_report(
        values={
            "commune": settings.commune.name,
            "ussd": settings.commune.ussd_code,
            "horaires": settings.commune.opening_hours,
        },
        catalogue_path=catalogue,
    )
    click.echo(sms_report)
    ctx.exit(1 if code or sms_code else 0)


@main.command()
@click.option("--url", default=None, help="Gateway base URL (http://host:port, the local token is added) or full USSD callback URL; default: the local gateway.")
@click.option("--in-process", is_flag=True, help="Run the gateway inside this process instead.")
@click.option("--phone", default="+22890000001", show_default=True, help="The phone number to dial from.")
@click.option("--service-code", default=None, help="Short code dialled (default from config).")
@click.pass_context
def simulate(
    ctx: click.Context, url: str | None, in_process: bool, phone: str, service_code: str | None
) -> None:
    """A terminal phone: type keys, see screens, as Africa's Talking would send them."""
    from ussd_gateway.simulate import run_simulator

    settings = _settings(ctx)
    sys.exit(run_simulator(settings, url=url, in_process=in_process, phone=phone,
                           service_code=service_code or settings.commune.ussd_code))


if __name__ == "__main__":
    main()
