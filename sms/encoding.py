"""SMS text encoding: GSM-7 / UCS-2 detection, septet and segment counts, folding to GSM-7.

Exact tables of 3GPP TS 23.038 §6.2.1 (GSM 7-bit default alphabet and its extension table);
segment sizes of TS 23.040 (160 septets or 70 UCS-2 units for one SMS; 153 / 67 per part when
a User Data Header for concatenation takes 6 octets).

Deliberate deviation (see DOMAIN.md §4): 0x09 is capital ``Ç`` in the standard, but many
handsets and gateways render it as ``ç``; we therefore treat the lower-case ``ç`` as *not*
GSM-7 (so it is folded to ``c``) and keep ``Ç`` as the standard says.

Pure module: no I/O, no third-party imports.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "GSM7_BASIC",
    "GSM7_EXTENSION",
    "GSM7_SINGLE_SEGMENT",
    "GSM7_MULTI_SEGMENT",
    "UCS2_SINGLE_SEGMENT",
    "UCS2_MULTI_SEGMENT",
    "SmsInfo",
    "is_gsm7",
    "non_gsm7_chars",
    "septet_count",
    "ucs2_unit_count",
    "sms_info",
    "split_segments",
    "fold_to_gsm7",
]

# 3GPP TS 23.038 §6.2.1, GSM 7-bit default alphabet, code points 0x00..0x7F in order.
# 0x1B is the escape to the extension table and is not a character (left out of the set).
_BASIC_TABLE = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
assert len(_BASIC_TABLE) == 128

#: Characters of the default alphabet (1 septet each).
GSM7_BASIC: frozenset[str] = frozenset(_BASIC_TABLE) - {"\x1b"}

#: Characters of the default extension table (ESC + code: 2 septets each).
#: 0x0A is FORM FEED; 0x0D (CR2) and 0x1B (SS2) are control codes, not characters.
GSM7_EXTENSION: frozenset[str] = frozenset("\f^{}\\[~]|€")

GSM7_SINGLE_SEGMENT = 160
GSM7_MULTI_SEGMENT = 153
UCS2_SINGLE_SEGMENT = 70
UCS2_MULTI_SEGMENT = 67

Encoding = Literal["GSM-7", "UCS-2"]


@dataclass(frozen=True, slots=True)
class SmsInfo:
    """How a text travels as SMS.

    ``units`` are septets for GSM-7 (extension characters count 2) and UTF-16 code units for
    UCS-2 (a character outside the BMP such as an emoji counts 2). ``per_segment_limit`` is the
    capacity of each part: 160/70 when the text fits one SMS, 153/67 when it is concatenated.
    """

    encoding: Encoding
    units: int
    segments: int
    per_segment_limit: int

    @property
    def single_segment_limit(self) -> int:
        return GSM7_SINGLE_SEGMENT if self.encoding == "GSM-7" else UCS2_SINGLE_SEGMENT


def _char_septets(char: str) -> int | None:
    if char in GSM7_BASIC:
        return 1
    if char in GSM7_EXTENSION:
        return 2
    return None


def is_gsm7(text: str) -> bool:
    """True when every character of ``text`` is in the GSM-7 default or extension table."""
    return all(char in GSM7_BASIC or char in GSM7_EXTENSION for char in text)


def non_gsm7_chars(text: str) -> list[str]:
    """The distinct characters of ``text`` that force UCS-2, in order of first appearance."""
    seen: dict[str, None] = {}
    for char in text:
        if char not in GSM7_BASIC and char not in GSM7_EXTENSION:
            seen.setdefault(char, None)
    return list(seen)


def septet_count(text: str) -> int:
    """Number of septets ``text`` takes in GSM-7 (extension characters count 2).

    Raises ``ValueError`` naming the offending characters when ``text`` is not GSM-7.
    """
    total = 0
    for char in text:
        cost = _char_septets(char)
        if cost is None:
            bad = ", ".join(repr(c) for c in non_gsm7_chars(text))
            raise ValueError(f"not GSM-7: {bad}")
        total += cost
    return total


def ucs2_unit_count(text: str) -> int:
    """Number of UTF-16 code units (what handsets send as "UCS-2"); emoji count 2."""
    return len(text.encode("utf-16-le")) // 2


def _units(text: str) -> tuple[Encoding, list[int]]:
    """Encoding of ``text`` and the cost of each indivisible piece, in order.

    In GSM-7 a piece is one character (an escape pair is never split across parts). In UCS-2
    a piece is one code point, costing 2 when it is a surrogate pair (never split either).
    """
    if is_gsm7(text):
        return "GSM-7", [1 if char in GSM7_BASIC else 2 for char in text]
    return "UCS-2", [2 if ord(char) > 0xFFFF else 1 for char in text]


def _pack(costs: list[int], limit: int) -> list[int]:
    """Greedy packing of pieces into parts of ``limit`` units; returns the piece count per part."""
    parts: list[int] = []
    used = count = 0
    for cost in costs:
        if used + cost > limit:
            parts.append(count)
            used = count = 0
        used += cost
        count += 1
    parts.append(count)
    return parts


def _layout(text: str) -> tuple[Encoding, int, list[int], int]:
    encoding, costs = _units(text)
    total = sum(costs)
    single, multi = (
        (GSM7_SINGLE_SEGMENT, GSM7_MULTI_SEGMENT)
        if encoding == "GSM-7"
        else (UCS2_SINGLE_SEGMENT, UCS2_MULTI_SEGMENT)
    )
    if total <= single:
        return encoding, total, [len(costs)], single
    return encoding, total, _pack(costs, multi), multi


def sms_info(text: str) -> SmsInfo:
    """Encoding, units and segment count of ``text`` as a handset would send it.

    An empty text counts as one (empty) segment. Concatenated parts never split an escape
    pair (GSM-7) or a surrogate pair (UCS-2), so a part may hold one unit less than its limit.
    """
    encoding, total, parts, limit = _layout(text)
    return SmsInfo(encoding=encoding, units=total, segments=len(parts), per_segment_limit=limit)


def split_segments(text: str) -> list[str]:
    """The text of each part, as :func:`sms_info` counts them."""
    _, _, parts, _ = _layout(text)
    out: list[str] = []
    start = 0
    for count in parts:
        out.append(text[start : start + count])
        start += count
    return out


# Folding -----------------------------------------------------------------------------------

#: Explicit replacements for characters outside GSM-7 (checked before the generic accent strip).
_FOLDS: dict[str, str] = {
    "ç": "c",
    "œ": "oe",
    "Œ": "OE",
    "’": "'",
    "‘": "'",
    "‚": "'",
    "‛": "'",
    "′": "'",
    "´": "'",
    "`": "'",
    "«": '"',
    "»": '"',
    "“": '"',
    "”": '"',
    "„": '"',
    "″": '"',
    "‹": '"',
    "›": '"',
    "–": "-",
    "—": "-",
    "‐": "-",
    "‑": "-",
    "−": "-",
    "…": "...",
    "•": "-",
    "·": ".",
    "°": "o",
    "\t": " ",
    # Ewe letters (DOMAIN.md §1) to the closest GSM-7 Latin letter.
    "Ɖ": "D",
    "ɖ": "d",
    "Ƒ": "F",
    "ƒ": "f",
    "Ɣ": "G",
    "ɣ": "g",
    "Ŋ": "N",
    "ŋ": "n",
    "Ɔ": "O",
    "ɔ": "o",
    "Ɛ": "E",
    "ɛ": "e",
    "Ʋ": "V",
    "ʋ": "v",
}


def _fold_char(char: str) -> str:
    if char in _FOLDS:
        return _FOLDS[char]
    if char in GSM7_BASIC or char in GSM7_EXTENSION:
        return char
    category = unicodedata.category(char)
    if category.startswith("Z"):  # no-break space, narrow no-break space, line separator...
        return " "
    if category in ("Mn", "Me", "Cf"):  # lone combining mark, zero-width and format characters
        return ""
    # Strip diacritics: ê -> e, À -> A, ɔ̃ handled above since NFD keeps ɔ + combining tilde.
    decomposed = unicodedata.normalize("NFD", char)
    base = "".join(c for c in decomposed if not unicodedata.combining(c))
    if base and base != char:
        folded = "".join(_fold_char(c) for c in base)
        if is_gsm7(folded) and "?" not in folded:
            return folded
    return "?"


def fold_to_gsm7(text: str) -> str:
    """Rewrite ``text`` so that it is GSM-7, keeping it as readable as possible.

    Characters already in GSM-7 are kept (é è à ù É ... stay). Otherwise, in order: explicit
    replacements (``ç``→``c``, ``œ``→``oe``, ``’``→``'``, ``« »``→``"``, dashes→``-``,
    ``…``→``...``, Ewe ``Ɖ Ƒ Ɣ Ŋ Ɔ Ɛ Ʋ`` and lower-case forms → ``D F G N O E V``); any space
    separator (no-break spaces, common before ``:`` in French) → a plain space; invisible
    format characters and lone combining marks (Ewe tone marks) are dropped; letters with
    diacritics lose them (``ê``→``e``, ``Â``→``A``); anything still unmappable (emoji, other
    scripts) becomes ``?``. The result always satisfies :func:`is_gsm7`.
    """
    composed = unicodedata.normalize("NFC", text)
    return "".join(_fold_char(char) for char in composed)
