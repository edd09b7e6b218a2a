"""Screen layout within the USSD budget: GSM-7 only, at most ``limit`` septets per screen.

Long menus are cut into pages between two options (never inside one); every page but the last
ends with the "98 next" line and every page after the first (or every page of a screen that
allows going back) with the "0 back" line. A line that cannot fit even alone is shortened with
``..`` — the whole-graph check reports that for static screens, so on the phone it only ever
happens to data coming from handlers (a resident's own long answer, a long service name).
"""
from __future__ import annotations

import re
from typing import Mapping, Sequence

from sms.encoding import fold_to_gsm7, is_gsm7, septet_count

_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
ELLIPSIS = ".."


def gsm_length(text: str) -> int:
    """Septets of a GSM-7 text (callers fold first)."""
    return septet_count(text)


def to_gsm7(text: str) -> str:
    """``text`` unchanged when already GSM-7, else folded (ê -> e, emoji -> ?)."""
    return text if is_gsm7(text) else fold_to_gsm7(text)


def has_placeholders(text: str) -> bool:
    return "{" in text and _PLACEHOLDER.search(text) is not None


def placeholders(text: str) -> list[str]:
    return _PLACEHOLDER.findall(text)


def fill(template: str, variables: Mapping[str, str]) -> str:
    """Replace ``{name}`` by ``variables[name]`` (GSM-7 folded); unknown names become empty.

    Deliberately not ``str.format``: values from residents or handlers are never re-templated
    and a stray brace in a value cannot raise.
    """
    if "{" not in template:
        return template
    return _PLACEHOLDER.sub(lambda m: to_gsm7(str(variables.get(m.group(1), ""))), template)


def fill_lines(template: str, variables: Mapping[str, str]) -> list[str]:
    """The lines of a filled template; a line that only held empty placeholders disappears."""
    lines = []
    for line in template.split("\n"):
        if "{" in line:
            filled = fill(line, variables)
            if not filled.strip():
                continue
            lines.append(filled)
        else:
            lines.append(line)
    return lines


def shorten(text: str, budget: int) -> str:
    """``text`` cut to at most ``budget`` septets, marked with ``..`` when cut."""
    if budget <= 0:
        return ""
    if gsm_length(text) <= budget:
        return text
    if budget <= len(ELLIPSIS):
        return ELLIPSIS[:budget]
    out: list[str] = []
    used = 0
    room = budget - len(ELLIPSIS)
    for char in text:
        cost = gsm_length(char)
        if used + cost > room:
            break
        out.append(char)
        used += cost
    return "".join(out).rstrip() + ELLIPSIS


def fit_lines(lines: Sequence[str], limit: int) -> str:
    """Join ``lines``; when too long, cut every line longer than a common cap (the largest cap
    that fits), so several long lines share the shortening instead of one vanishing."""
    text = "\n".join(lines)
    if gsm_length(text) <= limit:
        return text
    lengths = [gsm_length(line) for line in lines]
    room = limit - (len(lines) - 1)
    if room <= 0:
        return shorten(text, limit)
    low, high = 0, max(lengths)
    while low < high:  # largest cap with sum(min(length, cap)) <= room
        cap = (low + high + 1) // 2
        if sum(min(length, cap) for length in lengths) <= room:
            low = cap
        else:
            high = cap - 1
    if low < len(ELLIPSIS) + 1:
        return shorten(text, limit)
    return "\n".join(line if n <= low else shorten(line, low) for line, n in zip(lines, lengths))


def paginate(
    header: str,
    lines: Sequence[str],
    *,
    limit: int,
    more_line: str,
    back_line: str,
    back_on_first: bool,
) -> tuple[list[str], bool]:
    """Pages of a menu-like screen and whether anything had to be shortened.

    ``header`` opens the first page only; ``lines`` (the options) are never split.
    """
    lengths = [gsm_length(line) for line in lines]
    header_len = gsm_length(header) if header else 0
    more_len = gsm_length(more_line)
    back_len = gsm_length(back_line)
    pages: list[str] = []
    shortened = False
    back_first = back_len + 1 if back_on_first else 0
    if header and header_len + 1 + sum(lengths) + len(lines) - 1 + back_first > limit:
        # Paging needed, or the header alone is too long: the header must leave room for the
        # longest option and both navigation lines, so options are never the ones shortened.
        budget = limit - (max(lengths, default=0) + 1) - (more_len + 1) - back_first
        if header_len > budget:
            shortened = True
            header = fit_lines(header.split("\n"), max(budget, 0)) if budget > 0 else ""
            header_len = gsm_length(header) if header else 0
    i = 0
    n = len(lines)
    while True:
        first = not pages
        head = header if first and header else ""
        with_back = back_on_first or not first
        base = (header_len + 1 if head else 0) + (back_len + 1 if with_back else 0)

        # Everything left fits on this page (no "98" line needed)?
        rest = sum(lengths[i:]) + (n - i)
        if base + rest - 1 <= limit:
            body = ([head] if head else []) + list(lines[i:]) + ([back_line] if with_back else [])
            text = "\n".join(body)
            if gsm_length(text) > limit:  # can only happen with no lines at all
                shortened = True
                text = fit_lines(body, limit)
            pages.append(text)
            return pages, shortened

        used = base + more_len  # ends with "98" line (+ back line counted in base)
        j = i
        while j < n and used + lengths[j] + 1 <= limit:
            used += lengths[j] + 1
            j += 1
        chunk = list(lines[i:j])
        if j == i:
            # Not even one option fits on a page: shorten it (reported by the check).
            shortened = True
            chunk = [shorten(lines[i], limit - used - 1)]
            j = i + 1
            if j == n:  # it was the last line after all: no "98"
                body = ([head] if head else []) + chunk + ([back_line] if with_back else [])
                pages.append(fit_lines(body, limit))
                return pages, shortened
        body = ([head] if head else []) + chunk + [more_line] + ([back_line] if with_back else [])
        pages.append("\n".join(body))
        i = j
