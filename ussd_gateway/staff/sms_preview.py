"""What the resident's SMS will say for each status an agent may choose.

For every allowed target status the page gets the SMS template already filled with the
request's values, with one marker where the agent's public note goes. The browser script
(``static/sms_counter.js``) folds the note to GSM-7 the way ``sms.templates.prepare_free_text``
does, puts it in place of the marker and shows the length and segment count as the agent types.
"""
from __future__ import annotations

import string
from collections.abc import Iterable
from dataclasses import dataclass

from sms.encoding import sms_info
from sms.templates import FREE_TEXT_VARIABLES, TemplateError
from ussd_gateway.notifications import SmsComposer, request_values
from ussd_gateway.models import Service, ServiceRequest

#: stands for the folded public note inside a preview template (a private-use character)
NOTE_MARKER = "\ue000"


@dataclass(frozen=True)
class SmsPreview:
    status: str
    template: str  # the SMS with NOTE_MARKER where the note goes ("" if no SMS)
    note_variable: str | None  # "motif", "note" or None when the note is not in the SMS
    #: the text a free-text variable gets when the note is empty (change_status gives "-")
    empty_note: str


def preview_templates(
    composer: SmsComposer,
    request: ServiceRequest,
    service: Service,
    language: str,
    targets: Iterable[str],
) -> list[SmsPreview]:
    values = {
        "commune": composer.commune,
        "ussd": composer.ussd_code,
        "horaires": composer.opening_hours,
        **request_values(request, service),
        "ref_origine": "-",
    }
    previews = []
    for status in targets:
        try:
            raw = composer.templates.template(status, language)
        except TemplateError:
            previews.append(SmsPreview(status, "", None, ""))
            continue
        names = {n for _, n, _, _ in string.Formatter().parse(raw) if n is not None}
        free = sorted(names & FREE_TEXT_VARIABLES)
        filled = {n: (NOTE_MARKER if n in FREE_TEXT_VARIABLES else values.get(n, "-")) for n in names}
        text = " ".join(raw.format_map(filled).split())
        previews.append(
            SmsPreview(
                status,
                text,
                free[0] if free else None,
                "-" if free and free[0] == "motif" else "",
            )
        )
    return previews


def describe(text: str) -> str:
    """"142 caractères, 1 SMS (GSM-7)" for a text as sent."""
    info = sms_info(text)
    unit = "caractères" if info.encoding == "GSM-7" else "caractères UCS-2"
    return f"{info.units} {unit}, {info.segments} SMS ({info.encoding})"

