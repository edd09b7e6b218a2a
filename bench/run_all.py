#!/usr/bin/env python3
"""Run the whole USSD benchmark suite against the production setup; write bench/RESULTS.md.

Production setup: gunicorn with 2 sync workers (``ussd_gateway.wsgi:app``), PostgreSQL,
Redis, an SMS worker (``ussd-gateway worker``, provider ``log``). Everything runs on this
machine in one go, so the ratios to the ceiling are comparable even when the machine is noisy:

1. two fresh databases: ``<db>`` (the "empty" one: catalogue + the benchmark's residents and
   their few requests) and ``<db>_1m`` (the same plus 1,000,000 requests), seeded by seed.py;
2. the ceiling reference (ceiling_app.py) and the gateway under the same gunicorn settings;
   ``--repeats`` alternating pairs of runs, 50 concurrent sessions, no think time
   (throughput), then 50 sessions with a think time (latency under load);
3. "follow my requests" and "reference lookup" on the empty and on the 1M database,
   alternating;
4. Redis and database round trips per hop (roundtrips.py, counting proxies);
5. SMS drain (bench/sms_drain.py, written by the SMS workers' owner) if present;
6. a memory soak: RSS of each gunicorn worker and of the SMS worker sampled while the
   "start a request" journey runs for ``--soak-seconds``.

Redis: ``--redis-db`` (default 14) must be empty; it is flushed at the end (this run filled
it). The databases are dropped at the end unless ``--keep-databases``.

Example (what produced RESULTS.md)::

    .venv/bin/python bench/run_all.py --soak-seconds 1800
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil
import redis

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
PY = sys.executable
TOKEN = "bench" + "0123456789abcdef" * 2
SECRET = "benchsecret" + "0123456789abcdef" * 2
CONFIG = """\
# written by bench/run_all.py: production-like settings for the benchmark
sms:
  provider: log
  daily_budget: 10000000
  per_number_daily_cap: 1000
logging:
  level: {log_level}
"""


def log(msg: str) -> None:
    print(f"[{dt.datetime.now(dt.timezone.utc):%H:%M:%S}] {msg}", flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--server-url", default="postgresql://postgres@127.0.0.1:5432",
                   help="PostgreSQL server (databases are created on it)")
    p.add_argument("--db-name", default="ussd_bench")
    p.add_argument("--redis-host", default="127.0.0.1:6379")
    p.add_argument("--redis-db", type=int, default=14)
    p.add_argument("--sms-redis-db", type=int, default=15, help="for sms_drain.py (must be empty)")
    p.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    p.add_argument("--concurrency", type=int, default=50)
    p.add_argument("--start-sessions", type=int, default=2500,
                   help="'start a request' sessions per gateway run (8 hops each)")
    p.add_argument("--ceiling-sessions", type=int, default=4000, help="ceiling sessions per run (5 hops)")
    p.add_argument("--repeats", type=int, default=2, help="ceiling/gateway pairs")
    p.add_argument("--think-ms", type=float, default=500.0,
                   help="think time of the latency-under-load runs")
    p.add_argument("--follow-sessions", type=int, default=1500)
    p.add_argument("--follow-concurrency", type=int, default=10)
    p.add_argument("--bulk-requests", type=int, default=1_000_000)
    p.add_argument("--soak-seconds", type=float, default=1800.0, help="0: no soak")
    p.add_argument("--soak-think-ms", type=float, default=500.0)
    p.add_argument("--soak-sample-seconds", type=float, default=15.0)
    p.add_argument("--skip-sms", action="store_true")
    p.add_argument("--keep-databases", action="store_true")
    p.add_argument("--output", type=Path, default=BENCH / "RESULTS.md")
    p.add_argument("--json-output", type=Path, default=BENCH / "results.json")
    return p.parse_args(argv)


class Suite:
    def __init__(self, args: argparse.Namespace, tmp: Path) -> None:
        self.args = args
        self.tmp = tmp
        self.procs: list[subprocess.Popen[bytes]] = []
        self.redis_url = f"redis://{args.redis_host}/{args.redis_db}"
        self.db_empty = f"{args.server_url}/{args.db_name}"
        self.db_1m = f"{args.server_url}/{args.db_name}_1m"
        self.results: dict[str, Any] = {"runs": []}
        self.config = tmp / "config.yaml"
        self.config.write_text(CONFIG.format(log_level="INFO"), encoding="utf-8")

    # -- processes ----------------------------------------------------------------------------
    def env(self, database_url: str) -> dict[str, str]:
        return dict(os.environ, USSD_GATEWAY_CONFIG=str(self.config),
                    USSD_GATEWAY_DATABASE_URL=database_url, USSD_GATEWAY_REDIS_URL=self.redis_url,
                    USSD_GATEWAY_CALLBACK_TOKEN=TOKEN, USSD_GATEWAY_SECRET_KEY=SECRET,
                    REDIS_URL=self.redis_url)

    def spawn(self, name: str, cmd: list[str], env: dict[str, str], cwd: Path = REPO) -> subprocess.Popen[bytes]:
        out = open(self.tmp / f"{name}.log", "wb")
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
        self.procs.append(proc)
        return proc

    def gunicorn(self, name: str, app: str, port: int, env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
        proc = self.spawn(name, [PY, "-m", "gunicorn", "-w", str(self.args.workers), "-b",
                                 f"127.0.0.1:{port}", app], env, cwd)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited: see {self.tmp / (name + '.log')}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    return proc
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"{name} did not listen on {port}")

    def stop_all(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()

    # -- steps --------------------------------------------------------------------------------
    def prepare_databases(self) -> None:
        import psycopg

        with psycopg.connect(f"{self.args.server_url}/postgres", autocommit=True) as conn:
            for name in (self.args.db_name, self.args.db_name + "_1m"):
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                conn.execute(f'CREATE DATABASE "{name}"')
        seeding: dict[str, Any] = {}
        for url, refs, bulk in ((self.db_empty, "refs_empty.csv", 0),
                                (self.db_1m, "refs_1m.csv", self.args.bulk_requests)):
            subprocess.run([str(Path(PY).parent / "ussd-gateway"), "db", "upgrade"],
                           env=self.env(url), cwd=REPO, check=True, capture_output=True)
            cmd = [PY, str(BENCH / "seed.py"), "--database-url", url, "--bench-residents", "30000",
                   "--refs-out", str(self.tmp / refs)]
            if bulk:
                cmd += ["--bulk-requests", str(bulk)]
            t0 = time.perf_counter()
            out = subprocess.run(cmd, cwd=REPO, check=True, capture_output=True, text=True).stdout
            seeding[url.rsplit("/", 1)[1]] = {**json.loads(out.strip().splitlines()[-1]),
                                              "seconds": round(time.perf_counter() - t0, 1)}
            log(f"seeded {url}: {seeding[url.rsplit('/', 1)[1]]}")
        self.results["seeding"] = seeding

    def load(self, label: str, url: str, journey: str, sessions: int, concurrency: int, *,
             think_ms: float = 0.0, refs: str | None = None, phone_offset: int = 0,
             duration: float = 0.0, warmup: int = 0) -> dict[str, Any]:
        cmd = [PY, str(BENCH / "ussd_load.py"), "--url", url, "--journey", journey,
               "--sessions", str(sessions), "--concurrency", str(concurrency),
               "--think-ms", str(think_ms), "--phone-offset", str(phone_offset),
               "--label", label, "--warmup", str(warmup)]
        if refs:
            cmd += ["--refs", str(self.tmp / refs)]
        if duration:
            cmd += ["--duration", str(duration)]
        out = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
        result = json.loads(out.stdout.strip().splitlines()[-1])
        result["load_avg_1m"] = round(os.getloadavg()[0], 2)
        self.results["runs"].append(result)
        log(f"{label}: {result['hops_per_s']} hops/s p50 {result['p50_ms']} ms "
            f"p99 {result['p99_ms']} ms errors {result['errors']} (load {result['load_avg_1m']})"
            + (f" {result['error_samples'][:1]}" if result["errors"] else ""))
        return result

    def run(self) -> None:
        a = self.args
        client = redis.Redis.from_url(self.redis_url)
        if client.dbsize():
            raise SystemExit(f"{self.redis_url} holds keys: refusing to use it (point --redis-db "
                             "at an empty database)")
        self.results["started"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        self.results["load_avg_at_start"] = [round(x, 2) for x in os.getloadavg()]
        self.results["commit"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO,
                                                capture_output=True, text=True).stdout.strip()
        log("preparing databases")
        self.prepare_databases()
        ceiling = self.gunicorn("ceiling", "ceiling_app:app", 8701, self.env(self.db_empty), BENCH)
        gateway = self.gunicorn("gateway", "ussd_gateway.wsgi:app", 8702, self.env(self.db_empty), REPO)
        gateway_1m = self.gunicorn("gateway_1m", "ussd_gateway.wsgi:app", 8703, self.env(self.db_1m), REPO)
        worker = self.spawn("sms_worker", [str(Path(PY).parent / "ussd-gateway"), "worker"],
                            self.env(self.db_empty))
        c_url = "http://127.0.0.1:8701/ussd"
        g_url = f"http://127.0.0.1:8702/africastalking/{TOKEN}/ussd"
        m_url = f"http://127.0.0.1:8703/africastalking/{TOKEN}/ussd"
        offset = 0

        log("warm-up")
        self.load("warmup ceiling", c_url, "ceiling", 300, a.concurrency)
        self.load("warmup gateway", g_url, "start", 150, a.concurrency, phone_offset=29000)
        self.load("warmup gateway 1M", m_url, "follow", 200, 10, refs="refs_1m.csv")
        self.load("warmup gateway empty", g_url, "follow", 200, 10, refs="refs_empty.csv")

        log("throughput: ceiling vs gateway, 'start a request', no think time")
        pairs = []
        for r in range(a.repeats):
            c = self.load(f"ceiling #{r + 1}", c_url, "ceiling", a.ceiling_sessions, a.concurrency)
            g = self.load(f"start #{r + 1}", g_url, "start", a.start_sessions, a.concurrency,
                          phone_offset=offset)
            offset += a.start_sessions
            pairs.append((c, g))
        self.results["throughput_pairs"] = [[c["hops_per_s"], g["hops_per_s"]] for c, g in pairs]

        log(f"latency under load: {a.concurrency} sessions, think time {a.think_ms} ms")
        lat_c = self.load("ceiling, think", c_url, "ceiling", a.ceiling_sessions // 4, a.concurrency,
                          think_ms=a.think_ms)
        lat_g = self.load("start, think", g_url, "start", a.start_sessions // 4, a.concurrency,
                          think_ms=a.think_ms, phone_offset=offset)
        offset += a.start_sessions // 4
        self.results["latency_under_load"] = {"ceiling": lat_c, "start": lat_g}

        log("follow / lookup: empty vs 1M requests, alternating")
        fl: dict[str, dict[str, list[dict[str, Any]]]] = {}
        for r in range(2):
            for journey in ("follow", "lookup"):
                for name, url, refs in (("empty", g_url, "refs_empty.csv"), ("1M", m_url, "refs_1m.csv")):
                    res = self.load(f"{journey} {name} #{r + 1}", url, journey, a.follow_sessions,
                                    a.follow_concurrency, refs=refs)
                    fl.setdefault(journey, {}).setdefault(name, []).append(res)
        self.results["follow_lookup"] = fl
        plans = {}
        import psycopg

        with psycopg.connect(self.db_1m) as conn:
            for label, sql in PLANS.items():
                rows = conn.execute("EXPLAIN " + sql).fetchall()
                plans[label] = [r[0] for r in rows]
        self.results["plans_1m"] = plans

        log("round trips per hop")
        out = subprocess.run([PY, str(BENCH / "roundtrips.py"), "--database-url", self.db_empty,
                              "--redis-url", self.redis_url, "--refs", str(self.tmp / "refs_empty.csv"),
                              "--sessions", "20", "--phone-offset", "28000"],
                             cwd=REPO, capture_output=True, text=True, env=self.env(self.db_empty))
        self.results["round_trips"] = json.loads(out.stdout.strip().splitlines()[-1]) if out.stdout.strip() else {
            "error": out.stderr[-2000:]}
        log(f"round trips: {summarise_round_trips(self.results['round_trips'])}")

        sms_drain = BENCH / "sms_drain.py"
        if sms_drain.exists() and not a.skip_sms:
            log("SMS drain (bench/sms_drain.py)")
            sms_redis = f"redis://{a.redis_host}/{a.sms_redis_db}"
            t0 = time.perf_counter()
            out = subprocess.run([PY, str(sms_drain), "--database-url", f"{a.server_url}/postgres",
                                  "--redis-url", sms_redis], cwd=REPO, capture_output=True, text=True)
            self.results["sms_drain"] = {"returncode": out.returncode, "output": out.stdout[-3000:],
                                         "stderr": out.stderr[-1500:],
                                         "seconds": round(time.perf_counter() - t0, 1)}
            log(f"SMS drain done (exit {out.returncode})")

        if a.soak_seconds > 0:
            log(f"memory soak: {a.soak_seconds:.0f} s of 'start a request', {a.concurrency} sessions, "
                f"think {a.soak_think_ms} ms")
            self.results["soak"] = self.soak(gateway, worker, g_url, offset)
        self.results["finished"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")

    def soak(self, gateway: subprocess.Popen[bytes], worker: subprocess.Popen[bytes], url: str,
             offset: int) -> dict[str, Any]:
        a = self.args
        load = subprocess.Popen(
            [PY, str(BENCH / "ussd_load.py"), "--url", url, "--journey", "start", "--duration",
             str(a.soak_seconds), "--concurrency", str(a.concurrency), "--think-ms",
             str(a.soak_think_ms), "--phone-offset", str(offset), "--label", "soak"],
            cwd=REPO, stdout=subprocess.PIPE, text=True)
        samples: list[dict[str, Any]] = []
        t0 = time.monotonic()
        while load.poll() is None:
            sample: dict[str, Any] = {"t": round(time.monotonic() - t0, 1)}
            try:
                for i, child in enumerate(sorted(psutil.Process(gateway.pid).children(), key=lambda p: p.pid)):
                    sample[f"web{i + 1}_mb"] = round(child.memory_info().rss / 2**20, 1)
                wp = psutil.Process(worker.pid)
                sample["sms_worker_mb"] = round(
                    (wp.memory_info().rss + sum(c.memory_info().rss for c in wp.children(recursive=True)))
                    / 2**20, 1)
            except psutil.Error:
                pass
            samples.append(sample)
            time.sleep(a.soak_sample_seconds)
        out = load.stdout.read() if load.stdout else ""
        result = json.loads(out.strip().splitlines()[-1])
        self.results["runs"].append(result)
        log(f"soak: {result['hops_per_s']} hops/s p99 {result['p99_ms']} ms errors {result['errors']}")
        return {"load": result, "samples": samples}

    def cleanup(self) -> None:
        self.stop_all()
        try:
            redis.Redis.from_url(self.redis_url).flushdb()
        except redis.RedisError:
            pass
        if not self.args.keep_databases:
            import psycopg

            try:
                with psycopg.connect(f"{self.args.server_url}/postgres", autocommit=True) as conn:
                    for name in (self.args.db_name, self.args.db_name + "_1m"):
                        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            except psycopg.Error as exc:
                log(f"databases not dropped: {exc}")


PLANS = {
    "my requests": (
        "SELECT service_request.reference, service_request.status, service.names FROM service_request "
        "JOIN resident ON resident.id = service_request.resident_id JOIN service ON service.code = "
        "service_request.service_code WHERE resident.phone = '+22891000001' ORDER BY "
        "service_request.created_at DESC, service_request.id DESC LIMIT 20"),
    "reference lookup": (
        "SELECT service_request.status, service_request.expected_date, resident.phone, service.names "
        "FROM service_request JOIN resident ON resident.id = service_request.resident_id JOIN service "
        "ON service.code = service_request.service_code WHERE service_request.reference = '123456789'"),
}


# -- report ------------------------------------------------------------------------------------
def summarise_round_trips(rt: dict[str, Any]) -> str:
    if "error" in rt:
        return "failed"
    parts = []
    for journey, hops in rt.items():
        if journey == "connections":
            continue
        parts.append(journey + " " + " ".join(f"{h}:{v['redis_max']}/{v['db_max']}" for h, v in hops.items()))
    return "; ".join(parts)


def _median(values: list[float]) -> float:
    return round(statistics.median(values), 1) if values else float("nan")


def write_report(results: dict[str, Any], args: argparse.Namespace, command: str) -> str:
    runs = results["runs"]
    starts = [r for r in runs if r["label"].startswith("start #")]
    ceilings = [r for r in runs if r["label"].startswith("ceiling #")]
    pairs = list(zip(ceilings, starts))
    ratios = [g["hops_per_s"] / c["hops_per_s"] for c, g in pairs if c["hops_per_s"]]
    lines = [
        "# USSD gateway benchmark results",
        "",
        f"- Date: {results.get('started')} → {results.get('finished', '(unfinished)')} (UTC), "
        f"commit `{results.get('commit')}`",
        f"- Command: `{command}`",
        f"- Machine: {os.cpu_count()} cores shared with other people's test runs; load average at "
        f"start {results.get('load_avg_at_start')}. Each result row shows the 1-minute load average "
        "when it ended: compare ratios from the same run, not absolute numbers between runs.",
        f"- Production setup: gunicorn {args.workers} sync workers (`ussd_gateway.wsgi:app`), "
        "PostgreSQL 127.0.0.1, Redis 127.0.0.1, one SMS worker (`ussd-gateway worker`, provider `log`); "
        "the load client (`bench/ussd_load.py`, one new connection per hop like AT) runs on the same "
        "2 cores. The ceiling (`bench/ceiling_app.py`: parse the form, 1 Redis GET + 1 SET, fixed "
        "screen) runs under the same gunicorn settings.",
        "",
        "- How to read these numbers, and the hot spots profiling found and what was changed: "
        "[README.md](README.md).",
        "",
        "## Throughput and latency (\"start a request\": dial → 1 → 1 → 3 → name → date → copies → 1)",
        "",
        "| run | sessions in flight | think time | hops | hops/s | p50 ms | p99 ms | errors | ratio to ceiling | load |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for (c, g) in pairs:
        for r in (c, g):
            ratio = f"{g['hops_per_s'] / c['hops_per_s']:.0%}" if r is g and c["hops_per_s"] else ""
            lines.append(f"| {r['label']} | {r['concurrency']} | 0 | {r['hops_ok']} | {r['hops_per_s']} | "
                         f"{r['p50_ms']} | {r['p99_ms']} | {r['errors']} | {ratio} | {r['load_avg_1m']} |")
    lul = results.get("latency_under_load", {})
    for key in ("ceiling", "start"):
        r = lul.get(key)
        if r:
            lines.append(f"| {r['label']} | {r['concurrency']} | {r['think_ms']:.0f} ms | {r['hops_ok']} | "
                         f"{r['hops_per_s']} | {r['p50_ms']} | {r['p99_ms']} | {r['errors']} | | {r['load_avg_1m']} |")
    for r in [*starts, lul.get("start")]:
        if r and r.get("p99_ms_by_hop"):
            lines.append(f"\n- p99 ms by hop, {r['label']}: " + ", ".join(
                f"{hop}: {v}" for hop, v in r["p99_ms_by_hop"].items()))
    total_start_hops = sum(r["hops_ok"] for r in starts)
    total_errors = sum(r["errors"] for r in runs if not r["label"].startswith("warmup"))
    lines += [
        "",
        f"- Gateway / ceiling hops/s: {', '.join(f'{x:.0%}' for x in ratios)} (median "
        f"{statistics.median(ratios) if ratios else float('nan'):.0%}); gateway median {_median([r['hops_per_s'] for r in starts])} hops/s, "
        f"ceiling median {_median([r['hops_per_s'] for r in ceilings])} hops/s.",
        f"- 'start a request' hops measured: {total_start_hops} with no think time; errors over every "
        f"measured run (soak included): {total_errors}.",
        "",
        "## \"Follow my requests\" and \"reference lookup\": empty database vs 1,000,000 requests",
        "",
        f"{args.follow_concurrency} sessions in flight, no think time; runs alternate between a gateway on "
        "the empty database (catalogue + the benchmark's residents and their own requests, "
        f"{_fmt_count(results, 'empty')} requests) and one on the same plus 1M requests "
        f"({_fmt_count(results, '1m')} requests).",
        "",
        "| journey | database | hops/s | p50 ms | p99 ms (per run) | p99 median | errors | p99 1M / empty |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for journey, by_db in results.get("follow_lookup", {}).items():
        empty_p99 = _median([r["p99_ms"] for r in by_db.get("empty", [])])
        for name, rs in by_db.items():
            p99 = _median([r["p99_ms"] for r in rs])
            ratio = f"{p99 / empty_p99:.2f}×" if name == "1M" and empty_p99 else ""
            lines.append(
                f"| {journey} | {name} | {_median([r['hops_per_s'] for r in rs])} | "
                f"{_median([r['p50_ms'] for r in rs])} | {', '.join(str(r['p99_ms']) for r in rs)} | "
                f"{p99} | {sum(r['errors'] for r in rs)} | {ratio} |")
    plans = results.get("plans_1m", {})
    if plans:
        lines += ["", "Query plans on the 1M database:", ""]
        for label, plan in plans.items():
            lines += [f"- {label}: " + " / ".join(p.strip() for p in plan if "Scan" in p or "Limit" in p)]
    rt = results.get("round_trips", {})
    lines += ["", "## Round trips per hop (steady state, counted by TCP proxies: `bench/roundtrips.py`)", ""]
    if "error" in rt or not rt:
        lines.append(f"round-trip count failed: {rt.get('error', 'not run')[:500]}")
    else:
        lines += ["| journey | hop | Redis max | DB max | DB mean |", "|---|---|---|---|---|"]
        for journey, hops in rt.items():
            if journey == "connections":
                continue
            for hop, v in hops.items():
                lines.append(f"| {journey} | {hop} | {v['redis_max']} | {v['db_max']} | {v['db_mean']} |")
        lines.append("")
        lines.append("Hop 8 of 'start a request' is the confirming hop (request, audit row and "
                     "SMS outbox row written in one transaction).")
    sms = results.get("sms_drain")
    lines += ["", "## SMS drain (`bench/sms_drain.py`, 10,000 queued notifications to the fake provider)", ""]
    if sms:
        table = [l for l in sms["output"].splitlines() if l.startswith("|")]
        lines += table or ["```", sms["output"][-1500:], sms["stderr"][-800:], "```"]
        lines.append(f"\n(exit code {sms['returncode']}, {sms['seconds']} s)")
    else:
        lines.append("not run (bench/sms_drain.py absent or --skip-sms)")
    soak = results.get("soak")
    lines += ["", "## Memory soak", ""]
    if soak and soak["samples"]:
        s = soak["samples"]
        load = soak["load"]
        lines.append(f"{load['wall_s']:.0f} s of 'start a request', {load['concurrency']} sessions, "
                     f"think {load['think_ms']:.0f} ms: {load['hops_ok']} hops, {load['hops_per_s']} hops/s, "
                     f"p99 {load['p99_ms']} ms, {load['errors']} errors. RSS sampled every "
                     f"{args.soak_sample_seconds:.0f} s; 'growth' compares the mean of the last fifth "
                     "with the mean of the second fifth (the first is warm-up).")
        if load.get("p99_ms_by_hop"):
            lines.append("p99 ms by hop: " + ", ".join(f"{h}: {v}" for h, v in load["p99_ms_by_hop"].items()))
        lines += ["", "| process | first MB | min MB | max MB | last MB | growth |", "|---|---|---|---|---|---|"]
        keys = sorted({k for x in s for k in x if k.endswith("_mb")})
        for k in keys:
            vals = [x[k] for x in s if k in x]
            fifth = max(1, len(vals) // 5)
            early = statistics.fmean(vals[fifth:2 * fifth] or vals[:fifth])
            late = statistics.fmean(vals[-fifth:])
            lines.append(f"| {k[:-3]} | {vals[0]} | {min(vals)} | {max(vals)} | {vals[-1]} | "
                         f"{(late - early) / early:+.1%} |")
    else:
        lines.append("not run")
    lines.append("")
    return "\n".join(lines)


def _fmt_count(results: dict[str, Any], which: str) -> str:
    seeding = results.get("seeding", {})
    for name, v in seeding.items():
        if name.endswith("_1m") == (which == "1m"):
            return f"{int(v.get('requests_total', 0)):,}"
    return "?"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    command = " ".join(shlex.quote(x) for x in [Path(PY).as_posix(), "bench/run_all.py", *(argv or sys.argv[1:])])
    with tempfile.TemporaryDirectory(prefix="ussd-bench-") as tmp:
        suite = Suite(args, Path(tmp))
        try:
            suite.run()
        finally:
            suite.cleanup()
            args.json_output.write_text(json.dumps(suite.results, indent=1, ensure_ascii=False), encoding="utf-8")
            report = write_report(suite.results, args, command)
            args.output.write_text(report, encoding="utf-8")
            log(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
