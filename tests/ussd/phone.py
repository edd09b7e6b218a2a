"""A test phone: plays USSD sessions against the real HTTP endpoint as Africa's Talking does."""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

_session_numbers = itertools.count(1)


@dataclass
class Screen:
    status: int
    body: str

    @property
    def text(self) -> str:
        return self.body[4:]

    @property
    def is_con(self) -> bool:
        return self.body.startswith("CON ")

    @property
    def is_end(self) -> bool:
        return self.body.startswith("END ")


@dataclass
class Phone:
    client: Any
    prefix: str
    number: str = "+22890123456"
    service_code: str = "*384*2#"
    session_id: str = ""
    answers: list[str] = field(default_factory=list)
    screens: list[Screen] = field(default_factory=list)

    def post(self, text: str, session_id: str | None = None) -> Screen:
        resp = self.client.post(
            f"{self.prefix}/ussd",
            data={
                "sessionId": session_id or self.session_id,
                "serviceCode": self.service_code,
                "phoneNumber": self.number,
                "networkCode": "99999",
                "text": text,
            },
        )
        screen = Screen(resp.status_code, resp.get_data(as_text=True))
        self.screens.append(screen)
        return screen

    def dial(self, text: str = "") -> Screen:
        self.session_id = f"ATUid_test_{next(_session_numbers)}"
        self.answers = [text] if text else []
        return self.post(text)

    def press(self, key: str) -> Screen:
        self.answers.append(key)
        return self.post("*".join(self.answers))

    def play(self, *keys: str) -> Screen:
        screen = self.screens[-1] if self.screens else self.dial()
        for key in keys:
            screen = self.press(key)
        return screen

    def onboard(self, language_key: str = "1") -> Screen:
        """Dial to the main menu; a new phone first chooses its language and accepts the
        privacy notice."""
        screen = self.dial()
        if "Langue / Language" in screen.text:
            self.press(language_key)
            screen = self.press("1")
        return screen
