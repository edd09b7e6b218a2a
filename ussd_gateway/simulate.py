"""`ussd-gateway simulate`: a terminal phone that talks to the gateway as Africa's Talking does.

Each key typed is one hop: a form POST with sessionId, serviceCode, phoneNumber, networkCode
and ``text`` = every answer so far joined by ``*``. Over HTTP to a running gateway, or in this
process (embedded SQLite + Redis in data_dir). Lines may also come from a pipe, one answer per
line, which is how the README's sample session was recorded.
"""
from __future__ import annotations

import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from ussd_gateway.settings import Settings

Poster = Callable[[dict[str, str]], tuple[int, str]]


def _http_poster(url: str) -> Poster:
    import requests

    session = requests.Session()

    def post(form: dict[str, str]) -> tuple[int, str]:
        resp = session.post(url, data=form, timeout=15)
        return resp.status_code, resp.text

    return post


@contextmanager
def _in_process_poster(settings: Settings) -> Iterator[Poster]:
    from ussd_gateway.app import create_app
    from ussd_gateway.bootstrap import prepare_database
    from ussd_gateway.redis_conn import EmbeddedRedis
    from ussd_gateway.runtime import build_runtime, ensure_local_secrets

    settings = ensure_local_secrets(settings)
    embedded = None
    redis_url = settings.redis.url
    if not redis_url:
        embedded = EmbeddedRedis(settings.data_path / "redis")
        redis_url = embedded.start()
    try:
        runtime = build_runtime(settings, redis_url=redis_url)
        prepare_database(settings, runtime.sessions)
        client = create_app(runtime=runtime).test_client()
        path = f"/africastalking/{settings.callback_token}/ussd"

        def post(form: dict[str, str]) -> tuple[int, str]:
            resp = client.post(path, data=form)
            return resp.status_code, resp.get_data(as_text=True)

        yield post
    finally:
        if embedded is not None:
            embedded.stop()


def callback_url(settings: Settings, url: str | None) -> str:
    """The USSD callback URL to post to: ``url`` if it is one, else ``url`` (a base such as
    ``http://127.0.0.1:8000``, default the configured server) + the local callback token."""
    from ussd_gateway.runtime import ensure_local_secrets

    if url and "/africastalking/" in url:
        return url
    if not url:
        host = "127.0.0.1" if settings.server.host in ("0.0.0.0", "::") else settings.server.host
        url = f"http://{host}:{settings.server.port}"
    token = ensure_local_secrets(settings).callback_token
    return f"{url.rstrip('/')}/africastalking/{token}/ussd"


def play(post: Poster, phone: str, service_code: str, read_key: Callable[[], str | None]) -> int:
    """Dial once and play until END or hang-up; print every screen."""
    session_id = f"SIM-{uuid.uuid4().hex[:16]}"
    answers: list[str] = []
    while True:
        form = {
            "sessionId": session_id,
            "serviceCode": service_code,
            "phoneNumber": phone,
            "networkCode": "99999",
            "text": "*".join(answers),
        }
        status, body = post(form)
        print(f"\n┌─ {status} ─ {len(body) - 4 if body[:4] in ('CON ', 'END ') else len(body)} car.")
        for line in body[4:].split("\n") if body[:4] in ("CON ", "END ") else body.split("\n"):
            print(f"│ {line}")
        print("└────────────")
        if status != 200 or not body.startswith("CON "):
            return 0 if status == 200 else 1
        key = read_key()
        if key is None:
            print("(raccroché)")
            return 0
        answers.append(key)


def run_simulator(
    settings: Settings, *, url: str | None, in_process: bool, phone: str, service_code: str
) -> int:
    interactive = sys.stdin.isatty()

    def read_key() -> str | None:
        try:
            line = input("> ") if interactive else sys.stdin.readline()
        except (EOFError, KeyboardInterrupt):
            return None
        if not interactive:
            if line == "":
                return None
            line = line.rstrip("\n")
            print(f"> {line}")
        return line

    if interactive:
        print("Téléphone simulé: tapez votre réponse puis Entrée; Ctrl-D pour raccrocher.")
    try:
        if in_process:
            with _in_process_poster(settings) as post:
                return play(post, phone, service_code, read_key)
        return play(_http_poster(callback_url(settings, url)), phone, service_code, read_key)
    except OSError as exc:
        print(f"Passerelle injoignable: {exc}", file=sys.stderr)
        return 2
