"""Parsing of SMS commands, table-driven."""

from __future__ import annotations

import pytest

from sms.commands import CommandKind, SmsCommand, normalise, parse_command

S, STOP, START, HELP, UNKNOWN = (CommandKind.STATUS, CommandKind.STOP, CommandKind.START,
                                 CommandKind.HELP, CommandKind.UNKNOWN)

CASES = [
    # label, text, expected
    ("statut with grouped ref", "STATUT 250 042 175", SmsCommand(S, "250042175", "fr")),
    ("status english", "status 250042175", SmsCommand(S, "250042175", "en")),
    ("lower case and extra spaces", "  statut    250  042 175  ", SmsCommand(S, "250042175", "fr")),
    ("colon and dashes", "Statut: 250-042-175.", SmsCommand(S, "250042175", "fr")),
    ("glued to the digits", "STATUT250042175", SmsCommand(S, "250042175", "fr")),
    ("accented capital", "STÂTUT 250 042 175", SmsCommand(S, "250042175", "fr")),
    ("filler words", "Statut ref n° 250 042 175 merci", SmsCommand(S, "250042175", "fr")),
    ("newline", "STATUT\n250 042 175", SmsCommand(S, "250042175", "fr")),
    ("statut without ref", "STATUT", SmsCommand(S, None, "fr")),
    ("statut with letters only", "statut abc", SmsCommand(S, None, "fr")),
    ("wrong length kept for the app to refuse", "STATUT 12", SmsCommand(S, "12", "fr")),
    ("stop", "STOP", SmsCommand(STOP)),
    ("stop lower with punctuation", " stop! ", SmsCommand(STOP)),
    ("stop with trailing words honoured", "Stop svp", SmsCommand(STOP)),
    ("arret", "ARRET", SmsCommand(STOP, language="fr")),
    ("arrêt accented", "Arrêt", SmsCommand(STOP, language="fr")),
    ("ARRÊT capital accented", "ARRÊT.", SmsCommand(STOP, language="fr")),
    ("arrêter", "arrêter", SmsCommand(STOP, language="fr")),
    ("decomposed accent", "arre\u0302t", SmsCommand(STOP, language="fr")),
    ("start", "start", SmsCommand(START)),
    ("start punctuation", "START !!", SmsCommand(START)),
    ("aide", "Aide", SmsCommand(HELP, language="fr")),
    ("aide question", "aide ?", SmsCommand(HELP, language="fr")),
    ("help", "HELP", SmsCommand(HELP, language="en")),
    ("empty", "", SmsCommand(UNKNOWN)),
    ("punctuation only", "?!", SmsCommand(UNKNOWN)),
    ("digits only", "250 042 175", SmsCommand(UNKNOWN)),
    ("free text", "Bonjour, ma demande avance ?", SmsCommand(UNKNOWN)),
    ("keyword not first", "je veux STOP", SmsCommand(UNKNOWN)),
    ("keyword inside a word", "STOPPER", SmsCommand(UNKNOWN)),
    ("statutaire is not statut", "statutaire 250", SmsCommand(UNKNOWN)),
    ("emoji", "😀", SmsCommand(UNKNOWN)),
]


@pytest.mark.parametrize(("label", "text", "expected"), CASES, ids=[c[0] for c in CASES])
def test_parse_command(label: str, text: str, expected: SmsCommand) -> None:
    assert parse_command(text) == expected


def test_full_width_digits_count_and_other_scripts_digits_are_ignored() -> None:
    assert parse_command("STATUT ２５０ 042 175").reference == "250042175"
    assert parse_command("STATUT ٢250 042 175").reference == "250042175"


def test_normalise_strips_accents_case_and_punctuation() -> None:
    assert normalise(" Arrêt,  s'il-vous-plaît! ") == "ARRET S IL VOUS PLAIT"
