"""Typed, frozen menu definitions: what the loader builds and the engine walks.

A *graph* is every screen of a commune's USSD service, in every language, plus the forms of its
services (one chain of input screens per service code), the engine-wide messages (error lines,
navigation labels) and the first-use screens (language, consent, resume a draft).

Texts are ``{language: text}`` dicts; the loader guarantees (or the check reports) that every
language of the graph is present. Everything is built once at start-up; the engine never
mutates it.

Targets (``next``, option targets, outcomes) are screen ids or one of the pseudo targets:

``@entry``  the first-use sequence: language choice if none yet, consent notice if not given
            for the current version, resume-a-draft offer if a draft exists, else ``start``;
``@form``   the first screen of the form of the selected service (``answers["service"]``), or
            the graph's ``no_form`` screen when that service has no form.
"""
from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Mapping, Union

Text = Mapping[str, str]
"""A text in every language of the graph: ``{"fr": ..., "en": ..., "ee": ...}``."""

PSEUDO_TARGETS = frozenset({"@entry", "@form"})
RESERVED_KEYS = frozenset({"0", "00", "98"})
"""Keys the engine owns on every screen: 0 back, 00 main menu, 98 next page."""

BUILTIN_ACTIONS = frozenset({"set_language", "record_consent", "resume_draft", "discard_draft"})
"""Actions the engine performs itself (they produce effects); every other action name is run by
the handler registry the app injects."""

INPUT_TYPES = frozenset({"text", "number", "date", "phone", "reference"})


@dataclass(frozen=True, slots=True)
class MenuOption:
    """One numbered line of a static menu. ``value`` is stored in the menu's ``field``."""

    key: str
    label: Text
    next: str
    value: str | None = None


@dataclass(frozen=True, slots=True)
class MenuScreen:
    """Numbered options. Static (``options``) or dynamic (``source``: options come from the
    handler registry, numbered 1..n by the engine; picking one stores its value in ``field``
    and goes to ``next``; an empty list goes to ``empty``)."""

    id: str
    text: Text
    options: tuple[MenuOption, ...] = ()
    field: str | None = None
    source: str | None = None
    params: Mapping[str, str] = dc_field(default_factory=dict)
    next: str | None = None
    empty: str | None = None
    back: bool = True
    summary: Text | None = None
    """Label of the field in a confirmation summary (form choices)."""

    @property
    def kind(self) -> str:
        return "menu"


@dataclass(frozen=True, slots=True)
class DateRules:
    """Rules of a ``date`` input (dates typed JJMMAAAA)."""

    not_future: bool = False
    not_past: bool = False
    min_days_ahead: int | None = None
    max_days_ahead: int | None = None
    max_days_past: int | None = None
    max_days_past_next: str | None = None
    """Where to go (instead of an error) when the date is older than ``max_days_past``."""

    def describe(self) -> str:
        return ", ".join(
            f"{name}={value}"
            for name, value in (
                ("not_future", self.not_future),
                ("not_past", self.not_past),
                ("min_days_ahead", self.min_days_ahead),
                ("max_days_ahead", self.max_days_ahead),
                ("max_days_past", self.max_days_past),
            )
            if value
        )


@dataclass(frozen=True, slots=True)
class InputScreen:
    """Free input validated by ``input_type``; the canonical value is stored in ``field``.

    ``text``: free text (``min_len``..``max_len`` characters);
    ``number``: digits, ``minimum``..``maximum``;
    ``date``: JJMMAAAA (``/ . -`` and spaces tolerated), stored ISO ``AAAA-MM-JJ``, ``rules``;
    ``phone``: any valid number (Togo by default), stored E.164;
    ``reference``: a request reference (spaces tolerated, Damm check digit), stored as 9 digits.
    """

    id: str
    text: Text
    field: str
    input_type: str
    next: str
    minimum: int | None = None
    maximum: int | None = None
    min_len: int = 2
    max_len: int = 40
    rules: DateRules = DateRules()
    error: Text | None = None
    summary: Text | None = None

    @property
    def kind(self) -> str:
        return "input"


@dataclass(frozen=True, slots=True)
class ConfirmScreen:
    """Summary of the selected service's form answers + 1 Confirmer / 2 Modifier / 0 Annuler.

    ``1`` goes to ``next`` (typically the ``create_request`` action), ``2`` restarts the form
    (answers kept until retyped), ``0`` goes to ``cancel``.
    """

    id: str
    text: Text
    next: str
    cancel: str

    @property
    def kind(self) -> str:
        return "confirm"


@dataclass(frozen=True, slots=True)
class ActionScreen:
    """Runs a named action (never shown): the result's variables feed the texts of the screens
    that follow; the result's ``outcome`` (if any) picks a target in ``outcomes``, else ``next``.
    """

    id: str
    action: str
    next: str
    params: Mapping[str, str] = dc_field(default_factory=dict)
    outcomes: Mapping[str, str] = dc_field(default_factory=dict)

    @property
    def kind(self) -> str:
        return "action"


@dataclass(frozen=True, slots=True)
class EndScreen:
    """Final text (``END``)."""

    id: str
    text: Text

    @property
    def kind(self) -> str:
        return "end"


Screen = Union[MenuScreen, InputScreen, ConfirmScreen, ActionScreen, EndScreen]


@dataclass(frozen=True, slots=True)
class Form:
    """The questions of one service, in order (screen ids of the graph)."""

    service: str
    screens: tuple[str, ...]

    @property
    def first(self) -> str:
        return self.screens[0]


@dataclass(frozen=True, slots=True)
class CatalogueService:
    """What the menus need from the service catalogue (read for the whole-graph check and for
    default labels; live names, fees and the active flag come from the handlers)."""

    code: str
    group: str
    kind: str
    names: Text
    referral: str | None = None


@dataclass(frozen=True, slots=True)
class EntryScreens:
    language: str
    consent: str
    resume: str


@dataclass(frozen=True, slots=True)
class MenuGraph:
    languages: tuple[str, ...]
    default_language: str
    start: str
    entry: EntryScreens
    consent_version: str
    no_form: str
    screens: Mapping[str, Screen]
    forms: Mapping[str, Form]
    messages: Mapping[str, Text]
    screen_limit: int = 160
    catalogue: Mapping[str, CatalogueService] = dc_field(default_factory=dict)
    catalogue_groups: tuple[str, ...] = ()
    status_words: Mapping[str, Text] = dc_field(default_factory=dict)
    source_dir: str = ""
    form_of_screen: Mapping[str, str] = dc_field(default_factory=dict)
    """Screen id -> service code, for every screen that belongs to a form."""

    def message(self, name: str, language: str) -> str:
        """An engine-wide message (``messages:`` in the YAML) in ``language``."""
        text = self.messages[name]
        return text.get(language) or text[self.default_language]

    def status_word(self, status: str, language: str) -> str:
        """The resident-facing word for a request status (statuses.yaml)."""
        words = self.status_words.get(status)
        if not words:
            return status
        return words.get(language) or words[self.default_language]
