"""Load a menus directory (YAML) once into a frozen :class:`~menus.model.MenuGraph`.

Directory layout (see ``menus/README.md``)::

    <dir>/*.yaml        menu files; each may hold ``meta`` (exactly one file), ``messages``,
                        ``lists``, ``screens`` and ``forms``; they are merged
    <dir>/catalogue.yaml   the service catalogue (read: codes, groups, kinds, names, referral)
    <dir>/statuses.yaml    resident-facing words of every request status, per language

:func:`read_menus` never raises on bad definitions: it returns the graph it could build (or
None) and every problem found while reading. :func:`load_menus` adds the whole-graph check and
raises :class:`~menus.problems.MenuDefinitionError` listing everything at once.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping

import yaml

from menus import problems as P
from menus.model import (
    ActionScreen,
    CatalogueService,
    ConfirmScreen,
    DateRules,
    EndScreen,
    EntryScreens,
    Form,
    InputScreen,
    MenuGraph,
    MenuOption,
    MenuScreen,
    Screen,
)
from menus.problems import MenuDefinitionError, Problem

SPECIAL_FILES = ("catalogue.yaml", "statuses.yaml")
TOP_LEVEL_KEYS = frozenset({"meta", "messages", "lists", "screens", "forms"})

_Base: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available


class _Loader(_Base):  # type: ignore[misc, valid-type]
    """Safe YAML loader that refuses a key repeated in one mapping (PyYAML keeps the last
    one silently: a screen defined twice in one file would vanish without a word)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _value in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                duplicate = key in seen
                seen.add(key)
            except TypeError:  # unhashable key: let the base class report it
                continue
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping", node.start_mark,
                    f"found duplicate key {key!r}", key_node.start_mark)
        return super().construct_mapping(node, deep=deep)


def default_menus_dir() -> Path:
    """The Golfe 3 menus shipped with the code."""
    return Path(__file__).resolve().parent / "golfe3"


def load_menus(
    path: str | os.PathLike[str] | None = None,
    *,
    screen_limit: int = 160,
    catalogue_path: str | os.PathLike[str] | None = None,
) -> MenuGraph:
    """Read, build and check the menus in ``path`` (default: the Golfe 3 menus).

    ``catalogue_path`` defaults to ``<path>/catalogue.yaml`` (the check then requires a form
    for every service of the catalogue). Raises MenuDefinitionError with every problem
    (reading and whole-graph) found.
    """
    from menus.check import check_graph  # local import: check depends on this module

    graph, problems = read_menus(path, screen_limit=screen_limit, catalogue_path=catalogue_path)
    if graph is not None:
        problems = problems + check_graph(graph)
    if problems or graph is None:
        raise MenuDefinitionError(problems)
    return graph


def read_menus(
    path: str | os.PathLike[str] | None = None,
    *,
    screen_limit: int = 160,
    catalogue_path: str | os.PathLike[str] | None = None,
) -> tuple[MenuGraph | None, list[Problem]]:
    """Build the graph; return it (None if impossible) with the problems found while reading."""
    directory = Path(path) if path is not None else default_menus_dir()
    catalogue = Path(catalogue_path) if catalogue_path is not None else directory / "catalogue.yaml"
    builder = _Builder(directory, screen_limit, catalogue)
    return builder.build(), builder.problems


class _Builder:
    def __init__(self, directory: Path, screen_limit: int, catalogue_file: Path) -> None:
        self.dir = directory
        self.catalogue_file = catalogue_file
        self.limit = screen_limit
        self.problems: list[Problem] = []
        self.languages: tuple[str, ...] = ()
        self.lists: dict[str, tuple[MenuOption, ...]] = {}
        self.screens: dict[str, Screen] = {}
        self.form_of_screen: dict[str, str] = {}

    # -- problems ---------------------------------------------------------------------------
    def problem(self, kind: str, screen: str, detail: str, language: str = "") -> None:
        self.problems.append(Problem(kind, screen, language, detail))

    # -- files ------------------------------------------------------------------------------
    def read_yaml(self, file: Path) -> Any:
        try:
            with file.open(encoding="utf-8") as handle:
                return yaml.load(handle, Loader=_Loader)  # noqa: S506 - SafeLoader
        except yaml.YAMLError as exc:
            self.problem(P.YAML_ERROR, file.name, str(exc).replace("\n", " "))
        except OSError as exc:
            self.problem(P.MISSING_FILE, file.name, str(exc))
        return None

    def build(self) -> MenuGraph | None:
        if not self.dir.is_dir():
            self.problem(P.MISSING_FILE, str(self.dir), "not a directory")
            return None
        merged: dict[str, dict[Any, Any]] = {"messages": {}, "lists": {}, "screens": {}, "forms": {}}
        meta: dict[str, Any] | None = None
        menu_files = sorted(
            f for f in self.dir.glob("*.yaml") if f.name not in SPECIAL_FILES
        )
        if not menu_files:
            self.problem(P.MISSING_FILE, str(self.dir), "no menu files (*.yaml)")
            return None
        for file in menu_files:
            data = self.read_yaml(file)
            if data is None:
                continue
            if not isinstance(data, dict):
                self.problem(P.INVALID_DEFINITION, file.name, "top level must be a mapping")
                continue
            for key, value in data.items():
                if key not in TOP_LEVEL_KEYS:
                    self.problem(P.INVALID_DEFINITION, file.name, f"unknown top-level key {key!r}")
                    continue
                if key == "meta":
                    if meta is not None:
                        self.problem(P.INVALID_DEFINITION, file.name, "second 'meta' section")
                    elif isinstance(value, dict):
                        meta = value
                    else:
                        self.problem(P.INVALID_DEFINITION, file.name, "'meta' must be a mapping")
                    continue
                if not isinstance(value, dict):
                    self.problem(P.INVALID_DEFINITION, file.name, f"{key!r} must be a mapping")
                    continue
                for item_id, item in value.items():
                    if not isinstance(item_id, str):
                        self.problem(P.NON_STRING_KEY, file.name,
                                     f"{key} id {item_id!r} is of type {type(item_id).__name__}: quote it")
                        continue
                    if item_id in merged[key]:
                        kind = P.DUPLICATE_SCREEN if key in ("screens", "forms") else P.INVALID_DEFINITION
                        self.problem(kind, item_id, f"{key[:-1]} defined twice (again in {file.name})")
                        continue
                    merged[key][item_id] = item
        if meta is None:
            if not any(p.kind == P.YAML_ERROR for p in self.problems):  # else it is the cause
                self.problem(P.INVALID_DEFINITION, "meta", "no 'meta' section in any menu file")
            return None

        languages = meta.get("languages")
        if not (isinstance(languages, list) and languages and all(isinstance(x, str) for x in languages)):
            self.problem(P.INVALID_DEFINITION, "meta", "'languages' must be a list of language codes (quoted)")
            return None
        self.languages = tuple(languages)
        default_language = self.meta_str(meta, "default_language")
        if default_language and default_language not in self.languages:
            self.problem(P.INVALID_DEFINITION, "meta", f"default_language {default_language!r} not in languages")
        start = self.meta_str(meta, "start")
        consent_version = self.meta_str(meta, "consent_version")
        no_form = self.meta_str(meta, "no_form")
        form_end = self.meta_str(meta, "form_end")
        entry_raw = meta.get("entry")
        entry = None
        if isinstance(entry_raw, dict) and all(isinstance(entry_raw.get(k), str) for k in ("language", "consent", "resume")):
            entry = EntryScreens(entry_raw["language"], entry_raw["consent"], entry_raw["resume"])
        else:
            self.problem(P.INVALID_DEFINITION, "meta", "'entry' must map language, consent and resume to screen ids")

        messages: dict[str, dict[str, str]] = {}
        for name, raw in merged["messages"].items():
            text = self.text(raw, f"messages.{name}", "message")
            if text is not None:
                messages[name] = text
        for name in REQUIRED_MESSAGES:
            if name not in messages and name not in merged["messages"]:
                self.problem(P.INVALID_DEFINITION, f"messages.{name}", "required message missing")

        for name, raw in merged["lists"].items():
            options = self.choices(raw, f"lists.{name}", allow_plain=True)
            if options is not None:
                self.lists[name] = options

        for screen_id, raw in merged["screens"].items():
            screen = self.screen(screen_id, raw)
            if screen is not None:
                self.screens[screen_id] = screen

        forms: dict[str, Form] = {}
        for code, raw in merged["forms"].items():
            form = self.form(code, raw, form_end or "")
            if form is not None:
                forms[code] = form

        catalogue, groups = self.catalogue()
        status_words = self.status_words()

        if not (default_language and start and consent_version and no_form and form_end and entry):
            return None
        return MenuGraph(
            languages=self.languages,
            default_language=default_language,
            start=start,
            entry=entry,
            consent_version=consent_version,
            no_form=no_form,
            screens=self.screens,
            forms=forms,
            messages=messages,
            screen_limit=self.limit,
            catalogue=catalogue,
            catalogue_groups=groups,
            status_words=status_words,
            source_dir=str(self.dir),
            form_of_screen=self.form_of_screen,
        )

    def meta_str(self, meta: Mapping[str, Any], name: str) -> str | None:
        value = meta.get(name)
        if isinstance(value, str) and value:
            return value
        self.problem(P.INVALID_DEFINITION, "meta", f"'{name}' must be a non-empty string (quote it)")
        return None

    # -- pieces -----------------------------------------------------------------------------
    def text(self, raw: Any, where: str, what: str, *, allow_plain: bool = False) -> dict[str, str] | None:
        """A ``{language: text}`` mapping; reports missing languages (the text is still
        returned, missing languages falling back to the first one present)."""
        if allow_plain and isinstance(raw, str):
            return {lang: raw for lang in self.languages}
        if not isinstance(raw, dict):
            self.problem(P.INVALID_DEFINITION, where, f"{what} must map each language to a text")
            return None
        text: dict[str, str] = {}
        for lang, value in raw.items():
            if not isinstance(lang, str):
                self.problem(P.NON_STRING_KEY, where, f"language key {lang!r} is of type {type(lang).__name__}: quote it")
                continue
            if lang not in self.languages:
                self.problem(P.INVALID_DEFINITION, where, f"{what}: unknown language {lang!r}")
                continue
            if not isinstance(value, str):
                self.problem(P.INVALID_DEFINITION, where, f"{what} must be a string", lang)
                continue
            text[lang] = value.strip("\n")
        if not text:
            self.problem(P.INVALID_DEFINITION, where, f"{what} is empty")
            return None
        fallback = next(iter(text.values()))
        for lang in self.languages:
            if lang not in text:
                self.problem(P.MISSING_TRANSLATION, where, f"{what} not translated", lang)
                text[lang] = fallback
        return {lang: text[lang] for lang in self.languages}

    def target(self, raw: Any, where: str, name: str) -> str | None:
        if isinstance(raw, str) and raw:
            return raw
        self.problem(P.INVALID_DEFINITION, where, f"'{name}' must be a screen id")
        return None

    def choices(self, raw: Any, where: str, *, allow_plain: bool = False) -> tuple[MenuOption, ...] | None:
        """Options numbered 1..n in order (``value``, ``label`` and optional ``next``)."""
        if not isinstance(raw, list) or not raw:
            self.problem(P.INVALID_DEFINITION, where, "choices must be a non-empty list")
            return None
        options = []
        for index, item in enumerate(raw, start=1):
            if not isinstance(item, dict) or "value" not in item or "label" not in item:
                self.problem(P.INVALID_DEFINITION, where, f"choice {index} needs 'value' and 'label'")
                continue
            value = item["value"]
            if not isinstance(value, str):
                self.problem(P.NON_STRING_KEY, where, f"choice {index} value {value!r} is of type {type(value).__name__}: quote it")
                continue
            label = self.text(item["label"], where, f"choice {index} label", allow_plain=allow_plain)
            nxt = item.get("next", "")
            if nxt and not isinstance(nxt, str):
                self.problem(P.INVALID_DEFINITION, where, f"choice {index} 'next' must be a screen id")
                nxt = ""
            if label is not None:
                options.append(MenuOption(key=str(index), label=label, next=nxt, value=value))
        return tuple(options)

    def screen(self, screen_id: str, raw: Any, *, form_next: str | None = None) -> Screen | None:
        if not isinstance(raw, dict):
            self.problem(P.INVALID_DEFINITION, screen_id, "screen must be a mapping")
            return None
        kind = raw.get("kind", "input" if form_next is not None else None)
        if kind not in SCREEN_KINDS:
            self.problem(P.INVALID_DEFINITION, screen_id, f"unknown kind {kind!r} (one of {', '.join(SCREEN_KINDS)})")
            return None
        return SCREEN_KINDS[kind](self, screen_id, raw, form_next)

    def menu(self, screen_id: str, raw: dict[str, Any], form_next: str | None) -> Screen | None:
        text = self.text(raw.get("text"), screen_id, "text")
        field = raw.get("field")
        if field is not None and not isinstance(field, str):
            self.problem(P.INVALID_DEFINITION, screen_id, "'field' must be a string")
            field = None
        source = raw.get("source")
        params = self.params(raw.get("params"), screen_id)
        back = raw.get("back", True)
        if text is None:
            return None
        if source is not None:
            if not isinstance(source, str):
                self.problem(P.INVALID_DEFINITION, screen_id, "'source' must be a name")
                return None
            nxt = self.target(raw.get("next", form_next), screen_id, "next")
            empty = self.target(raw.get("empty"), screen_id, "empty")
            if "options" in raw:
                self.problem(P.INVALID_DEFINITION, screen_id, "a dynamic menu (source) has no static options")
            if not field:
                self.problem(P.INVALID_DEFINITION, screen_id, "a dynamic menu needs a 'field'")
            if nxt is None or empty is None or not field:
                return None
            return MenuScreen(screen_id, text, (), field, source, params, nxt, empty, bool(back))
        raw_options = raw.get("options")
        if not isinstance(raw_options, list):
            self.problem(P.DEAD_END, screen_id, "menu without options (and without source)")
            return None
        options: list[MenuOption] = []
        seen: set[str] = set()
        for index, item in enumerate(raw_options, start=1):
            if not isinstance(item, dict):
                self.problem(P.INVALID_DEFINITION, screen_id, f"option {index} must be a mapping")
                continue
            key = item.get("key")
            if not isinstance(key, str):
                self.problem(P.NON_STRING_KEY, screen_id,
                             f"option {index} key {key!r} is of type {type(key).__name__}: quote it (\"{key}\")")
                continue
            if key in seen:
                self.problem(P.DUPLICATE_KEY, screen_id, f"option key {key!r} used twice")
                continue
            if key in RESERVED:
                self.problem(P.RESERVED_KEY, screen_id, f"option key {key!r} is reserved for navigation")
                continue
            seen.add(key)
            value = item.get("value")
            if value is not None and not isinstance(value, str):
                self.problem(P.NON_STRING_KEY, screen_id, f"option {key} value {value!r} is of type {type(value).__name__}: quote it")
                value = None
            label = self.text(item.get("label"), screen_id, f"option {key} label")
            nxt = item.get("next", form_next)
            nxt = self.target(nxt, screen_id, f"option {key} next")
            if label is not None and nxt is not None:
                options.append(MenuOption(key, label, nxt, value))
        return MenuScreen(screen_id, text, tuple(options), field, None, params, form_next, None, bool(back),
                          self.summary(raw, screen_id))

    def input(self, screen_id: str, raw: dict[str, Any], form_next: str | None) -> Screen | None:
        input_type = raw.get("type")
        text = self.text(raw.get("text"), screen_id, "text")
        field = raw.get("field")
        if not isinstance(field, str) or not field:
            self.problem(P.INVALID_DEFINITION, screen_id, "an input needs a 'field'")
            return None
        nxt = self.target(raw.get("next", form_next), screen_id, "next")
        if text is None or nxt is None:
            return None
        summary = self.summary(raw, screen_id)
        if input_type == "choice":
            raw_choices = raw.get("choices")
            if isinstance(raw_choices, str):
                if raw_choices not in self.lists:
                    self.problem(P.UNKNOWN_LIST, screen_id, f"unknown list {raw_choices!r}")
                    return None
                options = self.lists[raw_choices]
            else:
                options = self.choices(raw_choices, screen_id, allow_plain=True)
                if options is None:
                    return None
            options = tuple(
                MenuOption(o.key, o.label, o.next or nxt, o.value) for o in options
            )
            return MenuScreen(screen_id, text, options, field, None, {}, nxt, None,
                              bool(raw.get("back", True)), summary)
        if input_type not in INPUT_TYPES:
            self.problem(P.INVALID_DEFINITION, screen_id, f"unknown input type {input_type!r}")
            return None
        error = self.text(raw["error"], screen_id, "error") if "error" in raw else None
        ints = {}
        for name in ("min", "max", "min_len", "max_len"):
            value = raw.get(name)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
                self.problem(P.INVALID_DEFINITION, screen_id, f"'{name}' must be an integer")
                value = None
            ints[name] = value
        if input_type == "number":
            if ints["min"] is None or ints["max"] is None:
                self.problem(P.INVALID_DEFINITION, screen_id, "a number input needs 'min' and 'max'")
                return None
            if ints["min"] <= 0:
                self.problem(P.NUMBER_ACCEPTS_ZERO, screen_id,
                             f"min={ints['min']}: 0 is the 'back' key, a number answer must be >= 1")
        rules = DateRules()
        if input_type == "date":
            raw_rules = raw.get("rules") or {}
            if not isinstance(raw_rules, dict):
                self.problem(P.INVALID_DEFINITION, screen_id, "'rules' must be a mapping")
                raw_rules = {}
            known = {"not_future", "not_past", "min_days_ahead", "max_days_ahead", "max_days_past",
                     "max_days_past_next"}
            for name in raw_rules:
                if name not in known:
                    self.problem(P.INVALID_DEFINITION, screen_id, f"unknown date rule {name!r}")
            rules = DateRules(
                not_future=bool(raw_rules.get("not_future", False)),
                not_past=bool(raw_rules.get("not_past", False)),
                min_days_ahead=raw_rules.get("min_days_ahead"),
                max_days_ahead=raw_rules.get("max_days_ahead"),
                max_days_past=raw_rules.get("max_days_past"),
                max_days_past_next=raw_rules.get("max_days_past_next"),
            )
        return InputScreen(
            screen_id, text, field, input_type, nxt,
            minimum=ints["min"], maximum=ints["max"],
            min_len=ints["min_len"] if ints["min_len"] is not None else 2,
            max_len=ints["max_len"] if ints["max_len"] is not None else 40,
            rules=rules, error=error, summary=summary,
        )

    def confirm(self, screen_id: str, raw: dict[str, Any], form_next: str | None) -> Screen | None:
        text = self.text(raw.get("text"), screen_id, "text")
        nxt = self.target(raw.get("next"), screen_id, "next")
        cancel = self.target(raw.get("cancel"), screen_id, "cancel")
        if text is None or nxt is None or cancel is None:
            return None
        return ConfirmScreen(screen_id, text, nxt, cancel)

    def action(self, screen_id: str, raw: dict[str, Any], form_next: str | None) -> Screen | None:
        action = raw.get("action")
        if not isinstance(action, str) or not action:
            self.problem(P.INVALID_DEFINITION, screen_id, "an action screen needs 'action'")
            return None
        nxt = self.target(raw.get("next"), screen_id, "next")
        outcomes_raw = raw.get("outcomes") or {}
        outcomes: dict[str, str] = {}
        if not isinstance(outcomes_raw, dict):
            self.problem(P.INVALID_DEFINITION, screen_id, "'outcomes' must map outcome names to screen ids")
        else:
            for name, target in outcomes_raw.items():
                if not isinstance(name, str):
                    self.problem(P.NON_STRING_KEY, screen_id, f"outcome {name!r} is of type {type(name).__name__}: quote it")
                    continue
                checked = self.target(target, screen_id, f"outcome {name}")
                if checked:
                    outcomes[name] = checked
        if nxt is None:
            return None
        return ActionScreen(screen_id, action, nxt, self.params(raw.get("params"), screen_id), outcomes)

    def end(self, screen_id: str, raw: dict[str, Any], form_next: str | None) -> Screen | None:
        text = self.text(raw.get("text"), screen_id, "text")
        for name in ("next", "options"):
            if name in raw:
                self.problem(P.INVALID_DEFINITION, screen_id, f"an end screen has no '{name}'")
        if text is None:
            return None
        return EndScreen(screen_id, text)

    def params(self, raw: Any, where: str) -> dict[str, str]:
        if raw is None:
            return {}
        if not isinstance(raw, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in raw.items()):
            self.problem(P.INVALID_DEFINITION, where, "'params' must map names to (quoted) strings")
            return {}
        return dict(raw)

    def summary(self, raw: Mapping[str, Any], where: str) -> dict[str, str] | None:
        if "summary" not in raw:
            return None
        return self.text(raw["summary"], where, "summary")

    def form(self, code: str, raw: Any, form_end: str) -> Form | None:
        if not isinstance(raw, list) or not raw:
            self.problem(P.INVALID_DEFINITION, f"forms.{code}", "a form is a non-empty list of questions")
            return None
        ids: list[str] = []
        fields = []
        for index, item in enumerate(raw):
            field = item.get("field") if isinstance(item, dict) else None
            if not isinstance(field, str) or not field:
                self.problem(P.INVALID_DEFINITION, f"forms.{code}", f"question {index + 1} needs a 'field'")
                return None
            if field in fields:
                self.problem(P.INVALID_DEFINITION, f"forms.{code}", f"field {field!r} asked twice")
                return None
            fields.append(field)
            ids.append(f"{code}.{field}")
        for index, item in enumerate(raw):
            screen_id = ids[index]
            nxt = ids[index + 1] if index + 1 < len(ids) else form_end
            if "next" in item:
                self.problem(P.INVALID_DEFINITION, screen_id, "form questions follow each other: no 'next'")
            if "summary" not in item:
                self.problem(P.INVALID_DEFINITION, screen_id, "a form question needs a 'summary' label")
            if screen_id in self.screens:
                self.problem(P.DUPLICATE_SCREEN, screen_id, "form question id clashes with a screen")
                continue
            screen = self.screen(screen_id, item, form_next=nxt)
            if screen is None:
                continue
            self.screens[screen_id] = screen
            self.form_of_screen[screen_id] = code
        return Form(code, tuple(ids))

    def catalogue(self) -> tuple[dict[str, CatalogueService], tuple[str, ...]]:
        file = self.catalogue_file
        if not file.exists():
            if file != self.dir / "catalogue.yaml":  # asked for explicitly: must exist
                self.problem(P.MISSING_FILE, str(file), "catalogue file not found")
            return {}, ()
        data = self.read_yaml(file)
        if not isinstance(data, dict):
            self.problem(P.INVALID_DEFINITION, "catalogue.yaml", "expected a mapping with 'services'")
            return {}, ()
        groups = tuple(
            g["code"] for g in data.get("groups") or () if isinstance(g, dict) and isinstance(g.get("code"), str)
        )
        services: dict[str, CatalogueService] = {}
        for item in data.get("services") or ():
            if not isinstance(item, dict) or not isinstance(item.get("code"), str):
                self.problem(P.INVALID_DEFINITION, "catalogue.yaml", f"service without a string code: {item!r}")
                continue
            referral = item.get("referral")
            organisme = referral.get("organisme") if isinstance(referral, dict) else referral
            names = item.get("names") if isinstance(item.get("names"), dict) else {}
            services[item["code"]] = CatalogueService(
                code=item["code"],
                group=str(item.get("group", "")),
                kind=str(item.get("kind", "")),
                names={k: v for k, v in names.items() if isinstance(k, str) and isinstance(v, str)},
                referral=organisme if isinstance(organisme, str) else None,
            )
        return services, groups

    def status_words(self) -> dict[str, dict[str, str]]:
        file = self.dir / "statuses.yaml"
        if not file.exists():
            return {}
        data = self.read_yaml(file)
        raw = data.get("statuses") if isinstance(data, dict) else None
        if not isinstance(raw, dict):
            self.problem(P.INVALID_DEFINITION, "statuses.yaml", "expected a mapping 'statuses'")
            return {}
        words: dict[str, dict[str, str]] = {}
        for status, text in raw.items():
            if not isinstance(status, str):
                self.problem(P.NON_STRING_KEY, "statuses.yaml", f"status {status!r} is not a string")
                continue
            built = self.text(text, f"statuses.{status}", "status word")
            if built is not None:
                words[status] = built
        return words


RESERVED = frozenset({"0", "00", "98"})
INPUT_TYPES = frozenset({"text", "number", "date", "phone", "reference"})
SCREEN_KINDS = {
    "menu": _Builder.menu,
    "input": _Builder.input,
    "confirm": _Builder.confirm,
    "action": _Builder.action,
    "end": _Builder.end,
}
"""The screen kinds: YAML ``kind`` -> builder (explicit registry)."""

REQUIRED_MESSAGES = (
    "nav_more", "nav_back", "confirm_actions", "invalid_choice", "invalid_text", "invalid_number",
    "invalid_date", "date_future", "date_past", "date_too_soon", "date_too_far", "date_too_old",
    "invalid_phone", "invalid_reference", "session_over", "technical_error",
)
"""Engine-wide messages every graph must define (in every language)."""
