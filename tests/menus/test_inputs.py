"""Answer validators: canonical values for handlers, display values for screens."""
from __future__ import annotations

from datetime import date

import pytest

from menus.inputs import InvalidAnswer, Redirect, VALIDATORS
from menus.model import DateRules, InputScreen
from tests.menus.fakes import make_reference

TODAY = date(2026, 11, 28)


def screen(input_type: str, **kwargs: object) -> InputScreen:
    return InputScreen("q", {"fr": "?"}, "f", input_type, "next", **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("raw", "value"),
    [("+22890123456", "+22890123456"), ("22890123456", "+22890123456"), ("90123456", "+22890123456"),
     ("90 12 34 56", "+22890123456"), ("+33612345678", "+33612345678"), ("0033612345678", "+33612345678")],
)
def test_phone_answers_are_stored_in_e164(raw: str, value: str) -> None:
    assert VALIDATORS["phone"](screen("phone"), raw, TODAY) == (value, value)


@pytest.mark.parametrize("raw", ["123", "abc", "9012345", "+2289012345678", "9" * 5000])
def test_invalid_phone_numbers_are_refused(raw: str) -> None:
    with pytest.raises(InvalidAnswer) as refused:
        VALIDATORS["phone"](screen("phone"), raw, TODAY)
    assert refused.value.message == "invalid_phone"


def test_references_accept_spaces_and_are_displayed_in_groups_of_three() -> None:
    reference = make_reference(25004217)
    spaced = f"{reference[:3]} {reference[3:6]} {reference[6:]}"
    assert VALIDATORS["reference"](screen("reference"), spaced, TODAY) == (reference, spaced)
    for typo in (reference[1] + reference[0] + reference[2:], reference[:8], reference + "1"):
        with pytest.raises(InvalidAnswer):
            VALIDATORS["reference"](screen("reference"), typo, TODAY)


@pytest.mark.parametrize("raw", ["05031990", "05/03/1990", "05.03.1990", "05-03-1990", " 05 03 1990 "])
def test_dates_are_typed_jjmmaaaa_with_tolerated_separators(raw: str) -> None:
    assert VALIDATORS["date"](screen("date"), raw, TODAY) == ("1990-03-05", "05/03/1990")


@pytest.mark.parametrize(
    ("rules", "raw", "message"),
    [
        (DateRules(not_future=True), "29112026", "date_future"),
        (DateRules(not_past=True), "27112026", "date_past"),
        (DateRules(min_days_ahead=30), "27122026", "date_too_soon"),
        (DateRules(max_days_ahead=10), "09122026", "date_too_far"),
        (DateRules(max_days_past=45), "13102026", "date_too_old"),
        (DateRules(), "29022027", "invalid_date"),
        (DateRules(), "01011850", "invalid_date"),
    ],
)
def test_date_rules_refuse_with_the_right_message(rules: DateRules, raw: str, message: str) -> None:
    with pytest.raises(InvalidAnswer) as refused:
        VALIDATORS["date"](screen("date", rules=rules), raw, TODAY)
    assert refused.value.message == message


def test_date_rules_accept_their_boundaries() -> None:
    validate = VALIDATORS["date"]
    assert validate(screen("date", rules=DateRules(not_future=True)), "28112026", TODAY)[0] == "2026-11-28"
    assert validate(screen("date", rules=DateRules(min_days_ahead=30)), "28122026", TODAY)[0] == "2026-12-28"
    assert validate(screen("date", rules=DateRules(max_days_past=45)), "14102026", TODAY)[0] == "2026-10-14"


def test_a_date_rule_can_redirect_instead_of_refusing() -> None:
    rules = DateRules(max_days_past=45, max_days_past_next="tribunal")
    with pytest.raises(Redirect) as redirected:
        VALIDATORS["date"](screen("date", rules=rules), "01012026", TODAY)
    assert redirected.value.target == "tribunal" and redirected.value.value == "2026-01-01"


def test_numbers_are_whole_and_within_bounds() -> None:
    number = screen("number", minimum=1, maximum=5)
    assert VALIDATORS["number"](number, " 05 ", TODAY) == ("5", "5")
    for raw in ("6", "0", "-1", "1.5", "deux", "٣", "1" * 5000):
        with pytest.raises(InvalidAnswer):
            VALIDATORS["number"](number, raw, TODAY)


def test_free_text_is_trimmed_and_needs_a_letter_or_digit() -> None:
    text = screen("text", min_len=2, max_len=10)
    assert VALIDATORS["text"](text, "  Kossi   Afi ", TODAY) == ("Kossi Afi", "Kossi Afi")
    for raw in ("K", "...", "x" * 11, "   "):
        with pytest.raises(InvalidAnswer):
            VALIDATORS["text"](text, raw, TODAY)
