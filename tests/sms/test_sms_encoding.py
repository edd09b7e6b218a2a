"""Encoder tests against 3GPP TS 23.038/23.040 figures and published segment examples."""

from __future__ import annotations

import pytest

from sms.encoding import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    fold_to_gsm7,
    is_gsm7,
    non_gsm7_chars,
    septet_count,
    sms_info,
    split_segments,
)


def test_default_alphabet_has_127_characters_plus_escape_and_extension_has_10() -> None:
    assert len(GSM7_BASIC) == 127
    assert len(GSM7_EXTENSION) == 10
    assert not GSM7_BASIC & GSM7_EXTENSION


@pytest.mark.parametrize("char", list("éèàùìòÉÄÖÜäöüñÑÅåÆæßØø@£$¥¤§¡¿ΔΦΓΛΩΠΨΣΘΞÇ_\n\r"))
def test_characters_of_the_default_alphabet_are_gsm7_and_cost_one_septet(char: str) -> None:
    assert is_gsm7(char)
    assert septet_count(char) == 1


@pytest.mark.parametrize("char", list("€^{}[]~|\\\f"))
def test_extension_characters_cost_two_septets(char: str) -> None:
    assert is_gsm7(char)
    assert septet_count(char) == 2


@pytest.mark.parametrize("char", list("çêâîôûëïÿœÀÂÈÊËÎÏÔÙÛŒ«»’“”`") + list("ƉƑƔŊƆƐƲɖƒɣŋɔɛʋ") + ["😀", "\t"])
def test_french_and_ewe_characters_outside_gsm7_force_ucs2(char: str) -> None:
    assert not is_gsm7(char)
    assert sms_info("Bonjour " + char).encoding == "UCS-2"
    with pytest.raises(ValueError, match="not GSM-7"):
        septet_count("a" + char)


def test_non_gsm7_chars_lists_each_offender_once_in_order() -> None:
    assert non_gsm7_chars("Fête à Lomé, fête ç") == ["ê", "ç"]


@pytest.mark.parametrize(
    ("length", "segments", "limit"),
    [(0, 1, 160), (1, 1, 160), (160, 1, 160), (161, 2, 153), (306, 2, 153), (307, 3, 153), (459, 3, 153), (460, 4, 153)],
)
def test_gsm7_segments_are_160_then_153_per_part(length: int, segments: int, limit: int) -> None:
    info = sms_info("a" * length)
    assert (info.encoding, info.units, info.segments, info.per_segment_limit) == ("GSM-7", length, segments, limit)


@pytest.mark.parametrize(
    ("length", "segments", "limit"),
    [(1, 1, 70), (70, 1, 70), (71, 2, 67), (134, 2, 67), (135, 3, 67), (201, 3, 67), (202, 4, 67)],
)
def test_ucs2_segments_are_70_then_67_per_part(length: int, segments: int, limit: int) -> None:
    text = "ê" * length
    info = sms_info(text)
    assert (info.encoding, info.units, info.segments, info.per_segment_limit) == ("UCS-2", length, segments, limit)


def test_extension_characters_count_two_towards_the_single_sms_limit() -> None:
    assert sms_info("a" * 158 + "€").segments == 1  # 160 septets
    assert sms_info("a" * 159 + "€").units == 161
    assert sms_info("a" * 159 + "€").segments == 2
    assert sms_info("{" * 80).segments == 1
    assert sms_info("{" * 81).segments == 2


def test_escape_pair_at_segment_boundary_is_not_split_across_parts() -> None:
    # 152 + 2 + 152 = 306 septets: naive arithmetic says 2 parts of 153, but the escape pair
    # would straddle septets 153/154, so it moves to part 2, which then overflows into part 3.
    text = "a" * 152 + "€" + "a" * 152
    assert septet_count(text) == 306
    info = sms_info(text)
    assert info.segments == 3
    parts = split_segments(text)
    assert parts[0] == "a" * 152
    assert parts[1].startswith("€")
    assert "".join(parts) == text
    assert all(septet_count(p) <= 153 for p in parts)


def test_escape_pair_that_fits_exactly_stays_in_the_first_part() -> None:
    text = "a" * 151 + "€" + "a" * 153
    assert [septet_count(p) for p in split_segments(text)] == [153, 153]


def test_emoji_counts_two_utf16_units_and_is_not_split_across_parts() -> None:
    assert sms_info("😀").units == 2
    assert sms_info("a" * 68 + "😀").segments == 1  # 70 units
    assert sms_info("a" * 69 + "😀").segments == 2
    text = "a" * 66 + "😀" + "a" * 60  # the pair would straddle units 67/68
    parts = split_segments(text)
    assert parts[0] == "a" * 66
    assert parts[1].startswith("😀")


def test_accented_french_in_gsm7_stays_in_one_sms() -> None:
    text = "Mairie Golfe 3: demande enregistrée. Délai indicatif 7 jours. Retrait à l'hôtel"
    assert not is_gsm7(text)  # ô
    folded = fold_to_gsm7(text)
    assert folded.endswith("Retrait à l'hotel")
    assert "enregistrée" in folded and "Délai" in folded
    assert sms_info(folded).encoding == "GSM-7"


def test_one_circumflex_turns_a_160_char_message_into_three_ucs2_parts() -> None:
    text = "e" * 159 + "ê"
    assert sms_info(text[:-1] + "é").segments == 1
    info = sms_info(text)
    assert (info.encoding, info.segments) == ("UCS-2", 3)


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("fête", "fete"),
        ("château", "chateau"),
        ("île", "ile"),
        ("hôtel", "hotel"),
        ("sûr", "sur"),
        ("reçu", "recu"),
        ("Ça", "Ça"),
        ("cœur", "coeur"),
        ("Œuvre", "OEuvre"),
        ("l’acte", "l'acte"),
        ("« urgent »", '" urgent "'),
        ("“oui”", '"oui"'),
        ("Noël naïf", "Noel naif"),
        ("ÊTRE À L'ÎLE", "ETRE A L'ILE"),
        ("Ɖ Ƒ Ɣ Ŋ Ɔ Ɛ Ʋ", "D F G N O E V"),
        ("ɖ ƒ ɣ ŋ ɔ ɛ ʋ", "d f g n o e v"),
        ("Ŋdi", "Ndi"),
        ("ɔ̃", "o"),
        ("Mawuli ɖe", "Mawuli de"),
        ("Prix\u00a0: 500\u202fFCFA", "Prix : 500 FCFA"),
        ("a\u200bb", "ab"),
        ("9h–12h — fermé…", "9h-12h - fermé..."),
        ("merci 😀", "merci ?"),
        ("漢", "?"),
        ("€ 50 {x}", "€ 50 {x}"),
        ("déjà vu, où, É", "déjà vu, où, É"),
    ],
)
def test_fold_to_gsm7_maps_to_closest_letters(raw: str, folded: str) -> None:
    assert fold_to_gsm7(raw) == folded
    assert is_gsm7(fold_to_gsm7(raw))


def test_fold_keeps_gsm7_text_unchanged() -> None:
    text = "".join(sorted(GSM7_BASIC | GSM7_EXTENSION))
    assert fold_to_gsm7(text) == text


def test_decomposed_accents_are_recomposed_before_checking() -> None:
    assert fold_to_gsm7("e\u0301te\u0302") == "éte"
