"""The whole-graph check: the Golfe 3 menus pass; each kind of broken definition is caught."""
from __future__ import annotations

from pathlib import Path

import pytest

from menus import problems as P
from menus.check import LIFECYCLE_STATUSES, check_menus, handler_names, menus_check_report
from menus.loader import load_menus, read_menus
from menus.problems import MenuDefinitionError
from ussd_gateway.lifecycle import Status

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "menus_broken"
KINDS = sorted(d.name for d in FIXTURES.iterdir() if d.is_dir() and not d.name.startswith("_"))
# the names of the app's registry (ussd_gateway/ussd_actions.py) as the check is given them
APP_ACTIONS = {"create_request", "lookup_reference", "service_info"}
APP_SOURCES = {"services", "my_requests"}


def test_the_golfe3_menus_have_no_problem() -> None:
    assert check_menus(known_actions=APP_ACTIONS, known_sources=APP_SOURCES) == []
    text, code = menus_check_report()
    assert code == 0 and text.startswith("menus OK")


def test_the_golfe3_menus_use_exactly_the_apps_handler_names() -> None:
    assert handler_names(load_menus()) == (APP_ACTIONS, APP_SOURCES)


def test_there_is_one_fixture_per_problem_kind() -> None:
    assert KINDS == sorted(P.ALL_KINDS)


def test_the_fixture_baseline_is_valid() -> None:
    assert check_menus(FIXTURES / "_valid", known_actions={"create_request"}, known_sources={"services"}) == []


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_of_broken_definition_is_caught_and_named(kind: str) -> None:
    found = check_menus(FIXTURES / kind, known_actions={"create_request"}, known_sources={"services"})
    assert {p.kind for p in found} == {kind}, [str(p) for p in found]
    assert all(p.screen for p in found)
    text, code = menus_check_report(FIXTURES / kind, known_actions={"create_request"},
                                    known_sources={"services"})
    assert code == 1 and kind in text


def test_problems_name_the_screen_and_the_language() -> None:
    found = check_menus(FIXTURES / "missing_translation")
    assert [(p.screen, p.language) for p in found] == [("accueil", "en")]
    found = check_menus(FIXTURES / "not_gsm7")
    assert [(p.screen, p.language) for p in found] == [("consentement", "fr")]
    assert "Ê" in found[0].detail and "ô" in found[0].detail


def test_all_problems_are_reported_together() -> None:
    found = check_menus(FIXTURES / "_several")
    assert {p.kind for p in found} == {P.MISSING_TRANSLATION, P.UNKNOWN_TARGET, P.TOO_LONG}
    with pytest.raises(MenuDefinitionError) as raised:
        load_menus(FIXTURES / "_several")
    assert len(raised.value.problems) == 3
    assert "nulle_part" in str(raised.value) and "refus [fr]" in str(raised.value)


def test_yaml_1_1_surprises_in_keys_are_rejected(tmp_path: Path) -> None:
    base = (FIXTURES / "_valid" / "menus.yaml").read_text(encoding="utf-8")
    extra = "".join(
        f'      - {{key: {key}, next: accueil, label: {{fr: "X", en: "X"}}}}\n'
        for key in ("00", "010", "yes", "no", "on", "1.5")
    )
    anchor = '      - {key: "2", next: langue, label: {fr: "Langue", en: "Language"}}\n'
    (tmp_path / "menus.yaml").write_text(base.replace(anchor, anchor + extra), encoding="utf-8")
    found = check_menus(tmp_path)
    assert [p.kind for p in found] == [P.NON_STRING_KEY] * 6
    assert "quote it" in found[0].detail


def test_a_smaller_screen_limit_reports_every_screen_and_language_over_it() -> None:
    found = check_menus(screen_limit=100)
    assert found and {p.kind for p in found} == {P.TOO_LONG}
    assert ("consentement", "fr") in {(p.screen, p.language) for p in found}
    assert {p.language for p in found} == {"fr", "en", "ee"}


def test_every_status_of_the_lifecycle_has_a_word_in_every_language() -> None:
    graph = load_menus()
    assert set(LIFECYCLE_STATUSES) == {s.value for s in Status}
    for status in LIFECYCLE_STATUSES:
        for language in graph.languages:
            assert graph.status_word(status, language)
    assert graph.status_word("disponible", "en") == "ready for pickup at the counter"


def test_every_catalogue_service_has_a_form_with_at_most_four_questions() -> None:
    graph, problems = read_menus()
    assert problems == []
    assert set(graph.forms) == set(graph.catalogue)
    assert max(len(form.screens) for form in graph.forms.values()) <= 4


def test_a_missing_directory_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    text, code = menus_check_report(tmp_path / "nope")
    assert code == 1 and "missing_file" in text


def test_the_catalogue_can_live_elsewhere_and_must_exist_when_named(tmp_path: Path) -> None:
    found = check_menus(FIXTURES / "_valid",
                        catalogue_path=FIXTURES / "service_without_form" / "catalogue.yaml")
    assert [p.kind for p in found] == [P.SERVICE_WITHOUT_FORM]
    found = check_menus(FIXTURES / "_valid", catalogue_path=tmp_path / "absent.yaml")
    assert [p.kind for p in found] == [P.MISSING_FILE]


def test_a_key_repeated_in_one_yaml_mapping_is_an_error_not_silently_dropped(tmp_path: Path) -> None:
    base = (FIXTURES / "_valid" / "menus.yaml").read_text(encoding="utf-8")
    twice = '  annulee: {kind: end, text: {fr: "Encore", en: "Again"}}\n'
    (tmp_path / "menus.yaml").write_text(base.replace("\nforms:\n", "\n" + twice + "\nforms:\n"),
                                         encoding="utf-8")
    found = check_menus(tmp_path)
    assert [p.kind for p in found] == [P.YAML_ERROR]
    assert "duplicate key 'annulee'" in found[0].detail
