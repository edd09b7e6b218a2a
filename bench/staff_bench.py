"""Benchmark of the staff view with 100,000 requests in PostgreSQL (run by hand, not a test).

It creates its own PostgreSQL database, runs the real migrations, seeds the catalogue, then
bulk-loads residents, requests, their status history and their SMS with COPY. It then measures,
through the real Flask app (test client: routing, sign-in session, SQL, Jinja rendering), the
p50 / p95 of the list page, several filters, the search, the request detail and the dashboard,
and prints a Markdown table. The database is dropped at the end unless --keep is given.

    .venv/bin/python bench/staff_bench.py                      # 100,000 requests
    .venv/bin/python bench/staff_bench.py --rows 20000 --runs 20 --keep

Needs a PostgreSQL server (--server-url, trust auth by default) and a Redis server (--redis-url:
only sign-in throttling counters are written there, nothing is flushed).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import re
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from ussd_gateway.app import create_app  # noqa: E402
from ussd_gateway.bootstrap import prepare_database  # noqa: E402
from ussd_gateway.db import transaction  # noqa: E402
from ussd_gateway.lifecycle import OPEN_STATUSES  # noqa: E402
from ussd_gateway.references import damm_check_digit, format_reference  # noqa: E402
from ussd_gateway.runtime import build_runtime  # noqa: E402
from ussd_gateway.settings import load_settings  # noqa: E402
from ussd_gateway.staff_accounts import create_staff  # noqa: E402

PASSWORD = "benchmark password 2026"
QUARTIERS = ["tokoin_elavagnon", "tokoin_gbonvie", "doumassesse", "tokoin_kleve", "kelegouvi",
             "massouhoin", "ahanoukope_est"]
#: status -> weight (a year of activity: most requests are closed)
STATUS_WEIGHTS = {
    "recue": 6, "a_completer": 3, "attente_paiement": 2, "en_instruction": 4, "en_cours": 5,
    "disponible": 3, "delivree": 40, "resolue": 15, "rejetee": 6, "hors_competence": 5,
    "doublon": 3, "annulee": 4, "expiree": 4,
}
SERVICE_WEIGHTS = {
    "EC01": 30, "EC02": 8, "EC03": 4, "EC04": 3, "EC05": 1, "AU01": 20, "AU02": 8, "AT01": 8,
    "AT02": 3, "UR01": 2, "UR02": 2, "FI01": 3, "SI01": 4, "SI02": 3, "SI03": 1,
}
CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def new_reference(rng: random.Random) -> str:
    body = str(rng.randrange(1, 10)) + "".join(str(rng.randrange(10)) for _ in range(7))
    return body + damm_check_digit(body)


def create_database(server_url: str, name: str) -> str:
    url = make_url(server_url.replace("postgresql://", "postgresql+psycopg://", 1))
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def drop_database(server_url: str, name: str) -> None:
    url = make_url(server_url.replace("postgresql://", "postgresql+psycopg://", 1))
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = :n AND pid <> pg_backend_pid()"), {"n": name})
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


def seed(runtime, rows: int, rng: random.Random) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """Bulk-load ``rows`` requests (and residents, history, SMS) with COPY; return samples."""
    with transaction(runtime.sessions) as session:
        supervisor = create_staff(session, "superviseur@bench.tg", PASSWORD, "supervisor",
                                  full_name="Superviseur Bench")
        agent = create_staff(session, "agent@bench.tg", PASSWORD, "agent", full_name="Agent Bench",
                             services=["EC01", "EC02", "EC03"])
        others = [
            create_staff(session, f"agent{i}@bench.tg", PASSWORD, "agent", full_name=f"Agent {i}",
                         services=[code])
            for i, code in enumerate(SERVICE_WEIGHTS)
        ]
        session.flush()
        staff_ids = [agent.id] + [o.id for o in others]
        supervisor_id, agent_id = supervisor.id, agent.id
        delays = dict(session.execute(text("SELECT code, delay_days FROM service")).all())

    now = dt.datetime.now(dt.timezone.utc)
    residents = max(1, rows * 2 // 5)
    phones = [f"+2289{rng.randrange(10_000_000):07d}" for _ in range(residents)]
    phones = list(dict.fromkeys(phones))
    statuses = list(STATUS_WEIGHTS)
    status_w = list(STATUS_WEIGHTS.values())
    services = list(SERVICE_WEIGHTS)
    service_w = list(SERVICE_WEIGHTS.values())
    references: set[str] = set()
    history: list[tuple[int, str, dt.datetime, dt.datetime]] = []
    samples: dict[str, object] = {}

    raw = runtime.engine.raw_connection()
    try:
        conn = raw.driver_connection
        with conn.cursor() as cur:
            with cur.copy("COPY resident (id, phone, language, language_chosen, consent_at, "
                          "consent_version, created_at, updated_at) FROM STDIN") as copy:
                for i, phone in enumerate(phones, start=1):
                    copy.write_row((i, phone, "fr", True, now, "2026-11", now, now))
            with cur.copy(
                "COPY service_request (id, reference, service_code, resident_id, channel, status, "
                "answers, quartier, language, created_at, updated_at, closed_at, expected_date, "
                "assignee_id, version) FROM STDIN"
            ) as copy:
                for rid in range(1, rows + 1):
                    ref = new_reference(rng)
                    while ref in references:
                        ref = new_reference(rng)
                    references.add(ref)
                    code = rng.choices(services, service_w)[0]
                    status = rng.choices(statuses, status_w)[0]
                    # newer requests are more often still open
                    age_days = rng.random() ** 1.5 * 365
                    if status in OPEN_STATUSES and rng.random() < 0.7:
                        age_days = rng.random() * 20
                    created = now - dt.timedelta(days=age_days, seconds=rng.randrange(86400))
                    closed = None
                    if status not in OPEN_STATUSES:
                        closed = min(now, created + dt.timedelta(days=rng.random() * 12 + 0.2))
                    expected = (created + dt.timedelta(days=delays[code])).date()
                    assignee = rng.choice(staff_ids) if rng.random() < 0.6 else None
                    answers = json.dumps([
                        {"field": "nom", "label": "Nom du titulaire", "value": "Kossi Mensah",
                         "display": "Kossi Mensah"},
                        {"field": "copies", "label": "Nombre de copies", "value": 2, "display": "2"},
                    ])
                    copy.write_row((rid, ref, code, rng.randrange(1, len(phones) + 1), "ussd", status,
                                    answers, rng.choice(QUARTIERS), "fr", created, closed or created,
                                    closed, expected, assignee, 1 if status == "recue" else 2))
                    history.append((rid, status, created, closed or created))
                    if rid == rows // 2:
                        samples["reference"] = ref
                        samples["request_id"] = rid
                    if code == "EC01" and "agent_request_id" not in samples:
                        samples["agent_request_id"] = rid
            with cur.copy("COPY status_change (request_id, from_status, to_status, actor_id, at, "
                          "public_note, internal_note) FROM STDIN") as copy:
                for rid, status, created, changed in history:
                    copy.write_row((rid, None, "recue", None, created, "", ""))
                    if status != "recue":
                        copy.write_row((rid, "recue", status, rng.choice(staff_ids), changed,
                                        "", "Traité au guichet"))
            with cur.copy(
                "COPY outbound_sms (dedupe_key, request_id, event, to_phone, language, body, "
                "immediate, status, attempts, provider, provider_message_id, segments, encoding, "
                "created_at, updated_at, sent_at) FROM STDIN"
            ) as copy:
                for rid, status, created, changed in history:
                    copy.write_row((f"req:{rid}:recue", rid, "recue", phones[0], "fr",
                                    "Mairie Golfe 3: demande enregistrée. Ref 000 000 000.", True,
                                    "delivered", 1, "africastalking", f"ATXid_{rid}", 1, "GSM-7",
                                    created, created, created))
            for table in ("resident", "service_request", "status_change", "outbound_sms"):
                cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                            f"(SELECT max(id) FROM {table}))")
        conn.commit()
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("VACUUM ANALYZE")
    finally:
        raw.close()
    samples.update(supervisor_id=supervisor_id, agent_id=agent_id, phone=phones[1])
    return samples


@dataclass
class Result:
    name: str
    p50: float
    p95: float
    max: float
    bytes: int


def sign_in(app, email: str):  # type: ignore[no-untyped-def]
    client = app.test_client()
    page = client.get("/staff/connexion").get_data(as_text=True)
    token = CSRF_RE.search(page).group(1)  # type: ignore[union-attr]
    response = client.post("/staff/connexion",
                           data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302, "sign-in failed"
    return client


def measure(name: str, call: Callable[[], object], runs: int, warmup: int = 3) -> Result:
    for _ in range(warmup):
        call()
    times = []
    size = 0
    for _ in range(runs):
        start = time.perf_counter()
        response = call()
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (name, response.status_code)  # type: ignore[attr-defined]
        size = len(response.get_data())  # type: ignore[attr-defined]
    times.sort()
    p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
    return Result(name, statistics.median(times), p95, times[-1], size)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=40, help="timed runs per page")
    parser.add_argument("--server-url", default=os.environ.get(
        "USSD_GATEWAY_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--redis-url", default=os.environ.get(
        "USSD_GATEWAY_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14"))
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args(argv)

    name = f"staff_bench_{os.getpid()}_{secrets.token_hex(2)}"
    database_url = create_database(args.server_url, name)
    print(f"database {name}: seeding {args.rows:,} requests…", file=sys.stderr)
    try:
        data_dir = Path(tempfile.mkdtemp(prefix="staff-bench-"))
        settings = load_settings(REPO / "config.yaml", environ={}, overrides={
            "data_dir": str(data_dir), "database": {"url": database_url},
            "redis": {"url": args.redis_url}, "secret_key": secrets.token_urlsafe(32),
            "callback_token": secrets.token_urlsafe(24), "sms": {"provider": "log"},
            "logging": {"level": "WARNING"},
        })
        runtime = build_runtime(settings)
        prepare_database(settings, runtime.sessions)
        started = time.perf_counter()
        samples = seed(runtime, args.rows, random.Random(20261128))
        print(f"seeded in {time.perf_counter() - started:.1f} s", file=sys.stderr)

        app = create_app(runtime=runtime)
        boss = sign_in(app, "superviseur@bench.tg")
        agent = sign_in(app, "agent@bench.tg")
        ref = str(samples["reference"])
        since = (dt.date.today() - dt.timedelta(days=30)).isoformat()
        until = (dt.date.today() - dt.timedelta(days=10)).isoformat()
        scenarios: list[tuple[str, Callable[[], object]]] = [
            ("list (supervisor, page 1)", lambda: boss.get("/staff/demandes")),
            ("list page 40", lambda: boss.get("/staff/demandes?page=40")),
            ("list (agent, 3 services)", lambda: agent.get("/staff/demandes")),
            ("filter status=en_cours", lambda: boss.get("/staff/demandes?statut=en_cours")),
            ("filter open requests", lambda: boss.get("/staff/demandes?statut=ouvertes")),
            ("filter service=AU01", lambda: boss.get("/staff/demandes?service=AU01")),
            ("filter quartier", lambda: boss.get("/staff/demandes?quartier=kelegouvi")),
            ("filter date range (20 days)", lambda: boss.get(f"/staff/demandes?du={since}&au={until}")),
            ("filter overdue", lambda: boss.get("/staff/demandes?retard=1")),
            ("filter assignee (me, agent)", lambda: agent.get("/staff/demandes?agent=moi")),
            ("filters combined", lambda: boss.get(
                f"/staff/demandes?statut=delivree&service=EC01&quartier=massouhoin&du={since}")),
            ("search reference (spaced)", lambda: boss.get(
                "/staff/demandes", query_string={"q": format_reference(ref)})),
            ("search phone", lambda: boss.get(
                "/staff/demandes", query_string={"q": str(samples["phone"])[4:]})),
            ("request detail", lambda: boss.get(f"/staff/demandes/{samples['request_id']}")),
            ("dashboard", lambda: boss.get("/staff/tableau-de-bord")),
        ]
        load_before = os.getloadavg()[0]
        results = [measure(label, call, args.runs) for label, call in scenarios]
        load_after = os.getloadavg()[0]
        print(f"\n{args.rows:,} requests in PostgreSQL, {args.runs} runs per page after 3 warm-up "
              f"runs, through the Flask app (test client); load average {load_before:.1f} before, "
              f"{load_after:.1f} after, {os.cpu_count()} CPUs\n")
        print("| page | p50 (ms) | p95 (ms) | max (ms) | < 200 ms p95 |")
        print("|---|---:|---:|---:|:---:|")
        for r in results:
            print(f"| {r.name} | {r.p50:.1f} | {r.p95:.1f} | {r.max:.1f} | "
                  f"{'yes' if r.p95 < 200 else 'NO'} |")
        runtime.close()
        return 0 if all(r.p95 < 200 for r in results) else 1
    finally:
        if args.keep:
            print(f"kept database {name} ({database_url})", file=sys.stderr)
        else:
            drop_database(args.server_url, name)


if __name__ == "__main__":
    raise SystemExit(main())
