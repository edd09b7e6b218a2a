"""The pure USSD menu engine: (graph, session state, input, handlers, context) -> Step.

Usage (the app builds one engine at start-up and calls it once per hop)::

    graph = load_menus(path, screen_limit=settings.ussd_screen_limit)   # raises on any problem
    engine = MenuEngine(graph, handlers)                                 # handlers: MenuHandlers
    step = engine.start(ctx)                      # first hop of a session (text == "")
    step = engine.step(state, user_input, ctx)    # every later hop, one input at a time
    # -> step.text / step.end / step.reply ("CON ..." | "END ..."), step.state, step.effects

Navigation works on every screen: ``0`` goes back (previous page, then previous screen; on a
confirmation it cancels), ``00`` goes to the main menu (through the first-use screens if they
are still pending), ``98`` shows the next page of a long menu. Invalid answers re-ask the same
screen with an error line in the resident's language; the session goes on.

Never imports Flask, Redis or SQLAlchemy; never performs I/O except through ``handlers``.
"""
from __future__ import annotations

from typing import Sequence

from menus.effects import ClearDraft, Effect, RecordConsent, SaveDraft, SetLanguage, Step
from menus.handlers import ActionContext, ActionResult, MenuHandlers, UnknownOutcome
from menus.inputs import VALIDATORS, InvalidAnswer, Redirect
from menus.model import (
    ActionScreen,
    ConfirmScreen,
    EndScreen,
    InputScreen,
    MenuGraph,
    MenuOption,
    MenuScreen,
    Screen,
)
from menus.render import (
    fill,
    fill_lines,
    fit_lines,
    has_placeholders,
    paginate,
    placeholders,
    shorten,
    to_gsm7,
)
from menus.state import HopContext, SessionState
from ussd_gateway.references import format_reference

MAX_HISTORY = 12
MAX_DYNAMIC_OPTIONS = 40
MAX_LABEL = 60
MAX_VARIABLE = 160
MAX_ACTION_CHAIN = 16


class MenuEngine:
    """One per app; thread-safe (holds only immutable data)."""

    def __init__(self, graph: MenuGraph, handlers: MenuHandlers) -> None:
        self.graph = graph
        self.handlers = handlers
        self._options_by_key: dict[str, dict[str, MenuOption]] = {}
        self._static_pages: dict[tuple[str, str], list[str]] = {}
        self._template_names = template_names(graph)
        for screen in graph.screens.values():
            if isinstance(screen, MenuScreen) and screen.source is None:
                self._options_by_key[screen.id] = {o.key: o for o in screen.options}
                for lang in graph.languages:
                    if not has_placeholders(screen.text[lang]):
                        self._static_pages[(screen.id, lang)] = menu_pages(graph, screen, lang, [])[0]

    # -- public API ---------------------------------------------------------------------------
    def start(self, ctx: HopContext) -> Step:
        """The first screen of a new session (first-use screens, resume offer, or main menu)."""
        language = ctx.language if ctx.language in self.graph.languages else self.graph.default_language
        hop = _Hop(self, SessionState(screen=self.graph.start, language=language), ctx)
        hop.enter("@entry")
        return hop.finish(was_resumable=False)

    def step(self, state: SessionState | None, user_input: str, ctx: HopContext) -> Step:
        """Apply one input (the text the resident typed at this hop) to ``state``.

        ``state`` is not modified; ``state=None`` is the same as :meth:`start`.
        """
        if state is None:
            return self.start(ctx)
        graph = self.graph
        if state.ended or state.screen not in graph.screens or state.language not in graph.languages:
            ended = state.copy()
            ended.ended = True
            lang = state.language if state.language in graph.languages else graph.default_language
            return Step(graph.message("session_over", lang), True, ended)
        hop = _Hop(self, state.copy(), ctx)
        was_resumable = hop.resumable()
        hop.handle(user_input)
        return hop.finish(was_resumable)

    def apology(self, language: str | None) -> str:
        """The ``END`` text for a failed hop (handler error, database or Redis down)."""
        lang = language if language in self.graph.languages else self.graph.default_language
        return self.graph.message("technical_error", lang)


class _Hop:
    """The work of one step (mutable scratch space; never escapes the engine)."""

    __slots__ = ("engine", "graph", "st", "ctx", "effects", "error", "force_end")

    def __init__(self, engine: MenuEngine, state: SessionState, ctx: HopContext) -> None:
        self.engine = engine
        self.graph = engine.graph
        self.st = state
        self.ctx = ctx
        self.effects: list[Effect] = []
        self.error: str | None = None
        self.force_end = False

    # -- input --------------------------------------------------------------------------------
    def handle(self, user_input: str) -> None:
        st = self.st
        screen = self.graph.screens[st.screen]
        key = user_input.strip()
        if key == "00":
            st.history.clear()
            st.answers.clear()
            st.variables.clear()
            self.enter("@entry")
            return
        if key == "0":
            self.back(screen)
            return
        if key == "98" and isinstance(screen, MenuScreen) and st.page + 1 < self.page_count(screen):
            st.page += 1
            return
        if isinstance(screen, MenuScreen):
            self.choose(screen, key)
        elif isinstance(screen, InputScreen):
            self.answer(screen, user_input)
        elif isinstance(screen, ConfirmScreen):
            if key == "1":
                self.enter(screen.next)
            elif key == "2":
                self.enter("@form", push=screen.id)
            else:
                self.fail("invalid_choice")
        else:  # EndScreen (ended states are answered before) or a stray ActionScreen id
            self.enter(self.graph.start)

    def back(self, screen: Screen) -> None:
        st = self.st
        if st.page > 0:
            st.page -= 1
        elif isinstance(screen, ConfirmScreen):
            self.enter(screen.cancel)
        elif st.history:
            self.enter(st.history.pop())

    def choose(self, screen: MenuScreen, key: str) -> None:
        st = self.st
        if screen.source is not None:
            if not (key.isascii() and key.isdigit() and len(key) <= 3 and key[0] != "0"
                    and int(key) <= len(st.options)):
                self.fail("invalid_choice")
                return
            value, label = st.options[int(key) - 1]
            target = screen.next or self.graph.start
        else:
            option = self.engine._options_by_key[screen.id].get(key)
            if option is None:
                self.fail("invalid_choice")
                return
            value, label, target = option.value, option.label[st.language], option.next
        if screen.field and value is not None:
            st.answers[screen.field] = value
            name = screen.field + "_label"
            if name in self.engine._template_names:  # only what a text shows: keep state small
                st.variables[name] = to_gsm7(label)[:MAX_LABEL]
        self.enter(target, push=screen.id)

    def answer(self, screen: InputScreen, raw: str) -> None:
        try:
            value, _display = VALIDATORS[screen.input_type](screen, raw, self.ctx.today)
        except InvalidAnswer as invalid:
            if screen.error is not None:
                self.error = screen.error[self.st.language]
            else:
                self.fail(invalid.message, invalid.variables)
            return
        except Redirect as redirect:
            self.st.answers[screen.field] = redirect.value
            self.enter(redirect.target, push=screen.id)
            return
        self.st.answers[screen.field] = value
        self.enter(screen.next, push=screen.id)

    def fail(self, message: str, variables: dict[str, str] | None = None) -> None:
        self.error = fill(self.graph.message(message, self.st.language), variables or {})

    # -- moving between screens ---------------------------------------------------------------
    def enter(self, target: str, push: str | None = None) -> None:
        """Go to ``target`` (running action screens on the way) and prepare it for display."""
        st = self.st
        if push is not None:
            st.history.append(push)
            if len(st.history) > MAX_HISTORY:
                del st.history[0]
        for _ in range(MAX_ACTION_CHAIN):
            target = self.resolve(target)
            screen = self.graph.screens[target]
            if not isinstance(screen, ActionScreen):
                break
            target = self.run(screen)
        else:
            raise RuntimeError(f"more than {MAX_ACTION_CHAIN} action screens in a row at {target!r}")
        st.screen = target
        st.page = 0
        st.options = []
        if target == self.graph.start:
            st.history.clear()
        if isinstance(screen, EndScreen):
            st.ended = True
        elif isinstance(screen, MenuScreen) and screen.source is not None:
            found = self.engine.handlers.options(screen.source, self.action_context(screen.params))
            if not found:
                self.enter(screen.empty or self.graph.start)
                return
            st.options = [
                (str(o.value)[:MAX_LABEL], shorten(to_gsm7(str(o.label)), MAX_LABEL))
                for o in found[:MAX_DYNAMIC_OPTIONS]
            ]
        if self.force_end:
            st.ended = True

    def resolve(self, target: str) -> str:
        if target == "@entry":
            graph, st, ctx = self.graph, self.st, self.ctx
            if ctx.language is None and not st.language_chosen:
                return graph.entry.language
            if ctx.consent_version != graph.consent_version and not st.consented:
                return graph.entry.consent
            if self.draft() is not None and not st.resume_handled:
                return graph.entry.resume
            st.resume_handled = True  # the offer comes before the main menu, once per session
            return graph.start
        if target == "@form":
            form = self.graph.forms.get(self.st.answers.get("service", ""))
            return form.first if form is not None else self.graph.no_form
        return target

    def draft(self) -> SessionState | None:
        draft = self.ctx.draft
        if draft is None or draft.ended or draft.screen not in self.graph.screens:
            return None
        return draft

    def run(self, screen: ActionScreen) -> str:
        """Run an action screen; return the next target."""
        st, graph = self.st, self.graph
        name = screen.action
        if name == "set_language":
            language = st.answers.pop("language", "")
            if language in graph.languages:
                st.language = language
                st.language_chosen = True
                consent_pending = (self.ctx.consent_version != graph.consent_version
                                   and not st.consented)
                if not consent_pending:  # otherwise stored together with the consent
                    self.effects.append(SetLanguage(language))
            return screen.next
        if name == "record_consent":
            st.consented = True
            self.effects.append(RecordConsent(graph.consent_version))
            if st.language_chosen:
                self.effects.append(SetLanguage(st.language))
            return screen.next
        if name == "resume_draft":
            draft = self.draft()
            st.resume_handled = True
            if draft is None:
                return screen.next
            st.answers = dict(draft.answers)
            st.variables = dict(draft.variables)
            st.history = list(draft.history)
            return draft.screen
        if name == "discard_draft":
            st.resume_handled = True
            self.effects.append(ClearDraft())
            return screen.next
        result = self.engine.handlers.run(name, self.action_context(screen.params))
        if not isinstance(result, ActionResult):
            raise TypeError(f"handler for {name!r} returned {type(result).__name__}, not ActionResult")
        for key, value in result.variables.items():
            st.variables[str(key)] = to_gsm7(str(value))[:MAX_VARIABLE]
        if result.end:
            self.force_end = True
        if result.outcome is None:
            return screen.next
        try:
            return screen.outcomes[result.outcome]
        except KeyError:
            raise UnknownOutcome(
                f"action {name!r} at {screen.id!r} returned outcome {result.outcome!r}; "
                f"declared: {sorted(screen.outcomes)}"
            ) from None

    def action_context(self, params: object) -> ActionContext:
        st = self.st
        return ActionContext(
            session_id=self.ctx.session_id,
            phone=self.ctx.phone,
            language=st.language,
            today=self.ctx.today,
            answers=dict(st.answers),
            summary=tuple(summary_lines(self.graph, st.answers, self.graph.default_language)),
            service=st.answers.get("service"),
            params=params,  # type: ignore[arg-type]
        )

    # -- output -------------------------------------------------------------------------------
    def resumable(self) -> bool:
        st = self.st
        if st.ended or "service" not in st.answers:
            return False
        return st.screen in self.graph.form_of_screen or isinstance(
            self.graph.screens.get(st.screen), ConfirmScreen)

    def finish(self, was_resumable: bool) -> Step:
        st = self.st
        text = self.render()
        effects = self.effects
        if self.resumable():
            effects.append(SaveDraft())
        elif was_resumable and not any(isinstance(e, ClearDraft) for e in effects):
            effects.append(ClearDraft())
        if st.ended:  # nothing more will be read: store the smallest state
            st = SessionState(st.screen, st.language, ended=True)
        return Step(text, st.ended, st, tuple(effects))

    def page_count(self, screen: MenuScreen) -> int:
        return len(self.pages(screen, 0))

    def pages(self, screen: MenuScreen, reserve: int) -> list[str]:
        lang = self.st.language
        if reserve == 0:
            cached = self.engine._static_pages.get((screen.id, lang))
            if cached is not None:
                return cached
        return menu_pages(self.graph, screen, lang, self.st.options, self.st.variables, reserve)[0]

    def render(self) -> str:
        st, graph = self.st, self.graph
        screen = graph.screens[st.screen]
        lang = st.language
        limit = graph.screen_limit
        error = self.error
        reserve = 0 if error is None else len(error) + 1
        if isinstance(screen, MenuScreen):
            if st.ended:  # an action asked to end here: the text without its options
                return fit_lines(fill_lines(screen.text[lang], st.variables), limit)
            pages = self.pages(screen, reserve)
            st.page = min(st.page, len(pages) - 1)
            body = pages[st.page]
        elif isinstance(screen, ConfirmScreen):
            lines = fill_lines(screen.text[lang], st.variables)
            lines += [f"{label}: {value}" for label, value in summary_lines(graph, st.answers, lang)]
            lines += graph.message("confirm_actions", lang).split("\n")
            body = fit_lines(lines, limit - reserve)
        else:  # input or end
            body = fit_lines(fill_lines(screen.text[lang], st.variables), limit - reserve)
        if error is None:
            return body
        return shorten(error, limit) + ("\n" + body if body else "")


def menu_pages(
    graph: MenuGraph,
    screen: MenuScreen,
    language: str,
    dynamic: Sequence[tuple[str, str]],
    variables: dict[str, str] | None = None,
    reserve: int = 0,
) -> tuple[list[str], bool]:
    """Pages of a menu screen (and whether something had to be shortened to fit)."""
    header = "\n".join(fill_lines(screen.text[language], variables or {}))
    if screen.source is not None:
        lines = [f"{i} {label}" for i, (_value, label) in enumerate(dynamic, start=1)]
    else:
        lines = [f"{o.key} {o.label[language]}" for o in screen.options]
    return paginate(
        header,
        lines,
        limit=graph.screen_limit - reserve,
        more_line=graph.message("nav_more", language),
        back_line=graph.message("nav_back", language),
        back_on_first=screen.back and screen.id != graph.start,
    )


def template_names(graph: MenuGraph) -> frozenset[str]:
    """Every ``{placeholder}`` name used by a screen text of the graph."""
    names: set[str] = set()
    for screen in graph.screens.values():
        text = getattr(screen, "text", None)
        if text:
            for value in text.values():
                names.update(placeholders(value))
    return frozenset(names)


def display_value(screen: Screen, value: str, language: str) -> str:
    """How a canonical answer is shown back (confirmation screen, staff summary)."""
    if isinstance(screen, MenuScreen):
        for option in screen.options:
            if option.value == value:
                return option.label[language]
        return value
    if isinstance(screen, InputScreen):
        if screen.input_type == "date" and len(value) == 10:
            return f"{value[8:10]}/{value[5:7]}/{value[0:4]}"
        if screen.input_type == "reference":
            return format_reference(value)
    return value


def summary_lines(graph: MenuGraph, answers: dict[str, str], language: str) -> list[tuple[str, str]]:
    """(label, displayed value) of the selected service's answered questions, in order."""
    form = graph.forms.get(answers.get("service", ""))
    if form is None:
        return []
    lines = []
    for screen_id in form.screens:
        screen = graph.screens.get(screen_id)
        if screen is None or isinstance(screen, (ActionScreen, EndScreen, ConfirmScreen)):
            continue
        field = screen.field
        summary = screen.summary
        if field is None or field not in answers or summary is None:
            continue
        lines.append((summary[language], to_gsm7(display_value(screen, answers[field], language))))
    return lines
