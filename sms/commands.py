"""Commands residents send by SMS: ``STATUT <ref>``, ``STOP``, ``START``, ``AIDE``...

Pure parsing; the app decides what to answer (with :mod:`sms.templates`) and checks the
reference (``ussd_gateway.references.parse_reference``). Matching is case- and
accent-insensitive and tolerant of punctuation and spacing: ``statut: 250-042-175``,
``Statut250042175``, `` Arrêt ! `` all parse. The command is the first word; anything after
``STOP``/``START``/``AIDE`` is ignored (an opt-out is honoured generously).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["CommandKind", "SmsCommand", "KEYWORDS", "normalise", "parse_command"]


class CommandKind(StrEnum):
    STATUS = "status"
    STOP = "stop"
    START = "start"
    HELP = "help"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class SmsCommand:
    """A parsed SMS. ``reference`` is the digits typed after STATUT/STATUS (None if there are
    none), not yet validated. ``language`` is the language the keyword suggests (``fr``/``en``)
    or None when it is shared (STOP, START) or unknown."""

    kind: CommandKind
    reference: str | None = None
    language: str | None = None


#: Normalised keyword -> (command, language it suggests).
KEYWORDS: dict[str, tuple[CommandKind, str | None]] = {
    "STATUT": (CommandKind.STATUS, "fr"),
    "STATUS": (CommandKind.STATUS, "en"),
    "STOP": (CommandKind.STOP, None),
    "ARRET": (CommandKind.STOP, "fr"),
    "ARRETE": (CommandKind.STOP, "fr"),
    "ARRETER": (CommandKind.STOP, "fr"),
    "START": (CommandKind.START, None),
    "AIDE": (CommandKind.HELP, "fr"),
    "HELP": (CommandKind.HELP, "en"),
}

_FIRST_WORD = re.compile(r"([A-Z]+)\s*(.*)", re.DOTALL)
_DIGITS = re.compile(r"[0-9]")


def normalise(text: str) -> str:
    """Upper case ASCII letters and digits separated by single spaces; accents removed."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c)).upper()
    return " ".join(re.sub(r"[^A-Z0-9]+", " ", stripped).split())


def parse_command(text: str) -> SmsCommand:
    """Parse an incoming SMS; anything not recognised is ``CommandKind.UNKNOWN``."""
    match = _FIRST_WORD.fullmatch(normalise(text))
    if match is None:
        return SmsCommand(CommandKind.UNKNOWN)
    keyword, rest = match.groups()
    kind, language = KEYWORDS.get(keyword, (CommandKind.UNKNOWN, None))
    if kind is CommandKind.STATUS:
        digits = "".join(_DIGITS.findall(rest))
        return SmsCommand(kind, reference=digits or None, language=language)
    return SmsCommand(kind, language=language)
