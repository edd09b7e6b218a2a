"""First-start chores shared by `serve` and `db upgrade`: migrate, seed, first admin."""
from __future__ import annotations

import logging

from sqlalchemy.orm import Session, sessionmaker

from ussd_gateway.catalogue import seed_catalogue
from ussd_gateway.db import transaction, upgrade_database
from ussd_gateway.passwords import generate_password
from ussd_gateway.settings import Settings
from ussd_gateway.staff_accounts import create_staff, staff_count

log = logging.getLogger(__name__)

FIRST_ADMIN_EMAIL = "admin@mairie.local"


def prepare_database(settings: Settings, sessions: sessionmaker[Session]) -> int:
    """Run migrations and seed the catalogue; return the number of services added."""
    upgrade_database(settings.database_url())
    with transaction(sessions) as session:
        return seed_catalogue(session, settings.path(settings.commune.catalogue_file))


def create_first_admin(sessions: sessionmaker[Session]) -> tuple[str, str] | None:
    """On a database without any staff account, create an admin; return (email, password)."""
    with transaction(sessions) as session:
        if staff_count(session):
            return None
        password = generate_password()
        create_staff(session, FIRST_ADMIN_EMAIL, password, "admin", full_name="Administrateur")
        return FIRST_ADMIN_EMAIL, password
