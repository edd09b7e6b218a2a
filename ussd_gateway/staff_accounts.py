"""Staff accounts: create, used by the CLI (`staff add`), first start and the admin pages."""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ussd_gateway.models import AuditEvent, StaffService, StaffUser
from ussd_gateway.passwords import hash_password, password_problem

ROLES = ("agent", "supervisor", "admin")


class StaffAccountError(ValueError):
    """Refused account operation (French message)."""


def normalize_email(email: str) -> str:
    email = email.strip().lower()
    if "@" not in email or len(email) > 254 or email.startswith("@") or email.endswith("@"):
        raise StaffAccountError(f"adresse e-mail invalide: {email!r}")
    return email


def create_staff(
    session: Session,
    email: str,
    password: str,
    role: str,
    *,
    full_name: str = "",
    services: Iterable[str] = (),
    actor_id: int | None = None,
) -> StaffUser:
    email = normalize_email(email)
    if role not in ROLES:
        raise StaffAccountError(f"rôle inconnu: {role!r} (agent, supervisor ou admin)")
    problem = password_problem(password)
    if problem:
        raise StaffAccountError(problem)
    if session.scalar(select(StaffUser.id).where(StaffUser.email == email)) is not None:
        raise StaffAccountError(f"un compte existe déjà pour {email}")
    user = StaffUser(
        email=email, full_name=full_name, password_hash=hash_password(password), role=role
    )
    user.services = [StaffService(service_code=code) for code in services]
    session.add(user)
    session.flush()
    session.add(
        AuditEvent(
            actor_id=actor_id,
            action="staff.create",
            target_type="staff_user",
            target_id=str(user.id),
            details={"email": email, "role": role, "services": list(services)},
        )
    )
    return user


def staff_count(session: Session) -> int:
    return session.scalar(select(func.count(StaffUser.id))) or 0
