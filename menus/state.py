"""The USSD session state (stored in Redis every hop: keep it small) and the per-hop context."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date


@dataclass(slots=True)
class SessionState:
    """Where a resident is in the menus.

    Serialised with short keys and empty fields left out: a fresh session is about 30 bytes,
    a request journey a few hundred.
    """

    screen: str
    language: str
    page: int = 0
    answers: dict[str, str] = field(default_factory=dict)
    """Journey answers, field -> canonical value (``service``, ``group``, ``quartier``...)."""
    history: list[str] = field(default_factory=list)
    """Screens to go back to with ``0`` (most recent last)."""
    variables: dict[str, str] = field(default_factory=dict)
    """Template variables for the screens' texts (from actions and picked labels)."""
    options: list[tuple[str, str]] = field(default_factory=list)
    """The (value, label) list of the dynamic menu on screen."""
    ended: bool = False
    language_chosen: bool = False
    """The resident picked a language in this session (not yet stored when consent pends)."""
    consented: bool = False
    """Consent given in this session."""
    resume_handled: bool = False
    """The resume-a-draft offer was answered (or no draft)."""

    def copy(self) -> SessionState:
        return SessionState(
            self.screen, self.language, self.page, dict(self.answers), list(self.history),
            dict(self.variables), list(self.options), self.ended, self.language_chosen,
            self.consented, self.resume_handled,
        )

    def to_json(self) -> str:
        data: dict[str, object] = {"s": self.screen, "l": self.language}
        if self.page:
            data["p"] = self.page
        if self.answers:
            data["a"] = self.answers
        if self.history:
            data["h"] = self.history
        if self.variables:
            data["v"] = self.variables
        if self.options:
            data["o"] = [list(pair) for pair in self.options]
        flags = (
            ("e" if self.ended else "") + ("L" if self.language_chosen else "")
            + ("c" if self.consented else "") + ("r" if self.resume_handled else "")
        )
        if flags:
            data["f"] = flags
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> SessionState:
        """Inverse of :meth:`to_json`. Raises ValueError on anything that is not one."""
        try:
            data = json.loads(text)
            flags = data.get("f", "")
            state = cls(
                screen=str(data["s"]),
                language=str(data["l"]),
                page=int(data.get("p", 0)),
                answers={str(k): str(v) for k, v in data.get("a", {}).items()},
                history=[str(x) for x in data.get("h", [])],
                variables={str(k): str(v) for k, v in data.get("v", {}).items()},
                options=[(str(v), str(label)) for v, label in data.get("o", [])],
                ended="e" in flags,
                language_chosen="L" in flags,
                consented="c" in flags,
                resume_handled="r" in flags,
            )
        except (KeyError, TypeError, AttributeError, json.JSONDecodeError) as exc:
            raise ValueError(f"not a session state: {exc}") from exc
        return state


@dataclass(frozen=True, slots=True)
class HopContext:
    """What the app knows about the caller at this hop (read from its stores, never written
    by the engine: the engine asks for changes through effects)."""

    session_id: str
    phone: str
    """E.164."""
    today: date
    """The commune's current date (Africa/Lome), for date rules."""
    language: str | None = None
    """The resident's stored language, None if never chosen."""
    consent_version: str | None = None
    """The consent version the resident accepted, None if never."""
    draft: SessionState | None = None
    """An interrupted request journey of this phone, if the app kept one."""
