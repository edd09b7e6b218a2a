"""Whole-graph check of menu definitions: every problem at once, each naming screen and language.

``check_menus(path_or_graph)`` returns the list of problems (empty = the menus can be served);
``menus_check_report(path)`` is what ``ussd-gateway menus check [--path DIR]`` prints and its
exit code (0 when clean, 1 otherwise).

Checked: YAML errors; non-string keys (YAML 1.1 reads ``00`` ``010`` ``yes`` ``no`` as numbers
or booleans); duplicate, reserved (0, 00, 98) option keys; unknown targets; unreachable screens;
dead ends (a screen with no way on, or from which no END can be reached); missing translations;
every page of every screen in every language over the limit (templates count each
``{placeholder}`` as its own length; error lines are counted with the screens they precede) or
with a character outside GSM-7; a catalogue service without a form, a form for an unknown
service; number inputs that accept 0 (the back key); missing status words; and, when the app's
registry is given, action/source names it does not know.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Iterator

from menus import problems as P
from menus.engine import menu_pages
from menus.loader import read_menus
from menus.model import (
    BUILTIN_ACTIONS,
    PSEUDO_TARGETS,
    ActionScreen,
    ConfirmScreen,
    EndScreen,
    InputScreen,
    MenuGraph,
    MenuScreen,
    Screen,
)
from menus.problems import Problem
from menus.render import gsm_length
from sms.encoding import non_gsm7_chars

LIFECYCLE_STATUSES = (
    "recue", "a_completer", "attente_paiement", "en_instruction", "en_cours", "disponible",
    "delivree", "resolue", "rejetee", "hors_competence", "doublon", "annulee", "expiree",
)
"""Every request status (DOMAIN.md §5) must have a word in every language."""

_SAMPLE_VALUE = "x" * 10
"""Answer length assumed on confirmation screens (the engine shortens longer answers)."""


def check_menus(
    path_or_graph: str | os.PathLike[str] | MenuGraph | None = None,
    *,
    screen_limit: int = 160,
    known_actions: Iterable[str] | None = None,
    known_sources: Iterable[str] | None = None,
    catalogue_path: str | os.PathLike[str] | None = None,
) -> list[Problem]:
    """Every problem of the menus in a directory (default: Golfe 3) or of a built graph.

    ``known_actions`` / ``known_sources``: the app registry's names, to report names the YAML
    uses that the app does not provide. ``catalogue_path``: default ``<dir>/catalogue.yaml``.
    """
    if isinstance(path_or_graph, MenuGraph):
        graph = path_or_graph
        problems: list[Problem] = []
    else:
        graph, problems = read_menus(path_or_graph, screen_limit=screen_limit,
                                     catalogue_path=catalogue_path)
        if graph is None:
            return problems
    return problems + check_graph(graph, known_actions=known_actions, known_sources=known_sources)


def menus_check_report(
    path: str | os.PathLike[str] | None = None,
    *,
    screen_limit: int = 160,
    known_actions: Iterable[str] | None = None,
    known_sources: Iterable[str] | None = None,
    catalogue_path: str | os.PathLike[str] | None = None,
) -> tuple[str, int]:
    """(report text, exit code) for the ``menus check`` command."""
    from menus.loader import default_menus_dir

    directory = Path(path) if path is not None else default_menus_dir()
    found = check_menus(directory, screen_limit=screen_limit, known_actions=known_actions,
                        known_sources=known_sources, catalogue_path=catalogue_path)
    if not found:
        graph, _ = read_menus(directory, screen_limit=screen_limit, catalogue_path=catalogue_path)
        count = len(graph.screens) if graph else 0
        langs = ", ".join(graph.languages) if graph else ""
        return (f"menus OK: {directory} — {count} screens, languages {langs}, "
                f"limit {screen_limit} characters (GSM-7)"), 0
    lines = [f"{len(found)} problem(s) in {directory}:"]
    lines += [f"  {problem}" for problem in found]
    return "\n".join(lines), 1


def check_graph(
    graph: MenuGraph,
    *,
    known_actions: Iterable[str] | None = None,
    known_sources: Iterable[str] | None = None,
) -> list[Problem]:
    """Graph-level problems of an already built graph."""
    found: list[Problem] = []
    found += _targets(graph)
    found += _reachability(graph)
    found += _texts(graph)
    found += _catalogue(graph)
    found += _statuses(graph)
    found += _names(graph, known_actions, known_sources)
    return found


def targets_of(graph: MenuGraph, screen: Screen) -> list[str]:
    """Every target a screen can lead to (pseudo targets included)."""
    out: list[str] = []
    if isinstance(screen, MenuScreen):
        out += [o.next for o in screen.options]
        if screen.source is not None:
            out += [t for t in (screen.next, screen.empty) if t]
    elif isinstance(screen, InputScreen):
        out.append(screen.next)
        if screen.rules.max_days_past_next:
            out.append(screen.rules.max_days_past_next)
    elif isinstance(screen, ConfirmScreen):
        out += [screen.next, screen.cancel, "@form"]
    elif isinstance(screen, ActionScreen):
        out.append(screen.next)
        out += list(screen.outcomes.values())
    return out


def _expand(graph: MenuGraph, target: str) -> list[str]:
    if target == "@entry":
        return [graph.entry.language, graph.entry.consent, graph.entry.resume, graph.start]
    if target == "@form":
        return [form.first for form in graph.forms.values()] + [graph.no_form]
    return [target]


def _targets(graph: MenuGraph) -> Iterator[Problem]:
    for screen in graph.screens.values():
        for target in targets_of(graph, screen):
            if target not in graph.screens and target not in PSEUDO_TARGETS:
                yield Problem(P.UNKNOWN_TARGET, screen.id, "", f"leads to unknown screen {target!r}")
    for name, target in (("start", graph.start), ("no_form", graph.no_form),
                         ("entry.language", graph.entry.language),
                         ("entry.consent", graph.entry.consent),
                         ("entry.resume", graph.entry.resume)):
        if target not in graph.screens:
            yield Problem(P.UNKNOWN_TARGET, "meta", "", f"{name} is unknown screen {target!r}")


def _edges(graph: MenuGraph) -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for screen in graph.screens.values():
        out: set[str] = set()
        for target in targets_of(graph, screen):
            out.update(t for t in _expand(graph, target) if t in graph.screens)
        if screen.id == graph.entry.resume:  # resume_draft may jump to any form question
            out.update(graph.form_of_screen)
        edges[screen.id] = out
    # resume_draft actions can restore any form question or confirmation.
    for screen in graph.screens.values():
        if isinstance(screen, ActionScreen) and screen.action == "resume_draft":
            edges[screen.id].update(graph.form_of_screen)
    return edges


def _reachability(graph: MenuGraph) -> Iterator[Problem]:
    edges = _edges(graph)
    roots = [graph.start, graph.entry.language, graph.entry.consent, graph.entry.resume, graph.no_form]
    seen: set[str] = set()
    stack = [r for r in roots if r in graph.screens]
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        stack.extend(edges.get(current, ()))
    for screen_id in graph.screens:
        if screen_id not in seen:
            yield Problem(P.UNREACHABLE_SCREEN, screen_id, "", "no path from the main menu leads here")

    # Dead ends: a non-END screen with nowhere to go, or from which no END is reachable.
    ends = {s.id for s in graph.screens.values() if isinstance(s, EndScreen)}
    reverse: dict[str, set[str]] = {s: set() for s in graph.screens}
    for source, targets in edges.items():
        for target in targets:
            reverse[target].add(source)
    can_end: set[str] = set()
    stack = list(ends)
    while stack:
        current = stack.pop()
        if current in can_end:
            continue
        can_end.add(current)
        stack.extend(reverse[current])
    for screen in graph.screens.values():
        if isinstance(screen, EndScreen):
            continue
        if not edges[screen.id] and not any(t in PSEUDO_TARGETS for t in targets_of(graph, screen)):
            yield Problem(P.DEAD_END, screen.id, "", "no option or next screen: the resident is stuck")
        elif screen.id not in can_end and screen.id in seen:
            yield Problem(P.DEAD_END, screen.id, "", "no END screen can be reached from here")


def _texts(graph: MenuGraph) -> Iterator[Problem]:
    limit = graph.screen_limit
    for lang in graph.languages:
        longest_error = max(
            gsm_length(_safe(graph.message(name, lang)))
            for name in graph.messages
            if name.startswith(("invalid_", "date_"))
        ) if any(n.startswith(("invalid_", "date_")) for n in graph.messages) else 0
        for name, text in graph.messages.items():
            yield from _gsm_problems(f"messages.{name}", lang, text[lang])
            if gsm_length(_safe(text[lang])) > limit:
                yield Problem(P.TOO_LONG, f"messages.{name}", lang,
                              f"{gsm_length(_safe(text[lang]))} characters > {limit}")
        for status, words in graph.status_words.items():
            yield from _gsm_problems(f"statuses.{status}", lang, words[lang])
        for screen in graph.screens.values():
            yield from _screen_texts(graph, screen, lang, limit, longest_error)


def _screen_texts(graph: MenuGraph, screen: Screen, lang: str, limit: int, error_len: int) -> Iterator[Problem]:
    if isinstance(screen, ActionScreen):
        return
    texts = [screen.text[lang]]
    if isinstance(screen, MenuScreen):
        texts += [o.label[lang] for o in screen.options]
    if isinstance(screen, (MenuScreen, InputScreen)) and screen.summary:
        texts.append(screen.summary[lang])
    if isinstance(screen, InputScreen) and screen.error:
        texts.append(screen.error[lang])
    for text in texts:
        yield from _gsm_problems(screen.id, lang, text)
    if any(non_gsm7_chars(t) for t in texts):
        return  # lengths are meaningless until the text is GSM-7
    if isinstance(screen, MenuScreen):
        sample = [("v", "x" * 20)] * 3 if screen.source is not None else []
        _pages, shortened = menu_pages(graph, screen, lang, sample, None)
        invalid = gsm_length(_safe(graph.message("invalid_choice", lang))) + 1 if "invalid_choice" in graph.messages else 0
        if shortened:
            yield Problem(P.TOO_LONG, screen.id, lang, "an option does not fit on a page, even alone")
        elif invalid and menu_pages(graph, screen, lang, sample, None, invalid)[1]:
            yield Problem(P.TOO_LONG, screen.id, lang, "does not fit with the 'invalid choice' line")
        return
    if isinstance(screen, ConfirmScreen):
        lines = screen.text[lang].split("\n")
        lines += [f"{label}: {_SAMPLE_VALUE}" for label in _longest_form_summary(graph, lang)]
        if "confirm_actions" in graph.messages:
            lines += graph.message("confirm_actions", lang).split("\n")
        length = gsm_length("\n".join(lines))
        if length > limit:
            yield Problem(P.TOO_LONG, screen.id, lang,
                          f"{length} characters > {limit} with the longest form's summary")
        return
    text = screen.text[lang]
    length = gsm_length(text)
    extra = error_len + 1 if isinstance(screen, InputScreen) else 0
    if isinstance(screen, InputScreen) and screen.error:
        extra = gsm_length(screen.error[lang]) + 1
    if length + extra > limit:
        what = f"{length} characters" + (f" + error line {extra}" if extra else "")
        yield Problem(P.TOO_LONG, screen.id, lang, f"{what} > {limit}")


def _longest_form_summary(graph: MenuGraph, lang: str) -> list[str]:
    best: list[str] = []
    best_len = -1
    for form in graph.forms.values():
        labels = []
        for screen_id in form.screens:
            screen = graph.screens.get(screen_id)
            if isinstance(screen, (MenuScreen, InputScreen)) and screen.summary:
                labels.append(screen.summary[lang])
        size = sum(len(label) + len(_SAMPLE_VALUE) + 3 for label in labels)
        if size > best_len:
            best, best_len = labels, size
    return best


def _gsm_problems(where: str, lang: str, text: str) -> Iterator[Problem]:
    bad = non_gsm7_chars(text)
    if bad:
        yield Problem(P.NOT_GSM7, where, lang,
                      f"characters outside GSM-7 {''.join(bad)!r} in {text[:40]!r} (fold or rephrase)")


def _safe(text: str) -> str:
    return "".join(c if not non_gsm7_chars(c) else "?" for c in text)


def _catalogue(graph: MenuGraph) -> Iterator[Problem]:
    if not graph.catalogue:
        return
    for code in graph.catalogue:
        if code not in graph.forms:
            yield Problem(P.SERVICE_WITHOUT_FORM, f"forms.{code}", "",
                          f"catalogue service {code} has no form: residents cannot request it")
    for code in graph.forms:
        if code not in graph.catalogue:
            yield Problem(P.FORM_FOR_UNKNOWN_SERVICE, f"forms.{code}", "",
                          f"form for {code}, which is not in catalogue.yaml")


def _statuses(graph: MenuGraph) -> Iterator[Problem]:
    if not graph.status_words:
        return
    for status in LIFECYCLE_STATUSES:
        if status not in graph.status_words:
            yield Problem(P.MISSING_STATUS_WORD, f"statuses.{status}", "",
                          f"no word for status {status!r}")


def _names(graph: MenuGraph, actions: Iterable[str] | None, sources: Iterable[str] | None) -> Iterator[Problem]:
    action_set = None if actions is None else set(actions) | BUILTIN_ACTIONS
    source_set = None if sources is None else set(sources)
    for screen in graph.screens.values():
        if isinstance(screen, ActionScreen) and action_set is not None and screen.action not in action_set:
            yield Problem(P.UNKNOWN_ACTION, screen.id, "", f"action {screen.action!r} is not in the registry")
        if isinstance(screen, MenuScreen) and screen.source and source_set is not None \
                and screen.source not in source_set:
            yield Problem(P.UNKNOWN_ACTION, screen.id, "", f"source {screen.source!r} is not in the registry")


def handler_names(graph: MenuGraph) -> tuple[set[str], set[str]]:
    """(action names, source names) the graph expects from the app's registry."""
    actions = {s.action for s in graph.screens.values()
               if isinstance(s, ActionScreen) and s.action not in BUILTIN_ACTIONS}
    sources = {s.source for s in graph.screens.values() if isinstance(s, MenuScreen) and s.source}
    return actions, sources


__all__ = ["check_menus", "menus_check_report", "check_graph", "handler_names", "LIFECYCLE_STATUSES"]
