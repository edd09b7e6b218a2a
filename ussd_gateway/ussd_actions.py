"""The database-backed handlers the menu engine calls (the registry the app injects).

Sources (dynamic menus): ``services`` (active services of a group), ``my_requests`` (the
caller's requests, newest first). Actions: ``create_request``, ``lookup_reference``,
``service_info``. Reads are one statement each in autocommit (one database round trip); the
catalogue comes from the per-process ``CatalogueCache`` (no round trip while its version holds);
``create_request`` (the confirming hop) writes the request, its audit row and its SMS together.

Per-hop facts the engine does not carry (the phone's reference-lookup count, what to write back
to Redis, the SMS to enqueue after commit) travel in a ``HopScope`` set by the USSD adapter for
the duration of one hop (a context variable: safe with threads).
"""
from __future__ import annotations

import contextvars
import datetime as dt
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from menus.engine import display_value
from menus.handlers import ActionContext, ActionResult, Option
from menus.model import MenuGraph
from ussd_gateway.catalogue_cache import CatalogueCache, CatalogueSnapshot
from ussd_gateway.db import transaction
from ussd_gateway.lifecycle import is_open
from ussd_gateway.models import Resident, Service, ServiceRequest
from ussd_gateway.notifications import SmsComposer
from ussd_gateway.references import format_reference
from ussd_gateway.service_requests import NewRequest, create_request

log = logging.getLogger(__name__)

#: requests one phone may create per day over USSD (anti-abuse; the guichet has no limit)
MAX_REQUESTS_PER_PHONE_PER_DAY = 10
#: requests listed under "Mes demandes" (newest first; the engine paginates)
MY_REQUESTS_LISTED = 20


@dataclass
class HopScope:
    """What one hop's handlers read and leave for the adapter."""

    provider: str
    lookups_used: int = 0
    lookups_allowed: int = 10
    count_lookup: bool = False
    outbox_ids: list[int] = field(default_factory=list)
    #: the catalogue version read with the session (``catalogue_cache``)
    catalogue_version: bytes | None = None


_scope: contextvars.ContextVar[HopScope] = contextvars.ContextVar("ussd_hop_scope")


@contextmanager
def hop_scope(scope: HopScope) -> Iterator[HopScope]:
    token = _scope.set(scope)
    try:
        yield scope
    finally:
        _scope.reset(token)


def _fcfa(amount: int | None, note: str, language: str) -> str:
    if amount is None:
        return note or {"fr": "au guichet", "en": "at the counter", "ee": "le gisie"}.get(language, "-")
    if amount == 0:
        return {"fr": "gratuit", "en": "free", "ee": "femaxee"}.get(language, "0")
    text = f"{amount:,}".replace(",", " ") + " FCFA"
    return f"{text} {note}".strip() if note and language == "fr" else text


class UssdHandlers:
    """The registry of sources and actions (see menus/handlers.py for the contract)."""

    SOURCES = ("services", "my_requests")
    ACTIONS = ("create_request", "lookup_reference", "service_info")

    def __init__(
        self,
        sessions: sessionmaker[Session],
        graph: MenuGraph,
        composer: SmsComposer,
        *,
        reads: sessionmaker[Session] | None = None,
        catalogue: CatalogueCache | None = None,
    ) -> None:
        self.sessions = sessions
        self.reads = reads or sessions
        self.catalogue = catalogue or CatalogueCache(self.reads)
        self.graph = graph
        self.composer = composer
        self._sources = {"services": self._services, "my_requests": self._my_requests}
        self._actions = {
            "create_request": self._create_request,
            "lookup_reference": self._lookup_reference,
            "service_info": self._service_info,
        }

    # -- the contract -------------------------------------------------------------------------
    def options(self, source: str, ctx: ActionContext) -> Sequence[Option]:
        return self._sources[source](ctx)

    def run(self, action: str, ctx: ActionContext) -> ActionResult:
        return self._actions[action](ctx)

    # -- sources ------------------------------------------------------------------------------
    def _catalogue(self) -> CatalogueSnapshot:
        scope = _scope.get(None)
        return self.catalogue.snapshot(scope.catalogue_version if scope else None)

    def _services(self, ctx: ActionContext) -> list[Option]:
        group = ctx.params.get("group") or ctx.answers.get("group")
        snapshot = self._catalogue()
        if group:
            entries = snapshot.active_by_group.get(group, ())
        else:
            entries = tuple(s for s in snapshot.services.values() if s.active)
        return [Option(s.code, s.name(ctx.language)) for s in entries]

    def _my_requests(self, ctx: ActionContext) -> list[Option]:
        with self.reads() as session:
            rows = session.execute(
                select(ServiceRequest.reference, ServiceRequest.status, Service.names)
                .join(Resident, Resident.id == ServiceRequest.resident_id)
                .join(Service, Service.code == ServiceRequest.service_code)
                .where(Resident.phone == ctx.phone)
                .order_by(ServiceRequest.created_at.desc(), ServiceRequest.id.desc())
                .limit(MY_REQUESTS_LISTED)
            ).all()
        options = []
        for reference, status, names in rows:
            name = names.get(ctx.language) or names.get("fr") or ""
            word = self.graph.status_word(status, ctx.language)
            options.append(Option(reference, f"{format_reference(reference)} {name}: {word}"))
        return options

    # -- actions ------------------------------------------------------------------------------
    def _create_request(self, ctx: ActionContext) -> ActionResult:
        scope = _scope.get()
        code = ctx.service or ctx.answers.get("service") or ""
        answers = self._answers_for_staff(code, ctx)
        with transaction(self.sessions) as session:
            since = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1)
            recent = session.scalar(
                select(func.count(ServiceRequest.id))
                .join(Resident, Resident.id == ServiceRequest.resident_id)
                .where(Resident.phone == ctx.phone, ServiceRequest.created_at >= since)
            )
            key = f"{scope.provider}:{ctx.session_id}"
            # over the limit, a retry of this journey's own confirmation still gets its request
            if (recent or 0) >= MAX_REQUESTS_PER_PHONE_PER_DAY and session.scalar(
                select(ServiceRequest.id).where(ServiceRequest.idempotency_key == key)
            ) is None:
                return ActionResult(outcome="limite")
            created = create_request(
                session,
                self.composer,
                NewRequest(
                    service_code=code,
                    phone=ctx.phone,
                    language=ctx.language,
                    answers=answers,
                    quartier=ctx.quartier,
                    channel="ussd",
                    idempotency_key=key,
                ),
            )
            reference = created.request.reference
            delay = created.service.delay_days
        scope.outbox_ids.extend(created.outbox_ids)
        return ActionResult(
            variables={"reference": format_reference(reference), "delay": str(delay)}
        )

    def _answers_for_staff(self, code: str, ctx: ActionContext) -> list[dict[str, str]]:
        """The form's answers in question order, labelled in French for the staff view."""
        form = self.graph.forms.get(code)
        answers: list[dict[str, str]] = []
        for screen_id in form.screens if form else ():
            screen = self.graph.screens.get(screen_id)
            field_name = getattr(screen, "field", None)
            if screen is None or field_name is None or field_name not in ctx.answers:
                continue
            labels = getattr(screen, "summary", None) or screen.text  # type: ignore[union-attr]
            value = ctx.answers[field_name]
            answers.append(
                {
                    "field": field_name,
                    "label": labels.get("fr", field_name).rstrip(" :"),
                    "value": value,
                    "display": display_value(screen, value, "fr"),
                }
            )
        return answers

    def _lookup_reference(self, ctx: ActionContext) -> ActionResult:
        scope = _scope.get()
        reference = ctx.answers.get("reference", "")
        with self.reads() as session:
            row = session.execute(
                select(ServiceRequest.status, ServiceRequest.expected_date, Resident.phone, Service.names)
                .join(Resident, Resident.id == ServiceRequest.resident_id)
                .join(Service, Service.code == ServiceRequest.service_code)
                .where(ServiceRequest.reference == reference)
            ).first()
        own = row is not None and row.phone == ctx.phone
        if not own:
            # unknown references and rate-limited lookups answer alike
            scope.count_lookup = True
            if scope.lookups_used >= scope.lookups_allowed or row is None:
                return ActionResult(
                    variables={"reference": format_reference(reference) if reference else ""},
                    outcome="introuvable",
                )
        assert row is not None
        word = self.graph.status_word(row.status, ctx.language)
        variables = {"reference": format_reference(reference), "status": word}
        if not own:
            return ActionResult(variables=variables, outcome="autre")
        detail = ""
        if is_open(row.status) and row.expected_date:
            label = {"fr": "Date prévue", "en": "Expected", "ee": "Gbe"}.get(ctx.language, "Date")
            detail = f"{label}: {row.expected_date.strftime('%d/%m/%Y')}"
        variables.update(
            service=row.names.get(ctx.language) or row.names.get("fr") or "", detail=detail
        )
        return ActionResult(variables=variables)

    def _service_info(self, ctx: ActionContext) -> ActionResult:
        code = ctx.service or ctx.answers.get("service") or ""
        service = self._catalogue().services.get(code)
        if service is None:
            raise LookupError(f"service {code!r} unknown")
        return ActionResult(
            variables={
                "service_label": service.name(ctx.language),
                "fee": _fcfa(service.fee_fcfa, service.fee_note, ctx.language),
                "delay": str(service.delay_days),
                "documents": service.documents,
                "referral": service.referral or "",
            }
        )
