"""`ussd-gateway serve` on the embedded default: everything starts, answers, and stops together."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import requests


def _wait_for(pattern: str, log: Path, proc: subprocess.Popen[bytes], timeout: float = 60) -> re.Match[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = log.read_text(encoding="utf-8", errors="replace")
        found = re.search(pattern, text)
        if found:
            return found
        assert proc.poll() is None, text
        time.sleep(0.2)
    raise AssertionError(f"{pattern!r} not seen in:\n{log.read_text()}")


def test_serve_runs_everything_then_ctrl_c_stops_it_without_orphans(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("data_dir: data\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("USSD_GATEWAY_")}
    env["USSD_GATEWAY_CONFIG"] = str(config)
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "ussd_gateway.cli", "serve", "--port", "0"],
            cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    try:
        url = _wait_for(r"USSD\s+(http://\S+/ussd)\n", log, proc).group(1)
        password = _wait_for(r"mot de passe : (\S+)", log, proc).group(1)
        _wait_for(r"Listening on", log, proc)  # the RQ worker is up
        children = psutil.Process(proc.pid).children(recursive=True)
        assert any("worker" in " ".join(c.cmdline()) for c in children)

        hop = requests.post(url, data={"sessionId": "serve-1", "serviceCode": "*384*2#",
                                       "phoneNumber": "+22890111222", "text": ""}, timeout=10)
        assert hop.status_code == 200 and hop.text.startswith("CON ") and "Langue" in hop.text
        base = url.split("/africastalking/")[0]
        assert requests.get(f"{base}/readyz", timeout=10).status_code == 200
        assert len(password) >= 12
        assert (tmp_path / "data" / "ussd-gateway.sqlite3").exists()
        redis_servers = [p for p in children if "redis-server" in " ".join(p.cmdline())] or [p for p in psutil.process_iter(["cmdline"])
                         if "redis-server" in " ".join(p.info["cmdline"] or [])
                         and str(tmp_path) in str(p.cwd())]
        assert len(redis_servers) == 1, "the embedded Redis server should be found"
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0, log.read_text()
    gone, alive = psutil.wait_procs(children + redis_servers, timeout=10)
    assert not alive, [p.cmdline() for p in alive if p.is_running()]
    assert "Arrêt de la passerelle" in log.read_text()

    # second start: the admin is not created again, the password is not printed again
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "ussd_gateway.cli", "serve", "--port", "0"],
            cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    try:
        _wait_for(r"Ctrl-C pour arrêter", log, proc)
        assert "mot de passe" not in log.read_text()
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
