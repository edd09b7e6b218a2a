"""The lifecycle of a service request: statuses and the transitions staff may make.

DOMAIN.md §5: ``recue`` → ``a_completer`` | ``attente_paiement`` | ``en_instruction`` →
``en_cours`` → ``disponible`` → ``delivree``; closed: ``resolue``, ``rejetee``,
``hors_competence`` (+ referred body), ``doublon`` (+ duplicate of), ``annulee``, ``expiree``.
"""
from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    RECUE = "recue"
    A_COMPLETER = "a_completer"
    ATTENTE_PAIEMENT = "attente_paiement"
    EN_INSTRUCTION = "en_instruction"
    EN_COURS = "en_cours"
    DISPONIBLE = "disponible"
    DELIVREE = "delivree"
    RESOLUE = "resolue"
    REJETEE = "rejetee"
    HORS_COMPETENCE = "hors_competence"
    DOUBLON = "doublon"
    ANNULEE = "annulee"
    EXPIREE = "expiree"


OPEN_STATUSES: frozenset[Status] = frozenset(
    {
        Status.RECUE,
        Status.A_COMPLETER,
        Status.ATTENTE_PAIEMENT,
        Status.EN_INSTRUCTION,
        Status.EN_COURS,
        Status.DISPONIBLE,
    }
)
CLOSED_STATUSES: frozenset[Status] = frozenset(set(Status) - OPEN_STATUSES)

#: French labels for staff (the resident-facing words live in menus/<commune>/statuses.yaml)
STATUS_LABELS_FR: dict[Status, str] = {
    Status.RECUE: "Reçue",
    Status.A_COMPLETER: "À compléter",
    Status.ATTENTE_PAIEMENT: "En attente de paiement",
    Status.EN_INSTRUCTION: "En instruction",
    Status.EN_COURS: "En cours",
    Status.DISPONIBLE: "Disponible au guichet",
    Status.DELIVREE: "Délivrée",
    Status.RESOLUE: "Résolue",
    Status.REJETEE: "Rejetée",
    Status.HORS_COMPETENCE: "Hors compétence",
    Status.DOUBLON: "Doublon",
    Status.ANNULEE: "Annulée",
    Status.EXPIREE: "Expirée",
}

_ALWAYS_CLOSABLE = {Status.REJETEE, Status.HORS_COMPETENCE, Status.DOUBLON, Status.ANNULEE}

TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.RECUE: frozenset(
        {Status.A_COMPLETER, Status.ATTENTE_PAIEMENT, Status.EN_INSTRUCTION, Status.EN_COURS,
         Status.RESOLUE} | _ALWAYS_CLOSABLE
    ),
    Status.A_COMPLETER: frozenset(
        {Status.EN_INSTRUCTION, Status.ATTENTE_PAIEMENT, Status.EXPIREE} | _ALWAYS_CLOSABLE
    ),
    Status.ATTENTE_PAIEMENT: frozenset(
        {Status.EN_INSTRUCTION, Status.EN_COURS, Status.EXPIREE} | _ALWAYS_CLOSABLE
    ),
    Status.EN_INSTRUCTION: frozenset(
        {Status.EN_COURS, Status.A_COMPLETER, Status.ATTENTE_PAIEMENT, Status.DISPONIBLE,
         Status.RESOLUE} | _ALWAYS_CLOSABLE
    ),
    Status.EN_COURS: frozenset(
        {Status.DISPONIBLE, Status.A_COMPLETER, Status.RESOLUE} | _ALWAYS_CLOSABLE
    ),
    Status.DISPONIBLE: frozenset({Status.DELIVREE, Status.EXPIREE, Status.ANNULEE}),
}
for _closed in CLOSED_STATUSES:
    TRANSITIONS.setdefault(_closed, frozenset())


def allowed_transitions(current: str | Status) -> list[Status]:
    """Statuses a request in ``current`` may move to, in lifecycle order."""
    allowed = TRANSITIONS[Status(current)]
    return [s for s in Status if s in allowed]


def can_transition(current: str | Status, target: str | Status) -> bool:
    return Status(target) in TRANSITIONS[Status(current)]


def is_open(status: str | Status) -> bool:
    return Status(status) in OPEN_STATUSES
