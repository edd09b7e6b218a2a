#!/usr/bin/env python3
"""Count Redis and PostgreSQL round trips per USSD hop, from the outside.

Two small TCP proxies (asyncio, in this process) sit between the gateway and Redis /
PostgreSQL. A *round trip* is counted each time the gateway starts sending after it last
received (or on a fresh connection): a pipeline of 6 Redis commands is one round trip,
``BEGIN`` sent on its own by the driver is one, a pool pre-ping is one. Nothing in the gateway
is patched, so the numbers hold whatever the code does.

The gateway runs under gunicorn (``--workers``, default 1 so the warm-up sessions warm the
process that is measured) pointed at the proxies; sessions are played one hop at a time
(concurrency 1) so every round trip belongs to the hop in flight; after each reply the counters
are read once the connections are quiet. The figures are the steady state: the warm-up
sessions (connecting, psycopg preparing a statement on its 5th use) are not counted.

Example::

    python bench/roundtrips.py --database-url postgresql://postgres@127.0.0.1:5432/ussd_bench \\
        --redis-url redis://127.0.0.1:6379/14 --refs /tmp/refs.csv --sessions 20
Prints one JSON line: per journey and hop, the max/mean round trips of each kind.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ussd_load import BENCH_PREFIX, JOURNEYS, Conn, load_refs  # noqa: E402

TOKEN = "roundtripbench0123456789abcdef"


class CountingProxy:
    """Forward a TCP port to ``target``; count client turns (round trips) and connections."""

    def __init__(self, target_host: str, target_port: int, trace: bool = False) -> None:
        self.target = (target_host, target_port)
        self.trace = trace
        self.round_trips = 0
        self.connections = 0
        self.last_activity = time.monotonic()
        self.server: asyncio.AbstractServer | None = None

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def _serve(self, c_reader: asyncio.StreamReader, c_writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        s_reader, s_writer = await asyncio.open_connection(*self.target)
        turn = {"client_sent_last": False}

        async def pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, from_client: bool) -> None:
            try:
                while data := await reader.read(65536):
                    self.last_activity = time.monotonic()
                    if from_client and not turn["client_sent_last"]:
                        self.round_trips += 1
                        if self.trace:
                            print(f"  {self.target[1]} turn: {data[:120]!r}", file=sys.stderr)
                    turn["client_sent_last"] = from_client
                    writer.write(data)
                    await writer.drain()
            except (ConnectionError, asyncio.CancelledError):
                pass
            finally:
                writer.close()

        try:
            await asyncio.gather(pump(c_reader, s_writer, True), pump(s_reader, c_writer, False))
        except (ConnectionError, asyncio.CancelledError):
            pass

    def snapshot(self) -> tuple[int, int]:
        return self.round_trips, self.connections


def proxied(url: str, port: int) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)
    host = f"127.0.0.1:{port}"
    return urlunsplit(parts._replace(netloc=f"{netloc[0]}@{host}" if len(netloc) == 2 else host))


async def quiet(proxies: list[CountingProxy], idle: float = 0.03) -> None:
    """Wait until no proxied byte moved for ``idle`` seconds."""
    while time.monotonic() - max(p.last_activity for p in proxies) < idle:
        await asyncio.sleep(idle / 3)


async def measure(args: argparse.Namespace) -> dict[str, object]:
    db = urlsplit(args.database_url)
    rd = urlsplit(args.redis_url)
    pg_proxy = CountingProxy(db.hostname or "127.0.0.1", db.port or 5432, args.trace)
    redis_proxy = CountingProxy(rd.hostname or "127.0.0.1", rd.port or 6379, args.trace)
    pg_port, redis_port = await pg_proxy.start(), await redis_proxy.start()
    env = dict(os.environ,
               USSD_GATEWAY_DATABASE_URL=proxied(args.database_url, pg_port),
               USSD_GATEWAY_REDIS_URL=proxied(args.redis_url, redis_port),
               USSD_GATEWAY_CALLBACK_TOKEN=TOKEN,
               USSD_GATEWAY_SECRET_KEY=os.environ.get("USSD_GATEWAY_SECRET_KEY", TOKEN))
    cmd = [sys.executable, "-m", "gunicorn", "-w", str(args.workers), "-b",
           f"127.0.0.1:{args.port}", "--log-level", "warning", "ussd_gateway.wsgi:app"]
    server = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    refs = load_refs(args.refs)
    result: dict[str, object] = {}
    try:
        conn = Conn("127.0.0.1", args.port)
        deadline = time.monotonic() + 30
        while True:  # wait for the server
            try:
                await conn.open()
                conn.close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("gateway did not start: "
                                       + (server.stderr.read().decode()[-2000:] if server.stderr else ""))
                await asyncio.sleep(0.2)
        path = f"/africastalking/{TOKEN}/ussd"
        for name in args.journeys.split(","):
            journey = JOURNEYS[name]
            per_hop: dict[int, list[tuple[int, int]]] = {}
            # warm-up sessions, not counted: the workers connect, psycopg prepares each statement
            # on its 5th use (one extra round trip, once per connection), caches fill
            for n in range(-args.warmup, args.sessions):
                if journey.needs_refs:
                    phone, ref = refs[n % len(refs)]
                else:
                    phone, ref = f"{BENCH_PREFIX}{(args.phone_offset + n) % 30000:06d}", ""
                values = {"n": n, "copies": n % 5 + 1, "svc": 1, "ref": ref,
                          "ref_spaced": " ".join(ref[i:i + 3] for i in range(0, len(ref), 3))}
                answers: list[str] = []
                sid = f"ATUid_rt_{name}_{n}_{time.time_ns()}"
                for i in range(1 + len(journey.inputs)):
                    if i:
                        answers.append(journey.inputs[i - 1].format(**values))
                    body = urlencode({"sessionId": sid, "serviceCode": "*384*2#",
                                      "phoneNumber": phone, "networkCode": "99999",
                                      "text": "*".join(answers)}).encode()
                    await quiet([pg_proxy, redis_proxy])
                    r0, p0 = redis_proxy.round_trips, pg_proxy.round_trips
                    if args.trace:
                        print(f"{name} session {n} hop {i + 1}", file=sys.stderr)
                    status, data = await conn.post_form(path, body, False)
                    await quiet([pg_proxy, redis_proxy])
                    if status != 200:
                        raise RuntimeError(f"hop {i + 1} of {name}: HTTP {status} {data[:80]!r}")
                    if n >= 0:
                        per_hop.setdefault(i + 1, []).append(
                            (redis_proxy.round_trips - r0, pg_proxy.round_trips - p0))
            result[name] = {
                str(hop): {
                    "redis_max": max(r for r, _ in rows), "redis_mean": round(sum(r for r, _ in rows) / len(rows), 2),
                    "db_max": max(d for _, d in rows), "db_mean": round(sum(d for _, d in rows) / len(rows), 2),
                }
                for hop, rows in sorted(per_hop.items())
            }
        result["connections"] = {"redis": redis_proxy.connections, "postgresql": pg_proxy.connections}
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
    return result


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--database-url", required=True)
    p.add_argument("--redis-url", required=True)
    p.add_argument("--refs", type=Path, required=True, help="phone,reference CSV (seed.py)")
    p.add_argument("--journeys", default="start,follow,lookup")
    p.add_argument("--sessions", type=int, default=20, help="measured sessions per journey")
    p.add_argument("--workers", type=int, default=1,
                   help="gunicorn workers (1: every warm-up session warms the one measured)")
    p.add_argument("--warmup", type=int, default=8, help="sessions per journey not counted")
    p.add_argument("--port", type=int, default=8739)
    p.add_argument("--phone-offset", type=int, default=25000)
    p.add_argument("--trace", action="store_true", help="print each round trip's first bytes")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    print(json.dumps(asyncio.run(measure(args))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
