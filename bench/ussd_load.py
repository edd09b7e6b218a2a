#!/usr/bin/env python3
"""Closed-loop load client playing whole USSD sessions as Africa's Talking does.

Each session is one phone dialling the short code, then answering screen after screen: one
form POST per hop (``sessionId``, ``serviceCode``, ``phoneNumber``, ``networkCode``, ``text``),
``text`` being every answer so far joined by ``*`` (``""`` on the dial). ``--concurrency``
sessions are in flight at once; each worker starts its next session as soon as one ends.

Every reply is checked: HTTP 200, a body starting ``CON `` or ``END ``, ``CON`` on every hop but
the last, the journey's expected kind on the last (``END`` for a created request), the
journey's expected words on the last screen (the reference, the status…), and a text within
``--max-chars`` characters (160: the screen limit). Anything else is an error.

Journeys (the Golfe 3 menus; phones seeded by ``bench/seed.py`` have chosen their language
and given consent, so a dial shows the main menu):

* ``start``  dial, 1 Faire une demande, 1 État civil, 3 Copie d'acte de mariage, spouse's
  name, marriage date, copies, 1 Confirmer → ``END`` with the reference (8 hops)
* ``follow`` dial, 2 Suivre, 1 Mes demandes, 1 first request → its status (4 hops)
* ``lookup`` dial, 2 Suivre, 2 Entrer une référence, the reference typed with spaces → its
  status (4 hops)
* ``ceiling`` the 5-hop journey of ``ceiling_app.py`` (the least a Flask+Redis hop can do)

``start`` dials from ``+22891`` + 6 digits (``--phone-offset`` + n modulo ``--phones``);
``follow`` / ``lookup`` read ``phone,reference`` lines from ``--refs`` (written by seed.py).

Stdlib only (asyncio and a tiny HTTP/1.1 client), so the client is cheap and identical for
every target. The last line is JSON with hops_per_s, p50_ms, p99_ms, errors…

Example::

    python bench/ussd_load.py --url http://127.0.0.1:8000/africastalking/TOKEN/ussd \\
        --journey start --sessions 2500 --concurrency 50
"""
from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit

BENCH_PREFIX = "+22891"  # bench/seed.py's residents


@dataclass(frozen=True)
class Journey:
    inputs: tuple[str, ...]  # answers after the dial; placeholders {n} {copies} {ref} {ref_spaced}
    last: str  # "END" or "CON": what the last hop must answer
    expect: str  # words the last screen must contain
    needs_refs: bool = False


JOURNEYS = {
    "start": Journey(("1", "1", "3", "Koffi Mensah {n}", "12052015", "{copies}", "1"),
                     "END", "Réf:"),
    "follow": Journey(("2", "1", "1"), "CON", "Statut:", needs_refs=True),
    "lookup": Journey(("2", "2", "{ref_spaced}"), "CON", "Statut:", needs_refs=True),
    "ceiling": Journey(("1", "{svc}", "Name{n}", "1"), "END", "Ref:"),
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", required=True, help="USSD callback URL")
    p.add_argument("--journey", choices=sorted(JOURNEYS), default="start")
    p.add_argument("--sessions", type=int, default=1000, help="sessions to play (measured)")
    p.add_argument("--duration", type=float, default=0.0,
                   help="if > 0: play sessions for this many seconds instead of --sessions")
    p.add_argument("--concurrency", type=int, default=50, help="sessions in flight at once")
    p.add_argument("--warmup", type=int, default=0, help="sessions played first, not measured")
    p.add_argument("--refs", type=Path, default=None, help="phone,reference CSV (seed.py)")
    p.add_argument("--phones", type=int, default=30000, help="seeded bench residents")
    p.add_argument("--phone-offset", type=int, default=0)
    p.add_argument("--service-code", default="*384*2#")
    p.add_argument("--timeout", type=float, default=10.0, help="per-hop timeout, seconds")
    p.add_argument("--think-ms", type=float, default=0.0,
                   help="mean pause before each answer (a resident reading and typing), drawn "
                        "uniformly in [0.5, 1.5] x this; sessions start staggered; 0: none")
    p.add_argument("--max-chars", type=int, default=160, help="screen limit (0: unchecked)")
    p.add_argument("--keepalive", action="store_true",
                   help="reuse one connection per session worker (default: one per hop)")
    p.add_argument("--label", default="", help="echoed in the JSON result")
    p.add_argument("--verbose", action="store_true", help="print the first errors")
    return p.parse_args(argv)


class HttpError(Exception):
    pass


class Conn:
    """Minimal HTTP/1.1 client connection (Content-Length, chunked, or close-delimited)."""

    def __init__(self, host, port):
        self.host, self.port = host, port
        self.reader = self.writer = None

    async def open(self):
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    def close(self):
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def post_form(self, path, body, keepalive):
        if self.writer is None:
            await self.open()
        head = (f'POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n'
                'Content-Type: application/x-www-form-urlencoded\r\n'
                f'Content-Length: {len(body)}\r\n'
                f'Connection: {"keep-alive" if keepalive else "close"}\r\n\r\n')
        self.writer.write(head.encode('latin-1') + body)
        await self.writer.drain()
        r = self.reader
        status_line = await r.readline()
        if not status_line:
            raise HttpError('connection closed before status line')
        parts = status_line.split(None, 2)
        status = int(parts[1])
        length = None
        chunked = False
        server_close = False
        while True:
            line = await r.readline()
            if line in (b'\r\n', b'\n', b''):
                break
            name, _, value = line.partition(b':')
            name = name.strip().lower()
            value = value.strip()
            if name == b'content-length':
                length = int(value)
            elif name == b'transfer-encoding' and b'chunked' in value.lower():
                chunked = True
            elif name == b'connection' and value.lower() == b'close':
                server_close = True
        if chunked:
            chunks = []
            while True:
                size = int((await r.readline()).split(b';')[0].strip(), 16)
                if size == 0:
                    while (await r.readline()) not in (b'\r\n', b'\n', b''):
                        pass
                    break
                chunks.append(await r.readexactly(size))
                await r.readline()
            data = b''.join(chunks)
        elif length is not None:
            data = await r.readexactly(length)
        else:
            data = await r.read()
            server_close = True
        if server_close or not keepalive:
            self.close()
        return status, data


def load_refs(path: Path | None) -> list[tuple[str, str]]:
    if path is None:
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        phone, _, ref = line.strip().partition(",")
        if phone and ref:
            rows.append((phone, ref))
    return rows


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return float("nan")
    k = max(0, min(len(sorted_values) - 1, math.ceil(q / 100.0 * len(sorted_values)) - 1))
    return sorted_values[k]


async def run(args: argparse.Namespace) -> dict[str, object]:
    u = urlsplit(args.url)
    host, port = u.hostname or "127.0.0.1", u.port or 80
    path = (u.path or "/") + (("?" + u.query) if u.query else "")
    journey = JOURNEYS[args.journey]
    refs = load_refs(args.refs)
    if journey.needs_refs and not refs:
        raise SystemExit(f"--journey {args.journey} needs --refs (phone,reference lines)")
    n_hops = 1 + len(journey.inputs)
    run_id = "%x%04x" % (int(time.time()), random.randrange(0x10000))
    rng = random.Random(6)  # think times: uniform in [0.5, 1.5] x --think-ms, reproducible
    latencies: list[float] = []
    by_hop: dict[int, list[float]] = {}
    errors: list[str] = []
    counts = {"hops_ok": 0, "sessions_ok": 0}

    def session_facts(n: int) -> tuple[str, dict[str, object]]:
        if journey.needs_refs:
            phone, ref = refs[n % len(refs)]
        else:
            phone, ref = f"{BENCH_PREFIX}{(args.phone_offset + n) % args.phones:06d}", ""
        values = {"n": n, "copies": n % 5 + 1, "svc": n % 5 + 1, "ref": ref,
                  "ref_spaced": " ".join(ref[i:i + 3] for i in range(0, len(ref), 3))}
        return phone, values

    async def play(conn: Conn, n: int, record: bool) -> None:
        sid = f"ATUid_{run_id}_{n}"
        phone, values = session_facts(n)
        answers: list[str] = []
        for i in range(n_hops):
            if i:
                answers.append(journey.inputs[i - 1].format(**values))
                if args.think_ms:
                    await asyncio.sleep(rng.uniform(0.5, 1.5) * args.think_ms / 1000.0)
            body = urlencode({"sessionId": sid, "serviceCode": args.service_code,
                              "phoneNumber": phone, "networkCode": "99999",
                              "text": "*".join(answers)}).encode()
            t0 = time.perf_counter()
            try:
                status, data = await asyncio.wait_for(
                    conn.post_form(path, body, args.keepalive), args.timeout)
            except Exception as exc:  # timeout, reset, parse error
                conn.close()
                if record:
                    errors.append(f"session {n} hop {i + 1}: {type(exc).__name__}: {exc}")
                return
            elapsed = time.perf_counter() - t0
            if not record:
                continue
            latencies.append(elapsed)
            by_hop.setdefault(i + 1, []).append(elapsed * 1000.0)
            text = data.decode("utf-8", "replace")
            last = i == n_hops - 1
            want = journey.last if last else "CON"
            problem = None
            if status != 200:
                problem = f"HTTP {status}"
            elif not text.startswith(want + " "):
                problem = f"expected {want}"
            elif args.max_chars and len(text) - 4 > args.max_chars:
                problem = f"{len(text) - 4} chars > {args.max_chars}"
            elif last and journey.expect not in text:
                problem = f"last screen without {journey.expect!r}"
            if problem:
                errors.append(f"session {n} hop {i + 1}/{n_hops} ({phone}): {problem}: {text[:90]!r}")
                return
            counts["hops_ok"] += 1
        if record:
            counts["sessions_ok"] += 1

    async def worker(next_session, record: bool) -> None:  # type: ignore[no-untyped-def]
        conn = Conn(host, port)
        if args.think_ms:  # residents do not all dial at the same instant
            await asyncio.sleep(rng.uniform(0, 2) * args.think_ms / 1000.0)
        try:
            while (n := next_session()) is not None:
                await play(conn, n, record)
        finally:
            conn.close()

    async def phase(first: int, count: int, duration: float, record: bool) -> float:
        state = {"next": first}
        t0 = time.perf_counter()
        deadline = t0 + duration

        def next_session() -> int | None:
            n = state["next"]
            if duration > 0:
                if time.perf_counter() >= deadline:
                    return None
            elif n >= first + count:
                return None
            state["next"] = n + 1
            return n

        await asyncio.gather(*(worker(next_session, record) for _ in range(args.concurrency)))
        return time.perf_counter() - t0

    if args.warmup:
        await phase(10_000_000, args.warmup, 0.0, False)
    wall = await phase(0, args.sessions, args.duration, True)
    lat_ms = sorted(x * 1000.0 for x in latencies)
    if args.verbose:
        for line in errors[:8]:
            print("error:", line, file=sys.stderr)
    return {
        "label": args.label, "journey": args.journey, "url": args.url,
        "concurrency": args.concurrency, "think_ms": args.think_ms, "hops_per_session": n_hops,
        "wall_s": round(wall, 3), "hops": len(lat_ms), "hops_ok": counts["hops_ok"],
        "sessions_ok": counts["sessions_ok"],
        "hops_per_s": round(counts["hops_ok"] / wall, 1) if wall else 0.0,
        "p50_ms": round(percentile(lat_ms, 50), 2), "p90_ms": round(percentile(lat_ms, 90), 2),
        "p99_ms": round(percentile(lat_ms, 99), 2),
        "mean_ms": round(statistics.fmean(lat_ms), 2) if lat_ms else float("nan"),
        "max_ms": round(lat_ms[-1], 2) if lat_ms else float("nan"),
        "errors": len(errors), "error_samples": errors[:3],
        "p99_ms_by_hop": {hop: round(percentile(sorted(v), 99), 1) for hop, v in sorted(by_hop.items())},
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    result = asyncio.run(run(args))
    print(f"# {result['journey']}: {result['hops_ok']} hops ok in {result['wall_s']} s, "
          f"{result['sessions_ok']} sessions, mean {result['mean_ms']} ms, max {result['max_ms']} ms")
    print(json.dumps(result, ensure_ascii=False))
    return 0 if result["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
