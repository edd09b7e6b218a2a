"""What one engine step returns: the screen, the new state, and the changes the app must make.

The engine never writes anything; the app applies the effects (in order) after the step:

``SetLanguage(language)``   store the resident's language for their phone (USSD and SMS).
``RecordConsent(version)``  store that the resident accepted this privacy-notice version, now.
``SaveDraft()``             keep ``step.state`` as this phone's resumable draft (short TTL).
``ClearDraft()``            delete this phone's draft (used, discarded, finished or abandoned).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from menus.state import SessionState


@dataclass(frozen=True, slots=True)
class SetLanguage:
    language: str


@dataclass(frozen=True, slots=True)
class RecordConsent:
    version: str


@dataclass(frozen=True, slots=True)
class SaveDraft:
    pass


@dataclass(frozen=True, slots=True)
class ClearDraft:
    pass


Effect = Union[SetLanguage, RecordConsent, SaveDraft, ClearDraft]


@dataclass(frozen=True, slots=True)
class Step:
    """``text`` is the screen without the provider's ``CON``/``END`` prefix; ``end`` says which."""

    text: str
    end: bool
    state: SessionState
    effects: tuple[Effect, ...] = ()

    @property
    def reply(self) -> str:
        """Africa's Talking body: ``CON <text>`` or ``END <text>``."""
        return ("END " if self.end else "CON ") + self.text
