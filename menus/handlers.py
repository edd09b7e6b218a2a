"""The contract between the menu engine and the app's handlers (types only, no behaviour).

The app builds one registry object and gives it to :class:`menus.engine.MenuEngine`. It has two
methods; the engine never imports the app, the app never reaches into the engine::

    class MenuHandlers(Protocol):
        def options(self, source: str, ctx: ActionContext) -> Sequence[Option]: ...
        def run(self, action: str, ctx: ActionContext) -> ActionResult: ...

``options(source, ctx)`` feeds a *dynamic menu* (``source:`` in the YAML). It returns the
options in display order, each with a ``value`` (stored as ``ctx.answers[<field>]`` when
picked) and a ``label`` already in ``ctx.language``. The engine numbers them 1..n, paginates,
folds labels to GSM-7 and shortens them when needed. An empty list sends the resident to the
menu's ``empty`` screen.

``run(action, ctx)`` runs an *action screen* (``action:`` in the YAML). It returns an
:class:`ActionResult`: ``variables`` fill the ``{placeholders}`` of the screens that follow;
``outcome`` (optional) names one of the action screen's ``outcomes:`` (e.g. ``hors_competence``,
``introuvable``) to go there instead of ``next``; ``end=True`` makes the next screen final.
An unknown outcome is a bug: the engine raises :class:`UnknownOutcome`.

Exceptions raised by handlers are not caught by the engine: the app logs them with the session
id and answers a clean ``END`` apology (``MenuEngine.apology(language)``).

The engine performs four actions itself (they never reach ``run``): ``set_language``,
``record_consent``, ``resume_draft`` and ``discard_draft``; they produce effects
(:mod:`menus.effects`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Mapping, Protocol, Sequence


@dataclass(frozen=True, slots=True)
class Option:
    """One line of a dynamic menu: ``value`` is stored, ``label`` is shown (in ctx.language)."""

    value: str
    label: str


@dataclass(frozen=True, slots=True)
class ActionContext:
    """Everything a handler may use. ``answers`` are canonical values (dates ISO ``AAAA-MM-JJ``,
    phones E.164, references 9 digits, choices their ``value``); ``summary`` is the same
    journey for staff: ``(French label, displayed value)`` in question order."""

    session_id: str
    phone: str
    language: str
    today: date
    answers: Mapping[str, str] = field(default_factory=dict)
    summary: tuple[tuple[str, str], ...] = ()
    service: str | None = None
    """The selected service code (``answers["service"]``), if any."""
    params: Mapping[str, str] = field(default_factory=dict)
    """The ``params:`` of the action screen or dynamic menu in the YAML."""

    @property
    def quartier(self) -> str | None:
        return self.answers.get("quartier")


@dataclass(frozen=True, slots=True)
class ActionResult:
    variables: Mapping[str, str] = field(default_factory=dict)
    outcome: str | None = None
    end: bool = False


class MenuHandlers(Protocol):
    """The registry the app injects (see the module docstring)."""

    def options(self, source: str, ctx: ActionContext) -> Sequence[Option]: ...

    def run(self, action: str, ctx: ActionContext) -> ActionResult: ...


class UnknownOutcome(LookupError):
    """A handler returned an outcome its action screen does not declare."""
