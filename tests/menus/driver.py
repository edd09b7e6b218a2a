"""Drive the pure engine hop by hop like the app does (state through JSON, effects applied)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from menus.effects import ClearDraft, RecordConsent, SaveDraft, SetLanguage, Step
from menus.engine import MenuEngine
from menus.loader import load_menus
from menus.state import HopContext, SessionState
from sms.encoding import is_gsm7, septet_count
from tests.menus.fakes import FakeHandlers

TODAY = date(2026, 11, 28)
PHONE = "+22890123456"
GRAPH = load_menus()


@dataclass
class Phone:
    """One resident's phone: remembers language, consent and draft like the app's stores."""

    handlers: FakeHandlers = field(default_factory=FakeHandlers)
    phone: str = PHONE
    language: str | None = "fr"
    consent_version: str | None = GRAPH.consent_version
    draft: SessionState | None = None
    today: date = TODAY
    engine: MenuEngine | None = None
    state: SessionState | None = None
    steps: list[Step] = field(default_factory=list)
    session_number: int = 0

    def __post_init__(self) -> None:
        if self.engine is None:
            self.engine = MenuEngine(GRAPH, self.handlers)

    def context(self) -> HopContext:
        return HopContext(f"sess-{self.session_number}", self.phone, self.today, self.language,
                          self.consent_version, self.draft)

    def dial(self) -> Step:
        self.session_number += 1
        return self._apply(self.engine.start(self.context()))

    def send(self, *inputs: str) -> Step:
        step = self.steps[-1]
        for text in inputs:
            assert not step.end, f"session ended before input {text!r}: {step.text!r}"
            stored = SessionState.from_json(self.state.to_json())  # through "Redis"
            step = self._apply(self.engine.step(stored, text, self.context()))
        return step

    def _apply(self, step: Step) -> Step:
        assert_screen_ok(step)
        for effect in step.effects:
            if isinstance(effect, SetLanguage):
                self.language = effect.language
            elif isinstance(effect, RecordConsent):
                self.consent_version = effect.version
            elif isinstance(effect, SaveDraft):
                self.draft = SessionState.from_json(step.state.to_json())
            elif isinstance(effect, ClearDraft):
                self.draft = None
        self.state = step.state
        self.steps.append(step)
        return step

    @property
    def screen(self) -> str:
        return self.state.screen


def assert_screen_ok(step: Step, limit: int = 160) -> None:
    assert step.text, "empty screen"
    assert is_gsm7(step.text), f"not GSM-7: {step.text!r}"
    assert septet_count(step.text) <= limit, f"{septet_count(step.text)} > {limit}: {step.text!r}"
    assert step.reply.startswith(("CON ", "END "))


def new_phone(**kwargs: object) -> Phone:
    return Phone(**kwargs)  # type: ignore[arg-type]


__all__ = ["Phone", "GRAPH", "TODAY", "PHONE", "assert_screen_ok", "new_phone"]
