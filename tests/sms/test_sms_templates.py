"""SMS templates: every event in fr/en/ee, one GSM-7 SMS with worst-case values, strict loading."""

from __future__ import annotations

from pathlib import Path

import pytest

from sms.encoding import is_gsm7, sms_info
from sms.templates import (
    DEFAULT_TEMPLATES_DIR,
    EVENT_VARIABLES,
    FREE_TEXT_MAX_CHARS,
    LANGUAGES,
    WORST_CASE_VALUES,
    MissingValueError,
    TemplateError,
    UnknownEventError,
    check_templates,
    load_templates,
    prepare_free_text,
    templates_check_report,
)

REQUIRED_EVENTS = {
    "recue", "a_completer", "en_instruction", "en_cours", "attente_paiement", "disponible",
    "delivree", "resolue", "rejetee", "hors_competence", "doublon", "annulee", "expiree",
    "statut_reply", "statut_word_only", "stop_confirm", "start_confirm", "help",
    "unknown_command", "reference_invalid",
}


def write_lang(directory: Path, lang: str, templates: dict[str, str], reviewed: bool = True) -> None:
    lines = [f"language: {lang}", f"reviewed: {str(reviewed).lower()}", "templates:"]
    lines += [f"  {event}: {text!r}" for event, text in templates.items()]
    (directory / f"{lang}.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def minimal_fr() -> dict[str, str]:
    return {event: "{commune}: " + event for event in EVENT_VARIABLES}


def test_every_required_event_has_a_template_in_every_language() -> None:
    templates = load_templates()
    assert REQUIRED_EVENTS <= set(EVENT_VARIABLES)
    assert set(templates.languages) == set(LANGUAGES)
    for lang in LANGUAGES:
        assert set(templates.texts[lang]) == set(EVENT_VARIABLES), lang


def test_shipped_templates_fit_one_gsm7_sms_with_worst_case_values() -> None:
    assert check_templates(load_templates()) == []
    for lang in LANGUAGES:
        for event in EVENT_VARIABLES:
            text = load_templates().render(event, lang, WORST_CASE_VALUES)
            info = sms_info(text)
            assert (info.encoding, info.segments) == ("GSM-7", 1), (lang, event, text)


def test_check_report_passes_with_the_configured_commune_values() -> None:
    report, status = templates_check_report(
        values={"commune": "Mairie Golfe 3", "ussd": "*384*2#", "horaires": "lun-ven 7h30-16h30"}
    )
    assert status == 0, report
    assert "OK" in report


def test_commune_name_ussd_code_and_hours_are_not_hard_coded() -> None:
    for path in DEFAULT_TEMPLATES_DIR.glob("*.yaml"):
        body = "\n".join(l for l in path.read_text(encoding="utf-8").splitlines() if not l.lstrip().startswith("#"))
        assert "Golfe" not in body and "*384" not in body and "7h30" not in body, path.name
    text = load_templates().render(
        "disponible", "fr",
        {"commune": "Mairie de Bè", "ussd": "*111#", "svc": "Certificat de vie", "ref": "250 042 175",
         "horaires": "lun-sam 8h-12h"},
    )
    assert text == (
        "Mairie de Bè: Certificat de vie disponible. Ref 250 042 175. Retrait au guichet, "
        "lun-sam 8h-12h, avec une pièce d'identité."
    )


def test_payment_messages_warn_that_the_mairie_never_asks_for_a_secret_code() -> None:
    for lang in LANGUAGES:
        text = load_templates().template("attente_paiement", lang)
        assert "code secret" in text or "secret code" in text, lang


def test_missing_language_falls_back_to_french() -> None:
    templates = load_templates()
    values = {**WORST_CASE_VALUES}
    assert templates.render("recue", "kbp", values) == templates.render("recue", "fr", values)


def test_missing_event_in_a_language_falls_back_to_french(tmp_path: Path) -> None:
    write_lang(tmp_path, "fr", minimal_fr())
    write_lang(tmp_path, "en", {"help": "{commune}: help"})
    templates = load_templates(tmp_path)
    assert templates.render("help", "en", {"commune": "M", "ussd": "*1#"}) == "M: help"
    assert templates.render("stop_confirm", "en", {"commune": "M", "ussd": "*1#"}) == "M: stop_confirm"
    problems = check_templates(templates)
    assert {(p.lang, p.kind) for p in problems} == {("en", "missing_translation")}
    assert len(problems) == len(EVENT_VARIABLES) - 1


def test_unknown_event_raises_a_clear_error() -> None:
    with pytest.raises(UnknownEventError, match="unknown SMS event 'recu'.*recue"):
        load_templates().render("recu", "fr", WORST_CASE_VALUES)
    with pytest.raises(KeyError):
        load_templates().render("nope", "fr", {})


def test_missing_value_is_named_in_the_error() -> None:
    values = {k: v for k, v in WORST_CASE_VALUES.items() if k not in ("ref", "delai")}
    with pytest.raises(MissingValueError, match="needs values for: delai, ref"):
        load_templates().render("recue", "fr", values)


def test_staff_free_text_is_folded_to_gsm7_before_rendering() -> None:
    values = {**WORST_CASE_VALUES, "motif": "Pièce d’identité « périmée », reçu illisible"}
    text = load_templates().render("rejetee", "fr", values)
    assert 'Motif: Pièce d\'identité " périmée ", recu illisible. Infos' in text
    assert is_gsm7(text)


def test_staff_free_text_can_stay_unfolded_when_the_commune_chooses_ucs2() -> None:
    values = {**WORST_CASE_VALUES, "motif": "Fête"}
    text = load_templates().render("rejetee", "fr", values, fold_free_text=False)
    assert "Motif: Fête." in text
    assert sms_info(text).encoding == "UCS-2"


@pytest.mark.parametrize(
    ("raw", "prepared"),
    [
        ("", ""),
        ("  ", ""),
        ("Dossier complet", "Dossier complet."),
        ("Merci !", "Merci !"),
        ("A revoir;", "A revoir."),
        ("ligne 1\nligne  2", "ligne 1 ligne 2."),
        ("x" * 80, "x" * (FREE_TEXT_MAX_CHARS - 3) + "..."),
        ("y" * (FREE_TEXT_MAX_CHARS - 1), "y" * (FREE_TEXT_MAX_CHARS - 1) + "."),
    ],
)
def test_prepare_free_text_ends_with_punctuation_and_is_capped(raw: str, prepared: str) -> None:
    assert prepare_free_text(raw) == prepared
    assert len(prepare_free_text(raw)) <= FREE_TEXT_MAX_CHARS


def test_empty_note_leaves_no_double_space() -> None:
    values = {**WORST_CASE_VALUES, "note": ""}
    text = load_templates().render("annulee", "fr", values)
    assert text.endswith("annulée.") and "  " not in text


def test_check_reports_a_template_beyond_one_sms_and_one_leaving_gsm7(tmp_path: Path) -> None:
    fr = minimal_fr()
    fr["recue"] = "{commune}: " + "a" * 150 + " {ref}"
    fr["help"] = "{commune}: envoyez « AIDE »"
    write_lang(tmp_path, "fr", fr)
    problems = check_templates(load_templates(tmp_path))
    assert [(p.event, p.kind) for p in problems] == [("recue", "too_long"), ("help", "not_gsm7")]
    assert "«" in problems[1].detail
    report, status = templates_check_report(tmp_path)
    assert status == 1
    assert "fr/recue: too_long" in report and "fr/help: not_gsm7" in report


def test_loading_lists_every_bad_placeholder_and_unknown_event_at_once(tmp_path: Path) -> None:
    fr = minimal_fr()
    fr["recue"] = "{commune}: {svc} {montant}"  # montant is not a recue variable
    fr["help"] = "{commune}: {ussd!r}"
    fr["statut_reply"] = "{commune}: {ref:>20}"
    write_lang(tmp_path, "fr", {**fr, "recu": "typo"})
    with pytest.raises(TemplateError) as error:
        load_templates(tmp_path)
    problems = "\n".join(error.value.problems)
    assert len(error.value.problems) == 4
    assert "fr/recue: unknown variable {montant}" in problems
    assert "fr/help: placeholder {ussd} must be a plain {name}" in problems
    assert "fr/statut_reply: placeholder {ref} must be a plain {name}" in problems
    assert "fr: unknown event 'recu'" in problems


def test_french_is_required_as_the_fallback(tmp_path: Path) -> None:
    write_lang(tmp_path, "en", {"help": "{commune}"})
    with pytest.raises(TemplateError, match="no fr.yaml"):
        load_templates(tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    write_lang(other, "fr", {"help": "{commune}"})
    with pytest.raises(TemplateError, match="fr \\(the fallback\\) lacks events: a_completer"):
        load_templates(other)


def test_non_string_template_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "fr.yaml").write_text("language: fr\ntemplates:\n  help: 12\n", encoding="utf-8")
    with pytest.raises(TemplateError, match="fr/help: the template must be a string, got int"):
        load_templates(tmp_path)


def test_unreviewed_language_is_flagged_in_the_report() -> None:
    report, _ = templates_check_report()
    assert "relire" in report and "ee" in report


def test_catalogue_longest_names_are_used_as_worst_case(tmp_path: Path) -> None:
    catalogue = tmp_path / "catalogue.yaml"
    catalogue.write_text(
        "services:\n"
        "  - names: {fr: 'Court', en: 'A much longer English service name'}\n"
        "  - names: {fr: 'Autre'}\n"
        "    referral: {organisme: 'OTR'}\n",
        encoding="utf-8",
    )
    from sms.templates import catalogue_worst_case_values

    assert catalogue_worst_case_values(catalogue) == {
        "svc": "A much longer English service name", "organisme": "OTR"}


def test_a_catalogue_name_too_long_for_one_sms_fails_the_check(tmp_path: Path) -> None:
    catalogue = tmp_path / "catalogue.yaml"
    catalogue.write_text("services:\n  - names: {fr: '" + "N" * 80 + "'}\n", encoding="utf-8")
    report, status = templates_check_report(catalogue_path=catalogue)
    assert status == 1 and "too_long" in report


def test_the_communes_catalogue_fits_every_template() -> None:
    catalogue = Path(__file__).resolve().parents[2] / "menus" / "golfe3" / "catalogue.yaml"
    report, status = templates_check_report(catalogue_path=catalogue)
    assert status == 0, report


def test_referral_body_typed_by_staff_is_folded_and_capped_without_extra_punctuation() -> None:
    values = {**WORST_CASE_VALUES, "organisme": "Tribunal de première instance de Lomé « chambre civile » " + "x" * 40}
    text = load_templates().render("hors_competence", "fr", values)
    assert is_gsm7(text) and sms_info(text).segments == 1
    assert '"' in text and text.endswith("...")
    assert 55 <= len(text.split("Adressez-vous à: ")[1]) <= FREE_TEXT_MAX_CHARS
    plain = load_templates().render("hors_competence", "fr", {**WORST_CASE_VALUES, "organisme": "OTR."})
    assert plain.endswith("Adressez-vous à: OTR")
    ewe = load_templates().render("hors_competence", "ee", {**WORST_CASE_VALUES, "organisme": "OTR."})
    assert ewe.endswith("Yi OTR gbo.")
