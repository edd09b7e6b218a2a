"""Read side of the staff view: role-scoped request lists, filters, search and dashboard figures.

Every query that lists requests starts from :func:`scoped_requests`, so an agent never sees a
request of a service they do not process, in a page, a count, a search or an export.
"""
from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import Select, and_, case, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from ussd_gateway.lifecycle import CLOSED_STATUSES, OPEN_STATUSES, STATUS_LABELS_FR, Status
from ussd_gateway.models import (
    DeliveryReport,
    OutboundSms,
    Resident,
    Service,
    ServiceRequest,
    StaffUser,
)
from ussd_gateway.phones import InvalidPhoneNumber, normalize_phone
from ussd_gateway.references import REFERENCE_DIGITS
from ussd_gateway.staff.auth import StaffIdentity

OPEN_VALUES = tuple(s.value for s in OPEN_STATUSES)
CLOSED_VALUES = tuple(s.value for s in CLOSED_STATUSES)
#: closed statuses that mean the commune processed the request (for processing times)
PROCESSED_VALUES = ("delivree", "resolue", "rejetee", "hors_competence")
DELIVERED_REPORTS = ("Success",)
FAILED_REPORTS = ("Failed", "Rejected", "AbsentSubscriber", "Expired")
EXPORT_MAX_ROWS = 100_000


# --------------------------------------------------------------------------- filters


@dataclass(frozen=True)
class Search:
    kind: str  # "reference" | "phone" | "invalid"
    value: str


def parse_search(text: str) -> Search | None:
    """A reference (9 digits, spaces/dots/dashes ignored) or a phone number, or invalid."""
    text = text.strip()
    if not text:
        return None
    cleaned = "".join(ch for ch in text if ch not in " .-\t")
    if cleaned.isascii() and cleaned.isdigit() and len(cleaned) == REFERENCE_DIGITS:
        return Search("reference", cleaned)
    try:
        return Search("phone", normalize_phone(text))
    except InvalidPhoneNumber:
        return Search("invalid", text)


def _parse_date(raw: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


@dataclass(frozen=True)
class RequestFilters:
    """The list's filters, as read from the query string (unknown values are ignored)."""

    status: str = ""  # a status, "ouvertes" or "closes"
    service: str = ""
    quartier: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    assignee: str = ""  # "", "aucun", "moi" or a staff id
    q: str = ""
    overdue: bool = False
    page: int = 1

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> RequestFilters:
        status = args.get("statut", "")
        if status not in ("ouvertes", "closes") and status not in {s.value for s in Status}:
            status = ""
        assignee = args.get("agent", "")
        if assignee not in ("", "aucun", "moi") and not assignee.isdigit():
            assignee = ""
        try:
            page = max(1, min(int(args.get("page", "1")), 100_000))
        except ValueError:
            page = 1
        return cls(
            status=status,
            service=args.get("service", "")[:10],
            quartier=args.get("quartier", "")[:60],
            date_from=_parse_date(args.get("du")),
            date_to=_parse_date(args.get("au")),
            assignee=assignee,
            q=args.get("q", "")[:40],
            overdue=args.get("retard") == "1",
            page=page,
        )

    def to_args(self, **changes: Any) -> dict[str, str]:
        """Query-string arguments for these filters (for links: pages, export)."""
        f = replace(self, **changes)
        args = {
            "statut": f.status,
            "service": f.service,
            "quartier": f.quartier,
            "du": f.date_from.isoformat() if f.date_from else "",
            "au": f.date_to.isoformat() if f.date_to else "",
            "agent": f.assignee,
            "q": f.q,
            "retard": "1" if f.overdue else "",
            "page": str(f.page) if f.page > 1 else "",
        }
        return {k: v for k, v in args.items() if v}

    @property
    def active(self) -> bool:
        return bool(self.to_args(page=1))


def scoped_requests(identity: StaffIdentity) -> Select[Any]:
    """``SELECT service_request.id``-shaped base query restricted to what ``identity`` may see."""
    query = select(ServiceRequest)
    if identity.is_agent:
        query = query.where(ServiceRequest.service_code.in_(sorted(identity.service_codes)))
    return query


def visible_request(session: Session, identity: StaffIdentity, request_id: int) -> ServiceRequest | None:
    """The request if it exists and ``identity`` may see it (object-level authorization)."""
    request = session.get(ServiceRequest, request_id)
    if request is None or not identity.can_see_service(request.service_code):
        return None
    return request


def find_by_reference(session: Session, identity: StaffIdentity, reference: str) -> ServiceRequest | None:
    return session.scalar(
        scoped_requests(identity).where(ServiceRequest.reference == reference)
    )


def apply_filters(
    query: Select[Any],
    filters: RequestFilters,
    identity: StaffIdentity,
    quartier_aliases: Mapping[str, tuple[str, ...]],
    today: dt.date,
) -> Select[Any]:
    """Add the WHERE clauses of ``filters`` (the query must already select from requests)."""
    r = ServiceRequest
    if filters.status == "ouvertes":
        query = query.where(r.status.in_(OPEN_VALUES))
    elif filters.status == "closes":
        query = query.where(r.status.in_(CLOSED_VALUES))
    elif filters.status:
        query = query.where(r.status == filters.status)
    if filters.service:
        query = query.where(r.service_code == filters.service)
    if filters.quartier:
        query = query.where(r.quartier.in_(quartier_aliases.get(filters.quartier, (filters.quartier,))))
    if filters.date_from:
        query = query.where(r.created_at >= _day_start(filters.date_from))
    if filters.date_to:
        query = query.where(r.created_at < _day_start(filters.date_to + dt.timedelta(days=1)))
    if filters.assignee == "aucun":
        query = query.where(r.assignee_id.is_(None))
    elif filters.assignee == "moi":
        query = query.where(r.assignee_id == identity.id)
    elif filters.assignee:
        query = query.where(r.assignee_id == int(filters.assignee))
    if filters.overdue:
        query = query.where(r.status.in_(OPEN_VALUES), r.expected_date < today)
    search = parse_search(filters.q)
    if search is not None:
        if search.kind == "reference":
            query = query.where(r.reference == search.value)
        elif search.kind == "phone":
            resident_ids = select(Resident.id).where(Resident.phone == search.value)
            query = query.where(r.resident_id.in_(resident_ids.scalar_subquery()))
        else:
            query = query.where(False)  # type: ignore[arg-type]
    return query


def _day_start(day: dt.date) -> dt.datetime:
    """Midnight in Lomé (UTC+0 all year) as an aware datetime."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.timezone.utc)


# --------------------------------------------------------------------------- list rows


@dataclass(frozen=True)
class RequestRow:
    id: int
    reference: str
    service_code: str
    status: str
    created_at: dt.datetime
    expected_date: dt.date | None
    quartier: str | None
    phone: str
    channel: str
    assignee_name: str | None
    referred_to: str | None

    def overdue(self, today: dt.date) -> bool:
        return (
            self.status in OPEN_VALUES and self.expected_date is not None and self.expected_date < today
        )

    @property
    def status_label(self) -> str:
        return STATUS_LABELS_FR.get(Status(self.status), self.status)


@dataclass(frozen=True)
class RequestPage:
    rows: list[RequestRow]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def _row_query(filtered: Select[Any]) -> Select[Any]:
    ids = filtered.with_only_columns(ServiceRequest.id).subquery()
    assignee = aliased(StaffUser)
    return (
        select(
            ServiceRequest.id,
            ServiceRequest.reference,
            ServiceRequest.service_code,
            ServiceRequest.status,
            ServiceRequest.created_at,
            ServiceRequest.expected_date,
            ServiceRequest.quartier,
            Resident.phone,
            ServiceRequest.channel,
            func.coalesce(func.nullif(assignee.full_name, ""), assignee.email),
            ServiceRequest.referred_to,
        )
        .join(ids, ids.c.id == ServiceRequest.id)
        .join(Resident, Resident.id == ServiceRequest.resident_id)
        .outerjoin(assignee, assignee.id == ServiceRequest.assignee_id)
    )


def list_requests(
    session: Session,
    identity: StaffIdentity,
    filters: RequestFilters,
    *,
    page_size: int,
    quartier_aliases: Mapping[str, tuple[str, ...]],
    today: dt.date,
) -> RequestPage:
    """One page of the filtered, scoped list, newest first, with the total count."""
    filtered = apply_filters(scoped_requests(identity), filters, identity, quartier_aliases, today)
    total = session.scalar(
        filtered.with_only_columns(func.count(), maintain_column_froms=True).order_by(None)
    ) or 0
    page = min(filters.page, max(1, -(-total // page_size)))
    ordered = (
        filtered.order_by(ServiceRequest.created_at.desc(), ServiceRequest.id.desc())
        .limit(page_size)
        .offset((page - 1) * page_size)
    )
    rows = session.execute(
        _row_query(ordered).order_by(ServiceRequest.created_at.desc(), ServiceRequest.id.desc())
    ).all()
    return RequestPage([RequestRow(*row) for row in rows], total, page, page_size)


def iter_export_rows(
    session: Session,
    identity: StaffIdentity,
    filters: RequestFilters,
    *,
    quartier_aliases: Mapping[str, tuple[str, ...]],
    today: dt.date,
) -> Iterator[RequestRow]:
    """Every row of the filtered, scoped list (newest first, capped at EXPORT_MAX_ROWS)."""
    filtered = apply_filters(scoped_requests(identity), filters, identity, quartier_aliases, today)
    ordered = filtered.order_by(ServiceRequest.created_at.desc(), ServiceRequest.id.desc()).limit(
        EXPORT_MAX_ROWS
    )
    query = _row_query(ordered).order_by(ServiceRequest.created_at.desc(), ServiceRequest.id.desc())
    for row in session.execute(query.execution_options(yield_per=2000)):
        yield RequestRow(*row)


def services_by_code(session: Session) -> dict[str, Service]:
    return {s.code: s for s in session.scalars(select(Service).order_by(Service.position))}


def staff_choices(session: Session) -> list[StaffUser]:
    return list(
        session.scalars(select(StaffUser).where(StaffUser.active.is_(True)).order_by(StaffUser.full_name))
    )


# --------------------------------------------------------------------------- request detail


@dataclass(frozen=True)
class SentSms:
    sms: OutboundSms
    last_report: DeliveryReport | None

    @property
    def delivery_label(self) -> str:
        """The best-known fate of this SMS, in French."""
        report = self.last_report.status if self.last_report else None
        if report in DELIVERED_REPORTS or self.sms.status == "delivered":
            return "Remis au téléphone"
        if report in FAILED_REPORTS:
            return f"Non remis ({report})"
        return SMS_STATUS_LABELS.get(self.sms.status, self.sms.status)

    @property
    def delivery_tone(self) -> str:
        report = self.last_report.status if self.last_report else None
        if report in DELIVERED_REPORTS or self.sms.status == "delivered":
            return "ok"
        if report in FAILED_REPORTS or self.sms.status in ("failed", "cancelled", "ambiguous"):
            return "bad"
        return "wait"


SMS_STATUS_LABELS = {
    "pending": "En attente d'envoi",
    "sending": "Envoi en cours",
    "sent": "Envoyé (accusé de réception attendu)",
    "delivered": "Remis au téléphone",
    "failed": "Échec d'envoi",
    "retry": "Nouvel essai prévu",
    "ambiguous": "Envoi incertain (à vérifier)",
    "held": "Retenu (heures calmes ou budget)",
    "cancelled": "Annulé",
}


def sms_of_request(session: Session, request_id: int) -> list[SentSms]:
    """The request's SMS, oldest first, each with its latest delivery report."""
    rows = list(
        session.scalars(
            select(OutboundSms).where(OutboundSms.request_id == request_id).order_by(OutboundSms.id)
        )
    )
    ids = [r.provider_message_id for r in rows if r.provider_message_id]
    latest: dict[str, DeliveryReport] = {}
    if ids:
        for report in session.scalars(
            select(DeliveryReport)
            .where(DeliveryReport.provider_message_id.in_(ids))
            .order_by(DeliveryReport.id)
        ):
            latest[report.provider_message_id] = report
    return [SentSms(r, latest.get(r.provider_message_id or "")) for r in rows]


# --------------------------------------------------------------------------- dashboard


@dataclass
class ServiceFigures:
    code: str
    total: int = 0
    open: int = 0
    overdue: int = 0
    median_days: float | None = None


@dataclass
class Dashboard:
    by_status: dict[str, int]
    by_service: list[ServiceFigures]
    per_day: list[tuple[dt.date, int]]
    overdue_total: int
    overdue: list[RequestRow]
    sms: dict[str, int]
    daily_budget: int
    total: int = 0
    open_total: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def per_day_max(self) -> int:
        return max((n for _, n in self.per_day), default=0)


def dashboard(
    session: Session, *, today: dt.date, now: dt.datetime, daily_budget: int, days: int = 30
) -> Dashboard:
    """The supervisor's figures over every request (one pass per figure, index-friendly)."""
    r = ServiceRequest
    # three index-only scans instead of one pass over the whole table (see migration 0002)
    by_status: dict[str, int] = dict(
        session.execute(select(r.status, func.count()).group_by(r.status)).all()  # type: ignore[arg-type]
    )
    services: dict[str, ServiceFigures] = {}
    for code, count in session.execute(select(r.service_code, func.count()).group_by(r.service_code)):
        services[code] = ServiceFigures(code, total=count)
    for code, open_count, overdue in session.execute(
        select(r.service_code, func.count(), func.count().filter(r.expected_date < today))
        .where(r.status.in_(OPEN_VALUES))
        .group_by(r.service_code)
    ):
        fig = services.setdefault(code, ServiceFigures(code))
        fig.open, fig.overdue = open_count, overdue
    for code, median in _median_processing_days(session, now).items():
        services.setdefault(code, ServiceFigures(code)).median_days = median

    first_day = today - dt.timedelta(days=days - 1)
    per_day_counts: dict[dt.date, int] = {}
    day_expr = func.date(r.created_at)
    for day, count in session.execute(
        select(day_expr, func.count()).where(r.created_at >= _day_start(first_day)).group_by(day_expr)
    ):
        if isinstance(day, str):
            day = dt.date.fromisoformat(day[:10])
        elif isinstance(day, dt.datetime):
            day = day.date()
        per_day_counts[day] = count
    per_day = [
        (first_day + dt.timedelta(days=i), per_day_counts.get(first_day + dt.timedelta(days=i), 0))
        for i in range(days)
    ]

    overdue_query = overdue_requests(today).order_by(r.expected_date, r.id).limit(15)
    overdue_rows = [
        RequestRow(*row)
        for row in session.execute(
            _row_query(overdue_query).order_by(ServiceRequest.expected_date, ServiceRequest.id)
        )
    ]
    overdue_total = sum(f.overdue for f in services.values())
    return Dashboard(
        by_status=dict(by_status),
        by_service=sorted(services.values(), key=lambda f: f.code),
        per_day=per_day,
        overdue_total=overdue_total,
        overdue=overdue_rows,
        sms=sms_figures(session, _day_start(today)),
        daily_budget=daily_budget,
        total=sum(by_status.values()),
        open_total=sum(n for s, n in by_status.items() if s in OPEN_VALUES),
    )


def overdue_requests(today: dt.date) -> Select[Any]:
    return select(ServiceRequest).where(
        ServiceRequest.status.in_(OPEN_VALUES), ServiceRequest.expected_date < today
    )


def _median_processing_days(session: Session, now: dt.datetime, window_days: int = 30) -> dict[str, float]:
    """Median days from receipt to closing, per service, over requests closed recently."""
    r = ServiceRequest
    since = now - dt.timedelta(days=window_days)
    where = (r.status.in_(PROCESSED_VALUES), r.closed_at.is_not(None), r.closed_at >= since)
    if session.get_bind().dialect.name == "postgresql":
        seconds = func.extract("epoch", r.closed_at - r.created_at)
        rows = session.execute(
            select(r.service_code, func.percentile_cont(0.5).within_group(seconds))
            .where(*where)
            .group_by(r.service_code)
        ).all()
        return {code: float(value) / 86400 for code, value in rows if value is not None}
    durations: dict[str, list[float]] = defaultdict(list)
    for code, created, closed in session.execute(
        select(r.service_code, r.created_at, r.closed_at).where(*where)
    ):
        durations[code].append((closed - created).total_seconds() / 86400)
    return {code: statistics.median(values) for code, values in durations.items()}


def sms_figures(session: Session, day_start: dt.datetime) -> dict[str, int]:
    """Today's SMS: sent, delivered, failed, waiting (delivery from reports or the outbox)."""
    o = OutboundSms
    delivered_report = exists().where(
        DeliveryReport.provider_message_id == o.provider_message_id,
        DeliveryReport.status.in_(DELIVERED_REPORTS),
    )
    failed_report = exists().where(
        DeliveryReport.provider_message_id == o.provider_message_id,
        DeliveryReport.status.in_(FAILED_REPORTS),
    )
    row = session.execute(
        select(
            func.count().filter(o.sent_at >= day_start),
            func.coalesce(func.sum(case((o.sent_at >= day_start, o.segments), else_=0)), 0),
            func.count().filter(
                o.sent_at >= day_start, or_(o.status == "delivered", delivered_report)
            ),
            func.count().filter(
                o.updated_at >= day_start,
                or_(o.status == "failed", and_(o.status != "delivered", failed_report)),
            ),
            func.count().filter(o.status.in_(("pending", "sending", "retry", "held", "ambiguous"))),
        ).where(or_(o.updated_at >= day_start, o.status.in_(("pending", "sending", "retry", "held", "ambiguous"))))
    ).one()
    sent, segments, delivered, failed, waiting = (int(v or 0) for v in row)
    return {
        "sent": sent,
        "segments": segments,
        "delivered": delivered,
        "failed": failed,
        "waiting": waiting,
    }
