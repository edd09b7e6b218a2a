"""One USSD hop, top to bottom: decode → session store → menu engine → effects → reply.

Protocol rules (DOMAIN.md §3):
- the new input is the suffix of ``text`` after the previous hop's ``text`` + ``*`` (a ``*``
  typed inside a name stays intact); a first hop with a non-empty ``text`` (dial-string
  shortcut ``*384*2*1#``) is replayed as a sequence of inputs;
- the same (sessionId, text) twice gets the byte-identical reply and changes nothing more;
- a ``text`` that does not extend the previous one, or a hop on an ended session, gets a clean
  ``END`` and changes nothing;
- any error is logged with the session id and answered with a clean ``END`` apology in the
  resident's language — never a 500, a traceback or a hang.
At most two Redis round trips a hop (``UssdSessionStore.load`` / ``save``; the SMS jobs of a
confirmed request travel with ``save``) and, except on the confirming hop, at most one database
round trip (single-statement reads in autocommit; the catalogue from ``catalogue_cache``).
"""
from __future__ import annotations

import logging
from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from menus.effects import ClearDraft, RecordConsent, SaveDraft, SetLanguage, Step
from menus.engine import MenuEngine
from menus.check import check_menus
from menus.loader import load_menus
from menus.problems import MenuDefinitionError
from menus.state import HopContext, SessionState
from ussd_gateway.callbacks import UssdHop, UssdSessionEnd
from ussd_gateway.catalogue_cache import CatalogueCache, watch_catalogue_changes
from ussd_gateway.db import make_read_session_factory, transaction
from ussd_gateway.models import Resident, UssdSessionRecord, utcnow
from ussd_gateway.runtime import Runtime
from ussd_gateway.service_requests import get_or_create_resident, today_in_commune
from ussd_gateway.ussd_actions import HopScope, UssdHandlers, hop_scope
from ussd_gateway.ussd_sessions import Changes, Loaded, Profile, SessionRecord, UssdSessionStore

log = logging.getLogger(__name__)

#: inputs replayed from a dial-string shortcut, at most (``*384*2*1*3#``)
MAX_SHORTCUT_INPUTS = 8


class UssdService:
    """The per-process USSD parts: menu engine, handlers, session store."""

    def __init__(
        self,
        runtime: Runtime,
        engine: MenuEngine,
        store: UssdSessionStore,
        reads: sessionmaker[Session],
    ) -> None:
        self.runtime = runtime
        self.engine = engine
        self.store = store
        self.settings = runtime.settings
        self.reads = reads

    @classmethod
    def build(cls, runtime: Runtime) -> UssdService:
        settings = runtime.settings
        graph = load_menus(
            settings.path(settings.commune.menus_dir),
            screen_limit=settings.ussd.screen_limit,
            catalogue_path=settings.path(settings.commune.catalogue_file),
        )
        problems = check_menus(
            graph,
            screen_limit=settings.ussd.screen_limit,
            known_actions=UssdHandlers.ACTIONS,
            known_sources=UssdHandlers.SOURCES,
        )
        if problems:
            raise MenuDefinitionError(problems)
        reads = make_read_session_factory(runtime.engine)
        watch_catalogue_changes(runtime.sessions, runtime.redis)
        handlers = UssdHandlers(
            runtime.sessions, graph, runtime.sms_composer(),
            reads=reads, catalogue=CatalogueCache(reads),
        )
        store = UssdSessionStore(
            runtime.redis,
            session_ttl=settings.ussd.session_ttl_seconds,
            draft_ttl=settings.ussd.draft_ttl_seconds,
        )
        return cls(runtime, MenuEngine(graph, handlers), store, reads)

    # -- one hop ------------------------------------------------------------------------------
    def answer(self, provider: str, hop: UssdHop) -> str:
        language: str | None = None
        try:
            loaded = self.store.load(provider, hop.session_id, hop.phone)
            language = loaded.session.language if loaded.session else loaded.profile.language
            return self._answer(provider, hop, loaded)
        except Exception:
            log.exception(
                "USSD hop failed: session=%s phone=%s text_len=%d",
                hop.session_id, hop.phone, len(hop.text),
            )
            return "END " + self.engine.apology(language)

    def _answer(self, provider: str, hop: UssdHop, loaded: Loaded) -> str:
        record = loaded.session
        if record is not None:
            if hop.text == record.text:
                return record.reply  # a retried hop: the same bytes, nothing done twice
            if record.ended:
                return "END " + self.engine.graph.message("session_over", record.language)
            if record.text == "":
                inputs = [hop.text]
            elif hop.text.startswith(record.text + "*"):
                inputs = [hop.text[len(record.text) + 1 :]]
            else:
                log.warning(
                    "USSD hop text does not extend the previous one: session=%s", hop.session_id
                )
                return "END " + self.engine.graph.message("session_over", record.language)
            hops = record.hops + 1
        else:
            inputs = hop.text.split("*") if hop.text else []
            if len(inputs) > MAX_SHORTCUT_INPUTS:
                inputs = inputs[:MAX_SHORTCUT_INPUTS]
            hops = len(inputs)

        profile = loaded.profile
        if not profile.known:
            profile = self._profile_from_database(hop.phone)
        draft = None
        if loaded.draft:
            try:
                draft = SessionState.from_json(loaded.draft)
            except ValueError:
                draft = None
        ctx = HopContext(
            session_id=hop.session_id,
            phone=hop.phone,
            today=today_in_commune(),
            language=profile.language,
            consent_version=profile.consent_version,
            draft=draft,
        )
        scope = HopScope(
            provider=provider,
            lookups_used=loaded.lookups,
            lookups_allowed=self.settings.ussd.reference_lookups_per_hour,
            catalogue_version=loaded.catalogue_version,
        )
        with hop_scope(scope):
            state = None if record is None else SessionState.from_json(record.state or "")
            step = self.engine.start(ctx) if state is None else None
            for user_input in inputs:
                step = self.engine.step(step.state if step else state, user_input, ctx)
                if step.end:
                    break
        assert step is not None
        changes = Changes(
            session=SessionRecord(
                hops=hops,
                text=hop.text,
                reply=step.reply,
                state=None if step.end else step.state.to_json(),
                language=step.state.language,
            ),
            count_lookup=scope.count_lookup,
            outbox_ids=scope.outbox_ids,
        )
        if not loaded.profile.known or self._apply_effects(step, hop.phone, profile, changes):
            changes.profile = profile
        # the request (if any) is committed: its SMS jobs are enqueued with the session write;
        # if that write fails the outbox rows stay pending and the sweeper enqueues them
        self.store.save(provider, hop.session_id, hop.phone, changes)
        return step.reply

    def _apply_effects(self, step: Step, phone: str, profile: Profile, changes: Changes) -> bool:
        """Persist the engine's effects (language and consent in one transaction); True if the
        phone's profile changed."""
        language: str | None = None
        consent: str | None = None
        for effect in step.effects:
            if isinstance(effect, SetLanguage):
                language = effect.language
            elif isinstance(effect, RecordConsent):
                consent = effect.version
            elif isinstance(effect, SaveDraft):
                changes.draft = step.state.to_json()
            elif isinstance(effect, ClearDraft):
                changes.clear_draft = True
        if language is None and consent is None:
            return False
        self._update_resident(phone, language=language, consent_version=consent)
        if language is not None:
            profile.language = language
        if consent is not None:
            profile.consent_version = consent
        return True

    def _profile_from_database(self, phone: str) -> Profile:
        with self.reads() as session:
            row = session.execute(
                select(Resident.language, Resident.language_chosen, Resident.consent_version)
                .where(Resident.phone == phone)
            ).first()
        if row is None:
            return Profile(known=True)
        return Profile(
            language=row.language if row.language_chosen else None,
            consent_version=row.consent_version,
            known=True,
        )

    def _update_resident(
        self, phone: str, *, language: str | None = None, consent_version: str | None = None
    ) -> None:
        with transaction(self.runtime.sessions) as session:
            resident = get_or_create_resident(session, phone, language)
            if language is not None:
                resident.language = language
                resident.language_chosen = True
            if consent_version is not None:
                resident.consent_version = consent_version
                resident.consent_at = utcnow()


def ussd_service(runtime: Runtime) -> UssdService:
    """The process's UssdService, built on first use."""
    if runtime.ussd is None:
        runtime.ussd = UssdService.build(runtime)
    return runtime.ussd  # type: ignore[no-any-return]


def malformed_hop_reply(runtime: Runtime, form: Mapping[str, str]) -> str:
    """The body for a hop whose form is unusable: a clean END in the default language."""
    return "END " + ussd_service(runtime).engine.apology(runtime.settings.commune.default_language)


def answer_hop(runtime: Runtime, provider: str, hop: UssdHop) -> str:
    """The body to answer this hop with (``CON ...`` or ``END ...``)."""
    return ussd_service(runtime).answer(provider, hop)


def record_session_end(runtime: Runtime, provider: str, end: UssdSessionEnd) -> None:
    """Store the provider's end-of-session notification (once per session)."""
    try:
        with transaction(runtime.sessions) as session:
            session.add(
                UssdSessionRecord(
                    provider=provider,
                    session_id=end.session_id,
                    phone=end.phone,
                    status=end.status,
                    hops=end.hops,
                    duration_ms=end.duration_ms,
                    cost=end.cost or None,
                    error_message=end.error_message or None,
                )
            )
    except IntegrityError:
        log.info("end of USSD session %s already recorded", end.session_id)
