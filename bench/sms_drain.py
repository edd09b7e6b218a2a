"""Benchmark: drain N queued SMS notifications through real workers to the fake provider.

    .venv/bin/python bench/sms_drain.py [--count 10000] [--delays 0,200] [--processes 1]

For each provider delay (ms): a fresh PostgreSQL database (created and dropped by the script),
N outbox rows to N different numbers committed and enqueued, then ``ussd-gateway worker``
subprocess(es) (the production worker: thread pool of ``sms.send_concurrency``, scheduler,
sweeper) drain them to the fake Africa's Talking server (a real HTTP server in this process)
answering after the delay. It checks that every number received exactly one SMS and that every
row is ``sent``, and prints SMS/s measured from the first request the provider received to the
last one (worker start-up excluded; the wall time including it is printed too).

Uses its own Redis database number (default 12) and refuses one that holds keys. Run by hand:
it is not a test. Issue #6 target: >= 100 SMS/s at 200 ms with the default worker setup.
"""
from __future__ import annotations

import argparse
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import redis
import yaml
from sqlalchemy import create_engine, func, insert, select, text
from sqlalchemy.engine import make_url

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.fake_africastalking import FakeAfricasTalking  # noqa: E402
from ussd_gateway.bootstrap import prepare_database  # noqa: E402
from ussd_gateway.db import transaction  # noqa: E402
from ussd_gateway.models import OutboundSms, utcnow  # noqa: E402
from ussd_gateway.runtime import build_runtime  # noqa: E402
from ussd_gateway.settings import load_settings  # noqa: E402
from workers.queues import enqueue_outbox_sms  # noqa: E402

AT_USERNAME = "bench"
AT_API_KEY = "bench-api-key"
BODY = ("Mairie Golfe 3: demande Copie d'acte de naissance enregistrée. Ref 250 042 175. "
        "Délai indicatif 3 jours. Suivi: *384*2# puis 2. Gardez cette ref.")


def throwaway_database(server_url: str) -> tuple[str, object]:
    url = make_url(server_url.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"ussd_bench_{os.getpid()}_{secrets.token_hex(3)}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = :n AND pid <> pg_backend_pid()"), {"n": name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()

    return url.set(database=name).render_as_string(hide_password=False), drop


def run_one(args: argparse.Namespace, delay_ms: int, folder: Path) -> dict[str, float]:
    database_url, drop = throwaway_database(args.database_url)
    client = redis.Redis.from_url(args.redis_url)
    fake = FakeAfricasTalking(username=AT_USERNAME, api_key=AT_API_KEY, delay_ms=delay_ms).start()
    workers: list[subprocess.Popen[bytes]] = []
    try:
        sms: dict[str, object] = {
            "provider": "africastalking", "sender_id": "GOLFE3",
            "daily_budget": args.count * 2, "quiet_hours": {"start": "00:00", "end": "00:00"},
        }
        if args.concurrency:
            sms["send_concurrency"] = args.concurrency
        config = {
            "data_dir": str(folder / "data"),
            "database": {"url": database_url, "pool_size": 5},
            "redis": {"url": args.redis_url},
            "sms": sms,
            "africastalking": {"username": AT_USERNAME, "base_url": fake.url},
            "logging": {"level": "WARNING"},
        }
        config_path = folder / f"bench-{delay_ms}.yaml"
        config_path.write_text(yaml.safe_dump(config), encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith("USSD_GATEWAY_")}
        env.update(USSD_GATEWAY_CONFIG=str(config_path), USSD_GATEWAY_AT_API_KEY=AT_API_KEY,
                   USSD_GATEWAY_SECRET_KEY="bench", USSD_GATEWAY_CALLBACK_TOKEN="bench",
                   PYTHONPATH=str(REPO))
        settings = load_settings(config_path, environ=env)
        runtime = build_runtime(settings)
        prepare_database(settings, runtime.sessions)

        now = utcnow()
        rows = [
            dict(dedupe_key=f"bench:{i}", event="recue", to_phone=f"+22890{i:06d}", language="fr",
                 body=BODY, immediate=True, status="pending", created_at=now, updated_at=now,
                 segments=1, encoding="GSM-7", attempts=0)
            for i in range(args.count)
        ]
        with transaction(runtime.sessions) as session:
            session.execute(insert(OutboundSms), rows)
            ids = list(session.scalars(select(OutboundSms.id).order_by(OutboundSms.id)))
        enqueue_outbox_sms(client, ids)
        print(f"  {args.count} notifications committed and enqueued; provider delay {delay_ms} ms; "
              f"{args.processes} worker process(es) x {settings.sms.send_concurrency} sends in flight",
              flush=True)

        load_before = os.getloadavg()[0]
        started = time.monotonic()
        for n in range(args.processes):
            log_file = (folder / f"worker-{delay_ms}-{n}.log").open("wb")
            workers.append(subprocess.Popen(
                [sys.executable, "-m", "ussd_gateway.cli", "worker"], cwd=str(REPO), env=env,
                stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True))
        deadline = started + args.timeout
        while True:
            with transaction(runtime.sessions) as session:
                sent = session.scalar(
                    select(func.count()).where(OutboundSms.status == "sent")) or 0
            if sent >= args.count or time.monotonic() > deadline:
                break
            time.sleep(0.25)
        wall = time.monotonic() - started

        requests = fake.requests
        per_number = Counter(n for r in requests if r.accepted for n in r.numbers)
        with transaction(runtime.sessions) as session:
            statuses = dict(session.execute(
                select(OutboundSms.status, func.count()).group_by(OutboundSms.status)).all())
        exactly_once = (len(per_number) == args.count and set(per_number.values()) == {1}
                        and len(requests) == args.count and statuses == {"sent": args.count})
        first = min(r.received_at for r in requests).timestamp() if requests else 0.0
        last = max(r.received_at for r in requests).timestamp() if requests else 0.0
        span = max(last - first, 1e-9)
        runtime.close()
        load = (load_before + os.getloadavg()[0]) / 2
        return {"delay_ms": delay_ms, "load": load, "sent": sent, "span_s": span, "wall_s": wall,
                "sms_per_s": len(requests) / span, "exactly_once": exactly_once,
                "statuses": statuses}
    finally:
        for worker in workers:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGTERM)
        for worker in workers:
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
        fake.stop()
        client.flushdb()
        client.close()
        drop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--delays", default="0,200", help="provider delays in ms, comma-separated")
    parser.add_argument("--processes", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument("--concurrency", type=int, default=0,
                        help="sends in flight per process (default: settings, 32)")
    parser.add_argument("--database-url", default=os.environ.get(
        "BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--redis-url", default=os.environ.get(
        "BENCH_REDIS_URL", "redis://127.0.0.1:6379/12"))
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()

    client = redis.Redis.from_url(args.redis_url)
    if client.dbsize():
        print(f"{args.redis_url} holds keys: refusing to use (and flush) it", file=sys.stderr)
        return 2
    client.close()
    results = []
    with tempfile.TemporaryDirectory(prefix="sms-drain-") as tmp:
        for delay in (int(d) for d in args.delays.split(",")):
            print(f"provider answering in {delay} ms:", flush=True)
            result = run_one(args, delay, Path(tmp))
            results.append(result)
            print(f"  {result['sms_per_s']:.0f} SMS/s ({result['sent']} sent in "
                  f"{result['span_s']:.1f} s; wall {result['wall_s']:.1f} s with start-up); "
                  f"exactly once: {result['exactly_once']} {result['statuses']}; "
                  f"machine load average ~{result['load']:.1f}", flush=True)
    print(f"\n{os.cpu_count()} CPUs; the load average says how much of them others were using")
    print("| provider delay | SMS/s | drain time | exactly once | load average |")
    print("|---|---|---|---|---|")
    for r in results:
        print(f"| {r['delay_ms']} ms | {r['sms_per_s']:.0f} | {r['span_s']:.1f} s | "
              f"{'yes' if r['exactly_once'] else 'NO'} | {r['load']:.1f} |")
    return 0 if all(r["exactly_once"] for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
