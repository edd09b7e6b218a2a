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
At most two Redis round trips a hop (``UssdSessionStore.load`` / ``save``).
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy.exc import IntegrityError

from menus.effects import ClearDraft, RecordConsent, SaveDraft, SetLanguage, Step
from menus.state import HopContext, SessionState
from ussd_gateway.callbacks import UssdHop, UssdSessionEnd
from ussd_gateway.db import transaction
from ussd_gateway.models import Resident, UssdSessionRecord, utcnow
from ussd_gateway.runtime import Runtime
from ussd_gateway.service_requests import get_or_create_resident, today_in_commune
from ussd_gateway.ussd_sessions import Changes, Loaded, Profile, SessionRecord, UssdSessionStore

log = logging.getLogger(__name__)

#: inputs replayed from a dial-string shortcut, at most (``*384*2*1*3#``)
MAX_SHORTCUT_INPUTS = 8


def _services(runtime: Runtime) -> Any:
    """The per-process USSD parts (engine, store), built on first use."""
    from ussd_gateway.ussd_service import UssdService

    service = runtime.extras.get("ussd")
    if service is None:
        service = UssdService.build(runtime)
        runtime.extras["ussd"] = service
    return service


def malformed_hop_reply(runtime: Runtime, form: Mapping[str, str]) -> str:
    """The body for a hop whose form is unusable: a clean END in the default language."""
    return "END " + _services(runtime).engine.apology(runtime.settings.commune.default_language)


def answer_hop(runtime: Runtime, provider: str, hop: UssdHop) -> str:
    """The body to answer this hop with (``CON ...`` or ``END ...``)."""
    return _services(runtime).answer(provider, hop)


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
