"""The service catalogue as the USSD hops read it: cached per process, never stale.

The catalogue (15-odd services) is read on many hops (the services menu, "Infos et tarifs");
reading it from the database each time is a round trip and most of a hop's database time.
Each process keeps a snapshot tagged with the catalogue *version*, a Redis counter that every
committed change to a service or group bumps (``watch_catalogue_changes``). Each hop already
reads the version in its first Redis pipeline (``UssdSessionStore.load``), so a staff edit shows
on the very next hop, at no extra round trip. A snapshot older than ``MAX_AGE_SECONDS`` is
re-read anyway, a safety net for changes made outside the application (``psql``).
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

import redis
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ussd_gateway.models import Service, ServiceGroup

log = logging.getLogger(__name__)

#: Redis key of the catalogue version (an integer bumped on every committed change)
CATALOGUE_VERSION_KEY = "ussd:catalogue:v"
MAX_AGE_SECONDS = 60.0


@dataclass(frozen=True)
class ServiceEntry:
    """What the USSD menus show of one service (a plain copy of its row)."""

    code: str
    group_code: str
    names: dict[str, str]
    fee_fcfa: int | None
    fee_note: str
    delay_days: int
    documents: str
    referral: str | None
    active: bool
    position: int

    def name(self, language: str) -> str:
        return self.names.get(language) or self.names.get("fr") or self.code


@dataclass(frozen=True)
class CatalogueSnapshot:
    version: bytes | None
    read_at: float
    services: dict[str, ServiceEntry]
    #: active services of each group, in menu order
    active_by_group: dict[str, tuple[ServiceEntry, ...]]


class CatalogueCache:
    """One per process; thread-safe (a snapshot is replaced whole, never changed)."""

    def __init__(self, reads: sessionmaker[Session], *, max_age: float = MAX_AGE_SECONDS) -> None:
        self.reads = reads
        self.max_age = max_age
        self._snapshot: CatalogueSnapshot | None = None
        self._lock = threading.Lock()

    def snapshot(self, version: bytes | None) -> CatalogueSnapshot:
        """The catalogue at ``version`` (read from the database if this process has another)."""
        snap = self._snapshot
        if snap is not None and snap.version == version and time.monotonic() - snap.read_at < self.max_age:
            return snap
        with self._lock:
            snap = self._snapshot
            if snap is None or snap.version != version or time.monotonic() - snap.read_at >= self.max_age:
                snap = self._read(version)
                self._snapshot = snap
        return snap

    def _read(self, version: bytes | None) -> CatalogueSnapshot:
        read_at = time.monotonic()
        with self.reads() as session:
            rows = session.execute(
                select(
                    Service.code, Service.group_code, Service.names, Service.fee_fcfa,
                    Service.fee_note, Service.delay_days, Service.documents, Service.referral,
                    Service.active, Service.position,
                ).order_by(Service.position, Service.code)
            ).all()
        services = {row.code: ServiceEntry(*row) for row in rows}
        by_group: dict[str, list[ServiceEntry]] = {}
        for entry in services.values():
            if entry.active:
                by_group.setdefault(entry.group_code, []).append(entry)
        return CatalogueSnapshot(
            version, read_at, services, {g: tuple(v) for g, v in by_group.items()}
        )


def watch_catalogue_changes(sessions: sessionmaker[Session], client: redis.Redis) -> None:
    """Bump the catalogue version after every commit that changed a service or a group.

    Listens on ``sessions`` (the process's session factory, used by the staff view and the
    domain code). Changes made by bulk ``UPDATE`` statements or outside the application are
    picked up within ``MAX_AGE_SECONDS``. A change flushed then rolled back may bump the
    version at the session's next commit: harmless (one extra read).
    """
    from sqlalchemy import event

    watched = (Service, ServiceGroup)

    @event.listens_for(sessions, "after_flush")
    def _note_changes(session: Session, _context: Any) -> None:
        for obj in (*session.new, *session.dirty, *session.deleted):
            if isinstance(obj, watched):
                session.info["catalogue_changed"] = True
                return

    @event.listens_for(sessions, "after_commit")
    def _bump(session: Session) -> None:
        if session.info.pop("catalogue_changed", False):
            try:
                client.incr(CATALOGUE_VERSION_KEY)
            except redis.RedisError:
                log.warning(
                    "catalogue version not bumped (Redis unavailable): USSD shows the change "
                    "within %d s", int(MAX_AGE_SECONDS), exc_info=True,
                )
