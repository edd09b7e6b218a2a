"""Sign-in, sign-out, revocable sessions, login throttling and role checks.

The session cookie (signed, ``HttpOnly``, ``SameSite=Lax``, ``Secure`` over HTTPS) holds the
staff id, the account's ``session_epoch`` at sign-in and the sign-in time. Every request
re-reads the account: a disabled account, an older epoch (sign-out, disable, password reset
bump it) or a session older than ``staff.session_hours`` sends the browser back to sign-in,
so a copied cookie stops working as soon as its owner signs out.

Throttling counts failed sign-ins in Redis per e-mail address (whether or not an account
exists) and per IP address over 15 minutes. The answer and the work done (one argon2 verify)
are the same for an unknown address, a wrong password and a disabled account.
"""
from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

import redis
from sqlalchemy.exc import SQLAlchemyError
from flask import (
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from werkzeug.exceptions import Forbidden

from ussd_gateway.models import StaffService, StaffUser, utcnow
from ussd_gateway.passwords import hash_password, needs_rehash, verify_password
from ussd_gateway.runtime import Runtime
from ussd_gateway.staff import bp, csrf
from ussd_gateway.staff.forms import LoginForm, SignOutForm

log = logging.getLogger(__name__)

THROTTLE_WINDOW_SECONDS = 15 * 60
#: offices share one public address: the per-IP allowance is this many times the per-account one
IP_ALLOWANCE_FACTOR = 4
PUBLIC_ENDPOINTS = frozenset({"staff.login", "staff.static"})
BAD_CREDENTIALS = "Adresse e-mail ou mot de passe incorrect."
TOO_MANY_ATTEMPTS = "Trop de tentatives de connexion. Réessayez dans 15 minutes."

F = TypeVar("F", bound=Callable[..., Any])


# --------------------------------------------------------------------------- identity


@dataclass(frozen=True)
class StaffIdentity:
    """Who is signed in, as read at the start of this request."""

    id: int
    email: str
    full_name: str
    role: str
    service_codes: frozenset[str]

    @property
    def is_agent(self) -> bool:
        return self.role == "agent"

    @property
    def is_supervisor(self) -> bool:
        """Supervisors and admins: see every request, assign, see the dashboard."""
        return self.role in ("supervisor", "admin")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def display_name(self) -> str:
        return self.full_name or self.email

    def can_see_service(self, service_code: str) -> bool:
        return not self.is_agent or service_code in self.service_codes


def runtime() -> Runtime:
    return current_app.extensions["gateway"]  # type: ignore[no-any-return]


def db() -> Session:
    """The request's database session (closed at teardown)."""
    if "staff_db" not in g:
        g.staff_db = runtime().sessions()
    return g.staff_db  # type: ignore[no-any-return]


@bp.teardown_request
def _close_db(exc: BaseException | None) -> None:
    session_ = g.pop("staff_db", None)
    if session_ is not None:
        session_.close()


def current_staff() -> StaffIdentity:
    return g.staff  # type: ignore[no-any-return]


def require_role(*roles: str) -> Callable[[F], F]:
    """Refuse (403) a view to anyone whose role is not in ``roles``."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if current_staff().role not in roles:
                raise Forbidden()
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def _identity_from_session(dbs: Session) -> StaffIdentity | None:
    staff_id = session.get("staff_id")
    epoch = session.get("epoch")
    signed_in_at = session.get("signed_in_at")
    if not isinstance(staff_id, int) or not isinstance(epoch, int):
        return None
    max_age = runtime().settings.staff.session_hours * 3600
    if not isinstance(signed_in_at, (int, float)) or time.time() - signed_in_at > max_age:
        return None
    user = dbs.get(StaffUser, staff_id)
    if user is None or not user.active or user.session_epoch != epoch:
        return None
    codes = frozenset(
        dbs.scalars(select(StaffService.service_code).where(StaffService.staff_id == user.id))
    )
    return StaffIdentity(user.id, user.email, user.full_name, user.role, codes)


@bp.before_request
def _authenticate() -> ResponseReturnValue | None:
    """Every staff page but sign-in needs a valid session; every POST a CSRF token."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        if request.method == "POST":
            csrf.protect()
        return None
    identity = _identity_from_session(db())
    if identity is None:
        had_session = "staff_id" in session
        session.clear()
        if had_session:
            flash("Votre session a pris fin. Reconnectez-vous.", "info")
        target = request.full_path if request.method == "GET" else None
        return redirect(url_for("staff.login", next=target) if target else url_for("staff.login"))
    g.staff = identity
    if request.method == "POST":
        csrf.protect()
    return None


@bp.context_processor
def _inject_identity() -> dict[str, Any]:
    return {
        "staff_user": g.get("staff"),
        "sign_out_form": SignOutForm(),
        "commune_name": runtime().settings.commune.name,
        "sms_paused_notice": _sms_paused_notice(),
    }


def _sms_paused_notice() -> str | None:
    """The day's "SMS budget reached, sending paused" notice, for signed-in staff."""
    if g.get("staff") is None:
        return None
    from ussd_gateway.sms_quota import budget_pause_notice_today

    try:
        return budget_pause_notice_today(db(), runtime().settings.commune.timezone)
    except SQLAlchemyError:
        log.exception("could not read the SMS budget flag")
        return None


# --------------------------------------------------------------------------- throttling


class LoginThrottle:
    """Failed sign-in counters in Redis, per account e-mail and per client address."""

    def __init__(self, connection: redis.Redis, per_account: int, window: int = THROTTLE_WINDOW_SECONDS):
        self.redis = connection
        self.per_account = per_account
        self.per_ip = per_account * IP_ALLOWANCE_FACTOR
        self.window = window

    @staticmethod
    def account_key(email: str) -> str:
        digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
        return f"staff:login-fail:account:{digest}"

    @staticmethod
    def ip_key(ip: str) -> str:
        return f"staff:login-fail:ip:{ip}"

    def blocked(self, email: str, ip: str) -> bool:
        account, by_ip = self.redis.mget(self.account_key(email), self.ip_key(ip))
        return int(account or 0) >= self.per_account or int(by_ip or 0) >= self.per_ip

    def record_failure(self, email: str, ip: str) -> None:
        with self.redis.pipeline() as pipe:
            for key in (self.account_key(email), self.ip_key(ip)):
                # open the window if none (EXPIRE NX needs Redis 7; the embedded one is 6.2)
                pipe.set(key, 0, ex=self.window, nx=True)
                pipe.incr(key)
            pipe.execute()

    def clear_account(self, email: str) -> None:
        self.redis.delete(self.account_key(email))


def login_throttle() -> LoginThrottle:
    rt = runtime()
    return LoginThrottle(rt.redis, rt.settings.staff.login_attempts_per_15min)


# --------------------------------------------------------------------------- sign-in / out


def safe_next(target: str | None) -> str:
    """Only a path inside the staff view (no other host) is an acceptable redirect."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and parts.path.startswith("/staff/"):
            return target
    return url_for("staff.index")


def check_credentials(dbs: Session, email: str, password: str) -> StaffUser | None:
    """The active account these credentials open, or None. Always one argon2 verify."""
    user = dbs.scalar(select(StaffUser).where(StaffUser.email == email.strip().lower()))
    ok = verify_password(user.password_hash if user is not None else None, password)
    if not ok or user is None or not user.active:
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


@bp.route("/connexion", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    form = LoginForm()
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        ip = request.remote_addr or "?"
        throttle = login_throttle()
        try:
            blocked = throttle.blocked(email, ip)
        except redis.RedisError:
            log.error("login throttle unavailable (Redis down): sign-in not rate-limited")
            blocked = False
        if blocked:
            log.warning("sign-in throttled for %s from %s", email, ip)
            form.password.errors.append(TOO_MANY_ATTEMPTS)
            return render_template("staff/login.html", form=form), 429
        dbs = db()
        user = check_credentials(dbs, email, form.password.data)
        if user is None:
            try:
                throttle.record_failure(email, ip)
            except redis.RedisError:
                log.error("could not count a failed sign-in (Redis down)")
            dbs.rollback()
            form.password.errors.append(BAD_CREDENTIALS)
            return render_template("staff/login.html", form=form), 200
        user.last_login_at = utcnow()
        dbs.commit()
        try:
            throttle.clear_account(email)
        except redis.RedisError:
            pass
        session.clear()
        session.permanent = True
        session["staff_id"] = user.id
        session["epoch"] = user.session_epoch
        session["signed_in_at"] = int(time.time())
        log.info("staff %s signed in from %s", user.id, ip)
        return redirect(safe_next(request.args.get("next")))
    return render_template("staff/login.html", form=form)


def bump_session_epoch(dbs: Session, staff_id: int) -> None:
    """End every session of this account (in the caller's transaction)."""
    dbs.execute(
        update(StaffUser)
        .where(StaffUser.id == staff_id)
        .values(session_epoch=StaffUser.session_epoch + 1)
    )


@bp.post("/deconnexion")
def logout() -> ResponseReturnValue:
    dbs = db()
    bump_session_epoch(dbs, current_staff().id)
    dbs.commit()
    session.clear()
    flash("Vous êtes déconnecté(e).", "info")
    return redirect(url_for("staff.login"))


