"""Problems found in menu definitions, and the one exception that carries all of them."""
from __future__ import annotations

from dataclasses import dataclass

# One constant per kind of problem (the fixture directories under tests/fixtures/menus_broken/
# are named after them).
YAML_ERROR = "yaml_error"
MISSING_FILE = "missing_file"
INVALID_DEFINITION = "invalid_definition"
NON_STRING_KEY = "non_string_key"
DUPLICATE_KEY = "duplicate_key"
RESERVED_KEY = "reserved_key"
DUPLICATE_SCREEN = "duplicate_screen"
UNKNOWN_TARGET = "unknown_target"
UNREACHABLE_SCREEN = "unreachable_screen"
DEAD_END = "dead_end"
MISSING_TRANSLATION = "missing_translation"
TOO_LONG = "too_long"
NOT_GSM7 = "not_gsm7"
SERVICE_WITHOUT_FORM = "service_without_form"
FORM_FOR_UNKNOWN_SERVICE = "form_for_unknown_service"
UNKNOWN_LIST = "unknown_list"
NUMBER_ACCEPTS_ZERO = "number_accepts_zero"
MISSING_STATUS_WORD = "missing_status_word"
UNKNOWN_ACTION = "unknown_action"

ALL_KINDS = (
    YAML_ERROR, MISSING_FILE, INVALID_DEFINITION, NON_STRING_KEY, DUPLICATE_KEY, RESERVED_KEY,
    DUPLICATE_SCREEN, UNKNOWN_TARGET, UNREACHABLE_SCREEN, DEAD_END, MISSING_TRANSLATION,
    TOO_LONG, NOT_GSM7, SERVICE_WITHOUT_FORM, FORM_FOR_UNKNOWN_SERVICE, UNKNOWN_LIST,
    NUMBER_ACCEPTS_ZERO, MISSING_STATUS_WORD, UNKNOWN_ACTION,
)


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with the definitions. ``screen`` and ``language`` are empty when the
    problem is not about one screen or one language."""

    kind: str
    screen: str
    language: str
    detail: str

    def __str__(self) -> str:
        where = self.screen or "-"
        if self.language:
            where += f" [{self.language}]"
        return f"{self.kind}: {where}: {self.detail}"


class MenuDefinitionError(Exception):
    """The menu definitions cannot be served; ``problems`` lists every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"{len(self.problems)} problem(s) in the menu definitions:\n{lines}")
