"""SMS texts per event and language, loaded from ``sms/templates/<lang>.yaml``.

Templates use ``{name}`` placeholders (``str.format`` syntax without format specs). What each
event may use is declared once in :data:`EVENT_VARIABLES`; loading rejects a template that uses
anything else, so the app always knows which values to pass. The commune's name, USSD code and
opening hours are variables (``{commune}``, ``{ussd}``, ``{horaires}``) filled from config.

Free staff text (``{motif}``, ``{note}``) is folded to GSM-7 and cut to
:data:`FREE_TEXT_MAX_CHARS` before rendering, so one accent typed by staff cannot turn the SMS
into UCS-2 (70 characters) and triple its cost.

Pure apart from reading the YAML files when :func:`load_templates` is called.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from sms.encoding import fold_to_gsm7, is_gsm7, non_gsm7_chars, sms_info

__all__ = [
    "DEFAULT_LANGUAGE",
    "DEFAULT_TEMPLATES_DIR",
    "EVENT_VARIABLES",
    "FREE_TEXT_MAX_CHARS",
    "FREE_NAME_VARIABLES",
    "FREE_TEXT_VARIABLES",
    "LANGUAGES",
    "STATUS_EVENTS",
    "REPLY_EVENTS",
    "WORST_CASE_VALUES",
    "Problem",
    "SmsTemplates",
    "TemplateError",
    "UnknownEventError",
    "MissingValueError",
    "catalogue_worst_case_values",
    "check_templates",
    "load_templates",
    "prepare_free_text",
    "templates_check_report",
]

DEFAULT_TEMPLATES_DIR = Path(__file__).parent / "templates"
DEFAULT_LANGUAGE = "fr"
LANGUAGES: tuple[str, ...] = ("fr", "en", "ee")

#: Staff-typed sentences: folded to GSM-7, cut to FREE_TEXT_MAX_CHARS, ended with a full stop.
FREE_TEXT_VARIABLES: frozenset[str] = frozenset({"motif", "note"})
#: Staff-typed names (the body a request is referred to): folded and cut, no punctuation added.
FREE_NAME_VARIABLES: frozenset[str] = frozenset({"organisme"})
#: The staff form should refuse longer public notes; rendering cuts them as a last guard.
FREE_TEXT_MAX_CHARS = 60

_COMMON = frozenset({"commune", "ussd"})

#: Notifications sent when a request enters a status (event name == status value).
STATUS_EVENTS: dict[str, frozenset[str]] = {
    "recue": _COMMON | {"svc", "ref", "delai"},
    "a_completer": _COMMON | {"svc", "ref", "motif", "date"},
    "en_instruction": _COMMON | {"svc", "ref", "date"},
    "en_cours": _COMMON | {"svc", "ref", "date"},
    "attente_paiement": _COMMON | {"svc", "ref", "montant"},
    "disponible": _COMMON | {"svc", "ref", "horaires"},
    "delivree": _COMMON | {"svc", "ref"},
    "resolue": _COMMON | {"svc", "ref", "note"},
    "rejetee": _COMMON | {"svc", "ref", "motif"},
    "hors_competence": _COMMON | {"svc", "ref", "organisme"},
    "doublon": _COMMON | {"svc", "ref", "ref_origine"},
    "annulee": _COMMON | {"svc", "ref", "note"},
    "expiree": _COMMON | {"svc", "ref"},
}

#: Replies to the resident's own SMS commands.
REPLY_EVENTS: dict[str, frozenset[str]] = {
    "statut_reply": _COMMON | {"svc", "ref", "statut", "date"},
    "statut_word_only": _COMMON | {"ref", "statut"},
    "stop_confirm": _COMMON,
    "start_confirm": _COMMON,
    "help": _COMMON,
    "unknown_command": _COMMON,
    "reference_invalid": _COMMON,
}

#: Every event and the variables its templates may use (a template may use fewer).
EVENT_VARIABLES: dict[str, frozenset[str]] = {**STATUS_EVENTS, **REPLY_EVENTS}

#: A realistic 60-character staff note (the ê is folded).
_NOTE_60 = "Pièce d'identité périmée: apportez la nouvelle, même à 7h30."

#: Worst realistic values: longest names of the Golfe 3 catalogue (all languages), 11-digit
#: references grouped by three, the longest status words, a full 60-character staff note.
WORST_CASE_VALUES: dict[str, str] = {
    "commune": "Mairie de Golfe 3",
    "ussd": "*384*12345#",
    "horaires": "lun-ven 7h30-12h, 15h-17h30",
    "svc": "Copie d'acte de naissance",
    "ref": "250 042 175 31",
    "ref_origine": "250 042 175 32",
    "delai": "120",
    "date": "31/12/2026",
    "montant": "22 500",
    "statut": "En attente de paiement",
    "organisme": "Tribunal de première instance de Lomé (au-delà de 45 jours)",
    "motif": _NOTE_60,
    "note": _NOTE_60,
}


class TemplateError(Exception):
    """Templates that cannot be loaded or rendered; ``problems`` lists every issue found."""

    def __init__(self, message: str, problems: Iterable[str] = ()) -> None:
        self.problems = list(problems)
        details = "".join(f"\n  - {p}" for p in self.problems)
        super().__init__(message + details)


class UnknownEventError(TemplateError, KeyError):
    """The event name is not one of EVENT_VARIABLES."""

    def __str__(self) -> str:  # KeyError would quote the message
        return self.args[0]


class MissingValueError(TemplateError, KeyError):
    """A value the template needs was not passed to render()."""

    def __str__(self) -> str:
        return self.args[0]


@dataclass(frozen=True, slots=True)
class Problem:
    """One failed check: ``kind`` is too_long | not_gsm7 | missing_translation."""

    event: str
    lang: str
    kind: str
    detail: str

    def __str__(self) -> str:
        return f"{self.lang}/{self.event}: {self.kind}: {self.detail}"


def prepare_free_text(text: str, *, fold: bool = True, punctuate: bool = True) -> str:
    """Staff free text as it goes into an SMS.

    One line, folded to GSM-7 (unless ``fold`` is False), ended by ``.``/``!``/``?`` (added if
    missing and ``punctuate``, so templates put no punctuation after ``{motif}``/``{note}``)
    and at most :data:`FREE_TEXT_MAX_CHARS` characters (longer text is cut and ends with
    ``...``). An empty text stays empty.
    """
    text = " ".join(text.split())
    if fold:
        text = fold_to_gsm7(text)
    if not text:
        return ""
    if not punctuate:
        if len(text) > FREE_TEXT_MAX_CHARS:
            text = text[: FREE_TEXT_MAX_CHARS - 3].rstrip(" ,;:-.") + "..."
        return text.rstrip(".") if text.endswith(".") and not text.endswith("...") else text
    if text[-1] not in ".!?":
        text = text.rstrip(",;:-") + "."
    if len(text) > FREE_TEXT_MAX_CHARS:
        text = text[: FREE_TEXT_MAX_CHARS - 3].rstrip(" ,;:-.") + "..."
    return text


@dataclass(frozen=True)
class SmsTemplates:
    """Loaded templates: ``texts[lang][event]`` plus per-language metadata."""

    texts: Mapping[str, Mapping[str, str]]
    reviewed: Mapping[str, bool] = field(default_factory=dict)
    source: Path | None = None

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(self.texts)

    def template(self, event: str, lang: str) -> str:
        """The raw template for ``event`` in ``lang``, falling back to French."""
        if event not in EVENT_VARIABLES:
            raise UnknownEventError(
                f"unknown SMS event {event!r}; known events: {', '.join(sorted(EVENT_VARIABLES))}"
            )
        for candidate in (lang, DEFAULT_LANGUAGE):
            text = self.texts.get(candidate, {}).get(event)
            if text is not None:
                return text
        raise TemplateError(f"no template for event {event!r} in {lang!r} nor {DEFAULT_LANGUAGE!r}")

    def render(
        self, event: str, lang: str, values: Mapping[str, str], *, fold_free_text: bool = True
    ) -> str:
        """Fill the template of ``event`` in ``lang`` (fallback ``fr``) with ``values``.

        Extra values are ignored; a missing one raises :class:`MissingValueError`. Values of
        ``motif`` and ``note`` go through :func:`prepare_free_text` first; ``organisme`` is
        folded and cut the same way, without added punctuation.
        """
        template = self.template(event, lang)
        needed = _placeholders(template)
        missing = sorted(needed - values.keys())
        if missing:
            raise MissingValueError(
                f"SMS event {event!r} ({lang}) needs values for: {', '.join(missing)}"
            )
        filled = {name: self._prepare(name, str(values[name]), fold_free_text) for name in needed}
        return " ".join(template.format_map(filled).split())


    @staticmethod
    def _prepare(name: str, value: str, fold: bool) -> str:
        if name in FREE_TEXT_VARIABLES:
            return prepare_free_text(value, fold=fold)
        if name in FREE_NAME_VARIABLES:
            return prepare_free_text(value, fold=fold, punctuate=False)
        return value


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def _template_problems(event: str, lang: str, text: object) -> list[str]:
    where = f"{lang}/{event}"
    if not isinstance(text, str):
        return [f"{where}: the template must be a string, got {type(text).__name__}"]
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        return [f"{where}: bad placeholder syntax ({exc})"]
    problems = []
    allowed = EVENT_VARIABLES[event]
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if spec or conversion or not name.isidentifier():
            problems.append(f"{where}: placeholder {{{name}}} must be a plain {{name}}")
        elif name not in allowed:
            problems.append(
                f"{where}: unknown variable {{{name}}}; allowed: {', '.join(sorted(allowed))}"
            )
    return problems


def _load_language_file(
    path: Path, problems: list[str], declared: set[str]
) -> tuple[str, dict[str, str], bool]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    lang = path.stem
    if not isinstance(data, dict) or not isinstance(data.get("templates"), dict):
        problems.append(f"{path.name}: expected a mapping with a 'templates' mapping")
        return lang, {}, False
    if data.get("language", lang) != lang:
        problems.append(f"{path.name}: 'language' is {data.get('language')!r}, file says {lang!r}")
    texts: dict[str, str] = {}
    for event, text in data["templates"].items():
        if not isinstance(event, str) or event not in EVENT_VARIABLES:
            problems.append(f"{lang}: unknown event {event!r}")
            continue
        declared.add(event)
        found = _template_problems(event, lang, text)
        problems.extend(found)
        if not found:
            texts[event] = " ".join(str(text).split())  # YAML folding may leave newlines
    return lang, texts, bool(data.get("reviewed", False))


@lru_cache(maxsize=8)
def _load(directory: Path) -> SmsTemplates:
    files = sorted(directory.glob("*.yaml"))
    problems: list[str] = []
    if not files:
        problems.append(f"no <lang>.yaml file in {directory}")
    texts: dict[str, dict[str, str]] = {}
    reviewed: dict[str, bool] = {}
    declared_fr: set[str] = set()
    for path in files:
        declared: set[str] = declared_fr if path.stem == DEFAULT_LANGUAGE else set()
        lang, lang_texts, is_reviewed = _load_language_file(path, problems, declared)
        texts[lang] = lang_texts
        reviewed[lang] = is_reviewed
    if files and DEFAULT_LANGUAGE in texts:
        missing = sorted(set(EVENT_VARIABLES) - declared_fr)
        if missing:
            problems.append(f"{DEFAULT_LANGUAGE} (the fallback) lacks events: {', '.join(missing)}")
    elif files:
        problems.append(f"no {DEFAULT_LANGUAGE}.yaml: French is the fallback and is required")
    if problems:
        raise TemplateError(f"invalid SMS templates in {directory}", problems)
    return SmsTemplates(texts=texts, reviewed=reviewed, source=directory)


def load_templates(path: str | Path | None = None) -> SmsTemplates:
    """Load and validate every ``<lang>.yaml`` of ``path`` (default: ``sms/templates``).

    Loaded once per directory (cached). Raises :class:`TemplateError` listing every problem:
    unknown events, unknown or malformed placeholders, missing French templates.
    """
    directory = Path(path) if path is not None else DEFAULT_TEMPLATES_DIR
    return _load(directory.resolve())


def check_templates(
    templates: SmsTemplates, worst_case_values: Mapping[str, str] | None = None
) -> list[Problem]:
    """Render every template with worst-case values; report those beyond one GSM-7 SMS.

    Also reports a template that leaves GSM-7 (one ê or ’ turns the SMS into UCS-2) and an
    event missing from a language (it would fall back to French).
    """
    values = {**WORST_CASE_VALUES, **(worst_case_values or {})}
    problems: list[Problem] = []
    for lang in templates.languages:
        for event in EVENT_VARIABLES:
            if event not in templates.texts[lang]:
                problems.append(Problem(event, lang, "missing_translation", "falls back to fr"))
                continue
            text = templates.render(event, lang, values)
            info = sms_info(text)
            if not is_gsm7(text):
                chars = " ".join(non_gsm7_chars(text))
                problems.append(
                    Problem(event, lang, "not_gsm7", f"characters outside GSM-7: {chars}")
                )
            elif info.segments > 1:
                problems.append(
                    Problem(event, lang, "too_long", f"{info.units} septets > 160: {text}")
                )
    return problems


def catalogue_worst_case_values(catalogue_path: str | Path) -> dict[str, str]:
    """Longest service name (any language) and longest referral body of a catalogue file
    (``services: [{names: {fr: ...}, referral: {organisme: ...}}]``), as worst-case values."""
    data = yaml.safe_load(Path(catalogue_path).read_text(encoding="utf-8")) or {}
    names: list[str] = []
    bodies: list[str] = []
    for service in data.get("services") or []:
        names.extend(str(n) for n in (service.get("names") or {}).values())
        referral = service.get("referral") or {}
        if referral.get("organisme"):
            bodies.append(str(referral["organisme"]))
    values: dict[str, str] = {}
    if names:
        values["svc"] = max(names, key=len)
    if bodies:
        values["organisme"] = max(bodies, key=len)
    return values


def templates_check_report(
    path: str | Path | None = None,
    values: Mapping[str, str] | None = None,
    *,
    catalogue_path: str | Path | None = None,
) -> tuple[str, int]:
    """Text report and exit status (0 ok, 1 problems) for the ``ussd-gateway`` CLI.

    ``values`` overrides worst-case values (e.g. the configured commune name and USSD code);
    ``catalogue_path`` adds the catalogue's longest service name and referral body when they
    are longer than the defaults.
    """
    try:
        templates = load_templates(path)
    except TemplateError as exc:
        return f"Modèles SMS invalides: {exc}", 1
    merged = dict(WORST_CASE_VALUES)
    if catalogue_path is not None:
        for key, value in catalogue_worst_case_values(catalogue_path).items():
            if len(value) > len(merged[key]):
                merged[key] = value
    merged.update(values or {})
    problems = check_templates(templates, merged)
    count = sum(len(t) for t in templates.texts.values())
    lines = [f"Modèles SMS: {count} textes ({', '.join(templates.languages)})."]
    unreviewed = [lang for lang, ok in templates.reviewed.items() if not ok]
    if unreviewed:
        lines.append(f"À faire relire par un locuteur: {', '.join(unreviewed)}.")
    if not problems:
        lines.append("OK: chacun tient en un seul SMS GSM-7 avec les valeurs les plus longues.")
        return "\n".join(lines), 0
    lines.append(f"{len(problems)} problème(s):")
    lines.extend(f"  - {problem}" for problem in problems)
    return "\n".join(lines), 1
