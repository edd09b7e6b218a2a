#!/usr/bin/env python3
"""Seed a PostgreSQL database for the USSD benchmarks (COPY through psycopg: fast).

Two independent steps, both additive (run on a database migrated with ``ussd-gateway db upgrade``):

``--bench-residents N``
    N residents ``+22891000000`` … (language chosen, consent given with the menus' current
    consent version, so a dial goes straight to the main menu); the first ``--followed`` of
    them have ``--own-requests`` requests each, older than a day (the 10-a-day limit never
    triggers). The file given by
    ``--refs-out`` receives ``phone,reference`` (one of each resident's references) for the
    "reference lookup" journey. This is the "empty" database: only the benchmark's own rows.
``--bulk-requests M``
    M more requests spread over ``--bulk-residents`` other residents (``+22892…``), references
    random with a valid Damm check digit and unique, statuses and services mixed, dates over
    the last two years; then ``ANALYZE``. This turns the "empty" database into the "1M" one.

Example::

    python bench/seed.py --database-url postgresql://postgres@127.0.0.1:5432/ussd_bench \\
        --bench-residents 30000 --refs-out /tmp/refs.csv --bulk-requests 1000000
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import time
from pathlib import Path

import psycopg

from ussd_gateway.references import damm_check_digit

BENCH_PREFIX = "+22891"  # + 6 digits: the benchmark's own residents
BULK_PREFIX = "+22892"  # + 6 digits: everybody else
STATUSES = {"recue": 25, "en_instruction": 15, "en_cours": 15, "a_completer": 5,
            "disponible": 10, "delivree": 20, "resolue": 5, "rejetee": 3, "hors_competence": 2}


def bench_phone(n: int) -> str:
    """The phone of benchmark resident number ``n`` (the load client uses the same rule)."""
    return f"{BENCH_PREFIX}{n:06d}"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--database-url", required=True, help="postgresql://… of a migrated database")
    p.add_argument("--bench-residents", type=int, default=0)
    p.add_argument("--own-requests", type=int, default=2,
                   help="requests of each of the first --followed bench residents")
    p.add_argument("--followed", type=int, default=2000,
                   help="bench residents who have requests (follow / lookup journeys)")
    p.add_argument("--refs-out", type=Path, default=None, help="phone,reference CSV to write")
    p.add_argument("--bulk-requests", type=int, default=0)
    p.add_argument("--bulk-residents", type=int, default=250_000)
    p.add_argument("--consent-version", default=None,
                   help="default: the menus' meta.consent_version")
    p.add_argument("--seed", type=int, default=6)
    return p.parse_args(argv)


def menus_consent_version() -> str:
    import yaml

    from ussd_gateway.settings import PROJECT_DIR

    meta = yaml.safe_load((PROJECT_DIR / "menus/golfe3/main.yaml").read_text(encoding="utf-8"))
    return str(meta["meta"]["consent_version"])


class References:
    """Unique random references (8 digits, first not 0, + Damm check digit)."""

    def __init__(self, rng: random.Random, taken: set[str]) -> None:
        self.rng = rng
        self.taken = taken

    def new(self) -> str:
        while True:
            body = str(self.rng.randrange(10_000_000, 100_000_000))
            ref = body + damm_check_digit(body)
            if ref not in self.taken:
                self.taken.add(ref)
                return ref


def _next_id(cur: psycopg.Cursor, table: str) -> int:
    cur.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}")
    return int(cur.fetchone()[0])  # type: ignore[index]


def _fix_sequence(cur: psycopg.Cursor, table: str) -> None:
    cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT coalesce(max(id), 1) FROM {table}))")


def seed(args: argparse.Namespace) -> dict[str, float]:
    rng = random.Random(args.seed)
    consent = args.consent_version or menus_consent_version()
    now = dt.datetime.now(dt.timezone.utc)
    url = args.database_url.replace("postgresql+psycopg://", "postgresql://", 1)
    timings: dict[str, float] = {}
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT code, delay_days FROM service WHERE active")
        services = cur.fetchall()
        if not services:
            raise SystemExit("no service in the catalogue: run `ussd-gateway db upgrade` first")
        cur.execute("SELECT reference FROM service_request")
        refs = References(rng, {r for (r,) in cur.fetchall()})
        statuses, weights = list(STATUSES), list(STATUSES.values())

        def rows_for(resident_ids: list[int], count: int, first_id: int, days: int):  # type: ignore[no-untyped-def]
            for i in range(count):
                code, delay = services[rng.randrange(len(services))]
                created = now - dt.timedelta(days=1 + rng.random() * days)
                status = rng.choices(statuses, weights)[0]
                yield (first_id + i, refs.new(), code, resident_ids[i % len(resident_ids)],
                       "ussd", status, "[]", "fr", created, created,
                       (created + dt.timedelta(days=delay)).date(), 1)

        copy_requests = ("COPY service_request (id, reference, service_code, resident_id, "
                         "channel, status, answers, language, created_at, updated_at, "
                         "expected_date, version) FROM STDIN")
        copy_residents = ("COPY resident (id, phone, language, language_chosen, consent_at, "
                          "consent_version, created_at, updated_at) FROM STDIN")

        if args.bench_residents:
            t0 = time.perf_counter()
            first = _next_id(cur, "resident")
            cur.execute("SELECT phone FROM resident WHERE phone LIKE %s", (BENCH_PREFIX + "%",))
            existing = {p for (p,) in cur.fetchall()}
            phones = [bench_phone(n) for n in range(args.bench_residents)
                      if bench_phone(n) not in existing]
            ids = list(range(first, first + len(phones)))
            with cur.copy(copy_residents) as copy:
                for rid, phone in zip(ids, phones):
                    copy.write_row((rid, phone, "fr", True, now, consent, now, now))
            _fix_sequence(cur, "resident")
            first_req = _next_id(cur, "service_request")
            own: dict[int, str] = {}
            followed = [rid for rid, phone in zip(ids, phones)
                        if int(phone[len(BENCH_PREFIX):]) < args.followed]
            count = len(followed) * args.own_requests
            with cur.copy(copy_requests) as copy:
                for row in rows_for(followed, count, first_req, 60):
                    copy.write_row(row)
                    own.setdefault(row[3], row[1])
            _fix_sequence(cur, "service_request")
            conn.commit()
            if args.refs_out:
                cur.execute("SELECT r.phone, min(s.reference) FROM resident r JOIN service_request s "
                            "ON s.resident_id = r.id WHERE r.phone LIKE %s GROUP BY r.phone "
                            "ORDER BY r.phone", (BENCH_PREFIX + "%",))
                with args.refs_out.open("w", encoding="utf-8") as fh:
                    for phone, ref in cur.fetchall():
                        fh.write(f"{phone},{ref}\n")
            timings["bench_residents_s"] = time.perf_counter() - t0

        if args.bulk_requests:
            t0 = time.perf_counter()
            first = _next_id(cur, "resident")
            ids = []
            with cur.copy(copy_residents) as copy:
                for n in range(args.bulk_residents):
                    rid = first + n
                    ids.append(rid)
                    copy.write_row((rid, f"{BULK_PREFIX}{n:06d}", "fr", True, now, consent, now, now))
            _fix_sequence(cur, "resident")
            rng.shuffle(ids)
            first_req = _next_id(cur, "service_request")
            with cur.copy(copy_requests) as copy:
                for row in rows_for(ids, args.bulk_requests, first_req, 730):
                    copy.write_row(row)
            _fix_sequence(cur, "service_request")
            conn.commit()
            timings["bulk_copy_s"] = time.perf_counter() - t0

        conn.commit()
        conn.autocommit = True
        cur.execute("ANALYZE resident")
        cur.execute("ANALYZE service_request")
        cur.execute("SELECT count(*) FROM service_request")
        timings["requests_total"] = float(cur.fetchone()[0])  # type: ignore[index]
    return timings


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    print(json.dumps(seed(args)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
