"""Whole USSD journeys, hop by hop through the HTTP endpoint, for every service of the
catalogue in French, English and Ewe: screens, stored rows and the queued SMS."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from sms.encoding import is_gsm7
from tests.ussd.phone import Phone
from ussd_gateway.models import OutboundSms, Resident, ServiceRequest, StatusChange
from ussd_gateway.service_requests import today_in_commune

REFERENCE = re.compile(r"(\d{3} \d{3} \d{3})")
LANGUAGE_KEYS = {"fr": "1", "en": "2", "ee": "3"}


def day(offset: int) -> str:
    return (today_in_commune() + dt.timedelta(days=offset)).strftime("%d%m%Y")


# (service, keys from the main menu to the service, answers to its questions)
JOURNEYS = [
    ("EC01", ["1", "1", "1"], ["1", "2", "Kossi Mensah", day(-9000)]),
    ("EC02", ["1", "1", "2"], [day(-10), "1", "2", "3"]),
    ("EC03", ["1", "1", "3"], ["Ama Akakpo", day(-4000), "1"]),
    ("EC04", ["1", "1", "4"], ["2", "Yao Agbeko", day(-30)]),
    ("EC05", ["1", "1", "5"], [day(60), "1"]),
    ("AU01", ["1", "2", "1"], ["3", "1"]),
    ("AU02", ["1", "2", "2"], ["4", "2"]),
    ("AT01", ["1", "2", "3"], ["1", "12", "1"]),
    ("AT02", ["1", "2", "4"], [day(-25000), "1"]),
    ("UR01", ["1", "3", "1"], ["1", "PC-2026-0042"]),
    ("UR02", ["1", "3", "2"], ["3", "5", "2"]),
    ("FI01", ["1", "3", "3"], ["1", "2"]),
    ("SI01", ["3", "1"], ["4", "Pres de l'ecole publique", "2"]),
    ("SI02", ["3", "2"], ["5", "Marche de Kelegouvi", "1"]),
    ("SI03", ["3", "3"], ["6", "Carrefour Doumassesse", "2"]),
]


def assert_screen_ok(screen, limit: int = 160) -> None:  # type: ignore[no-untyped-def]
    assert screen.status == 200, screen.body
    assert screen.is_con or screen.is_end, screen.body
    assert len(screen.text) <= limit, (len(screen.text), screen.body)
    assert is_gsm7(screen.text), screen.body


@pytest.mark.parametrize("language", ["fr", "en", "ee"])
@pytest.mark.parametrize(("code", "path", "answers"), JOURNEYS, ids=[j[0] for j in JOURNEYS])
def test_request_journey_stores_the_request_and_queues_one_confirmation_sms(
    client, callback_prefix, runtime, language, code, path, answers  # type: ignore[no-untyped-def]
) -> None:
    phone = Phone(client, callback_prefix, number="+22891234567")
    phone.onboard(LANGUAGE_KEYS[language])
    for key in path + answers:
        screen = phone.press(key)
        assert_screen_ok(screen)
        assert screen.is_con, f"{code}/{language}: ended early after {key!r}: {screen.body}"
    # the confirmation summary, then the reference
    assert screen.text.rstrip().splitlines()[-3].startswith("1 ")
    final = phone.press("1")
    assert_screen_ok(final)
    assert final.is_end, final.body
    shown = REFERENCE.search(final.text)
    assert shown, final.body
    reference = shown.group(1).replace(" ", "")

    with runtime.sessions() as session:
        request = session.scalars(select(ServiceRequest)).one()
        assert request.reference == reference
        assert request.service_code == code
        assert request.channel == "ussd"
        assert request.status == "recue"
        assert request.language == language
        assert len(request.answers) == len(answers)
        assert all(a["label"] and a["display"] for a in request.answers)
        assert request.expected_date == today_in_commune() + dt.timedelta(
            days=request.service.delay_days
        )
        history = session.scalars(select(StatusChange)).all()
        assert [(h.from_status, h.to_status) for h in history] == [(None, "recue")]
        sms = session.scalars(select(OutboundSms)).one()
        assert sms.to_phone == "+22891234567"
        assert sms.event == "recue" and sms.immediate and sms.language == language
        assert shown.group(1) in sms.body
        assert sms.segments == 1 and sms.encoding == "GSM-7"
        resident = session.scalars(select(Resident)).one()
        assert resident.language == language and resident.consent_version


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (["1", "3", "1", "2"], "Portail national"),  # UR01: how to file a building permit
        (["1", "3", "3", "4"], "OTR"),  # FI01: taxe foncière
        (["3", "2", "1", "Rond-point", "4"], "DAGL"),  # SI02: full transfer point
        (["1", "1", "2", day(-60)], "Tribunal"),  # EC02: more than 45 days after birth
    ],
)
def test_matters_outside_the_commune_say_where_to_go_and_store_nothing(
    client, callback_prefix, runtime, path, expected  # type: ignore[no-untyped-def]
) -> None:
    phone = Phone(client, callback_prefix)
    phone.onboard()
    screen = phone.play(*path)
    assert_screen_ok(screen)
    assert screen.is_end and expected in screen.text, screen.body
    with runtime.sessions() as session:
        assert session.scalars(select(ServiceRequest)).all() == []
        assert session.scalars(select(OutboundSms)).all() == []
