"""The commune's service catalogue: seeded from its data file, then edited by staff.

Seeding inserts groups and services that are not in the database yet and never overwrites
what staff changed (fees, delays, documents, active flag).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from ussd_gateway.models import Service, ServiceGroup

LANGUAGES = ("fr", "en", "ee")
KINDS = ("document", "procedure", "report", "info")


class CatalogueError(ValueError):
    """The catalogue file is malformed; the message names the entry."""


def read_catalogue(path: Path) -> dict[str, Any]:
    """Parse and check the catalogue file; raise CatalogueError listing every problem."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogueError(f"{path}: {exc}") from exc
    problems: list[str] = []
    if not isinstance(data, dict):
        raise CatalogueError(f"{path}: expected a mapping with 'groups' and 'services'")
    groups = data.get("groups") or []
    services = data.get("services") or []
    group_codes = set()
    for i, group in enumerate(groups):
        code = group.get("code") if isinstance(group, dict) else None
        if not isinstance(code, str):
            problems.append(f"groups[{i}]: 'code' must be a string")
            continue
        group_codes.add(code)
        for lang in LANGUAGES:
            if not (group.get("names") or {}).get(lang):
                problems.append(f"group {code}: missing name in {lang}")
    seen = set()
    for i, svc in enumerate(services):
        code = svc.get("code") if isinstance(svc, dict) else None
        if not isinstance(code, str):
            problems.append(f"services[{i}]: 'code' must be a string")
            continue
        if code in seen:
            problems.append(f"service {code}: defined twice")
        seen.add(code)
        if svc.get("group") not in group_codes:
            problems.append(f"service {code}: unknown group {svc.get('group')!r}")
        if svc.get("kind") not in KINDS:
            problems.append(f"service {code}: kind must be one of {', '.join(KINDS)}")
        for lang in LANGUAGES:
            if not (svc.get("names") or {}).get(lang):
                problems.append(f"service {code}: missing name in {lang}")
        if not isinstance(svc.get("delay_days", 0), int) or svc.get("delay_days", 0) < 0:
            problems.append(f"service {code}: delay_days must be a whole number of days >= 0")
        fee = svc.get("fee_fcfa")
        if fee is not None and (not isinstance(fee, int) or fee < 0):
            problems.append(f"service {code}: fee_fcfa must be a whole number >= 0 or null")
    if problems:
        raise CatalogueError(f"{path}: " + "; ".join(problems))
    return data


def seed_catalogue(session: Session, path: Path) -> int:
    """Insert the groups and services missing from the database; return how many services."""
    data = read_catalogue(path)
    existing_groups = set(session.scalars(select(ServiceGroup.code)))
    for position, group in enumerate(data.get("groups") or []):
        if group["code"] not in existing_groups:
            session.add(ServiceGroup(code=group["code"], names=group["names"], position=position))
    session.flush()
    existing = set(session.scalars(select(Service.code)))
    added = 0
    for position, svc in enumerate(data.get("services") or []):
        if svc["code"] in existing:
            continue
        referral = (svc.get("referral") or {}).get("organisme")
        session.add(
            Service(
                code=svc["code"],
                group_code=svc["group"],
                kind=svc["kind"],
                names=svc["names"],
                fee_fcfa=svc.get("fee_fcfa"),
                fee_note=svc.get("fee_note") or "",
                delay_days=svc.get("delay_days", 3),
                documents=svc.get("documents") or "",
                referral=referral,
                active=bool(svc.get("active", True)),
                position=position,
            )
        )
        added += 1
    session.flush()
    return added
