"""The commune's quartiers (from the menus' ``lists.quartiers``), for filters and display."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml


@dataclass(frozen=True)
class Quartier:
    value: str  # what the USSD stores
    label: str  # what staff read


def load_quartiers(forms_file: Path) -> tuple[Quartier, ...]:
    """The quartier list of the menus' forms file; empty if the file or list is missing."""
    try:
        data = yaml.safe_load(forms_file.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return ()
    items = (data.get("lists") or {}).get("quartiers") or []
    out = []
    for item in items:
        if isinstance(item, dict) and item.get("value"):
            label = item.get("label") or item["value"]
            if isinstance(label, dict):
                label = label.get("fr") or item["value"]
            out.append(Quartier(str(item["value"]), str(label)))
    return tuple(out)


def quartier_label(quartiers: tuple[Quartier, ...], stored: str | None) -> str:
    """The readable name of a stored quartier value (the value itself if unknown)."""
    if not stored:
        return ""
    for q in quartiers:
        if q.value == stored:
            return q.label
    return stored
