"""USSD session state in Redis: at most two round trips a hop.

Round trip 1 (``load``, one pipeline): the session record, the phone's cached profile
(language, consent version), its saved draft, its reference-lookup counter and the catalogue
version (``catalogue_cache``).
Round trip 2 (``save``, one pipeline): the new session record (through a small Lua script that
never lets an older hop overwrite a newer one), the profile / draft / counter changes, and the
SMS send jobs of what the hop committed (RQ enqueue, after the database commit).

Keys (one helper, like RQ's ``key_for``)::

    ussd:s:<provider>:<sessionId>   session record (JSON), TTL a little above the operator's limit
    ussd:p:<phone>                  cached profile (JSON), source of truth is the database
    ussd:d:<phone>                  draft of an interrupted request (JSON), short TTL
    ussd:l:<phone>                  reference lookups in the current hour (counter)
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import redis

from ussd_gateway.catalogue_cache import CATALOGUE_VERSION_KEY
from workers.queues import enqueue_outbox_sms

PROFILE_TTL_SECONDS = 86400
LOOKUP_WINDOW_SECONDS = 3600

# Store the session record only if it is not older than the stored one (hop counts grow).
_SAVE_SESSION = """
local cur = redis.call('GET', KEYS[1])
if cur then
  local n = tonumber(string.match(cur, '^{"n": ?(%d+)'))
  if n and n > tonumber(ARGV[1]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
return 1
"""


def session_key(provider: str, session_id: str) -> str:
    return f"ussd:s:{provider}:{session_id}"


def profile_key(phone: str) -> str:
    return f"ussd:p:{phone}"


def draft_key(phone: str) -> str:
    return f"ussd:d:{phone}"


def lookups_key(phone: str) -> str:
    return f"ussd:l:{phone}"


@dataclass
class SessionRecord:
    """What a USSD session keeps between hops."""

    hops: int  # number of answers consumed so far (monotonic)
    text: str  # the provider's ``text`` of the last hop handled
    reply: str  # the exact body answered to that hop (replayed byte for byte on a retry)
    state: str | None  # the engine's serialised state; None once the session ended
    language: str = "fr"

    @property
    def ended(self) -> bool:
        return self.state is None

    def to_json(self) -> str:
        # "n" first: the Lua guard reads it with a pattern
        return '{"n": ' + _compact_json(
            {"t": self.text, "r": self.reply, "s": self.state, "l": self.language}
        ).replace("{", f"{self.hops},", 1)

    @classmethod
    def from_json(cls, raw: bytes | str) -> SessionRecord:
        data = json.loads(raw)
        return cls(hops=data["n"], text=data["t"], reply=data["r"], state=data["s"], language=data.get("l", "fr"))


_compact_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


@dataclass
class Profile:
    """The phone's remembered choices (cached from the resident row)."""

    language: str | None = None
    consent_version: str | None = None
    known: bool = False  # False: not cached, read the database

    def to_json(self) -> str:
        return json.dumps({"l": self.language, "c": self.consent_version}, separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: bytes | str) -> Profile:
        data = json.loads(raw)
        return cls(language=data.get("l"), consent_version=data.get("c"), known=True)


@dataclass
class Loaded:
    session: SessionRecord | None
    profile: Profile
    draft: str | None
    lookups: int
    catalogue_version: bytes | None = None


@dataclass
class Changes:
    """What a hop writes back in its second round trip."""

    session: SessionRecord
    profile: Profile | None = None
    draft: str | None = None  # new draft state to keep
    clear_draft: bool = False
    count_lookup: bool = False
    #: outbox rows committed by this hop: their send jobs are enqueued with the save
    outbox_ids: list[int] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


class UssdSessionStore:
    def __init__(self, client: redis.Redis, *, session_ttl: int, draft_ttl: int) -> None:
        self.client = client
        self.session_ttl = session_ttl
        self.draft_ttl = draft_ttl

    def load(self, provider: str, session_id: str, phone: str) -> Loaded:
        """One round trip: session, profile, draft, lookup counter and catalogue version."""
        raw_session, raw_profile, raw_draft, raw_lookups, version = self.client.mget(
            session_key(provider, session_id),
            profile_key(phone),
            draft_key(phone),
            lookups_key(phone),
            CATALOGUE_VERSION_KEY,
        )
        return Loaded(
            session=SessionRecord.from_json(raw_session) if raw_session else None,
            profile=Profile.from_json(raw_profile) if raw_profile else Profile(),
            draft=raw_draft.decode() if isinstance(raw_draft, bytes) else raw_draft,
            lookups=int(raw_lookups or 0),
            catalogue_version=version,
        )

    def save(self, provider: str, session_id: str, phone: str, changes: Changes) -> None:
        """One round trip: everything the hop changed."""
        pipe = self.client.pipeline(transaction=False)
        # plain EVAL, not EVALSHA: redis-py checks registered scripts with an extra round trip
        pipe.eval(
            _SAVE_SESSION,
            1,
            session_key(provider, session_id),
            changes.session.hops,
            changes.session.to_json(),
            self.session_ttl,
        )
        if changes.profile is not None:
            pipe.set(profile_key(phone), changes.profile.to_json(), ex=PROFILE_TTL_SECONDS)
        if changes.clear_draft:
            pipe.delete(draft_key(phone))
        elif changes.draft is not None and self.draft_ttl > 0:
            pipe.set(draft_key(phone), changes.draft, ex=self.draft_ttl)
        if changes.count_lookup:
            # start the window if there is none (works on Redis 6.2, the embedded server)
            pipe.set(lookups_key(phone), 0, ex=LOOKUP_WINDOW_SECONDS, nx=True)
            pipe.incr(lookups_key(phone))
        if changes.outbox_ids:
            enqueue_outbox_sms(self.client, changes.outbox_ids, pipeline=pipe)
        pipe.execute()

    def forget_profile(self, phone: str) -> None:
        self.client.delete(profile_key(phone))
