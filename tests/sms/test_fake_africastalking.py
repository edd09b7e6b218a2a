"""The fake Africa's Talking server itself: protocol shape, recording, scripting, concurrency."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import pytest
import requests
from tests.fake_africastalking import (
    Behaviour,
    FakeAfricasTalking,
    delivery_report_form,
    incoming_sms_form,
    optout_form,
)


@pytest.fixture
def fake() -> Iterator[FakeAfricasTalking]:
    with FakeAfricasTalking() as server:
        yield server


def post(fake: FakeAfricasTalking, **fields: str) -> requests.Response:
    form = {"username": "sandbox", "to": "+22890123456", "message": "hi", "bulkSMSMode": "1", **fields}
    return requests.post(
        fake.url + "/version1/messaging", data=form,
        headers={"apiKey": fake.api_key, "Accept": "application/json"}, timeout=5,
    )


def test_reply_is_json_shaped_like_africas_talking(fake: FakeAfricasTalking) -> None:
    response = post(fake, **{"from": "GOLFE3", "enqueue": "1"})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    data = response.json()["SMSMessageData"]
    assert data["Message"] == "Sent to 1/1 Total Cost: XOF 25.0000"
    [recipient] = data["Recipients"]
    assert recipient["statusCode"] == 101 and recipient["status"] == "Success"
    assert recipient["number"] == "+22890123456" and recipient["cost"] == "XOF 25.0000"
    assert recipient["messageId"].startswith("ATXid_")
    [request] = fake.requests
    assert (request.sender, request.enqueue, request.bulk_sms_mode) == ("GOLFE3", "1", "1")
    assert request.message_id == recipient["messageId"]


def test_comma_separated_recipients_each_get_a_status(fake: FakeAfricasTalking) -> None:
    data = post(fake, to="+22890123456,+33612345678").json()["SMSMessageData"]
    assert [r["number"] for r in data["Recipients"]] == ["+22890123456", "+33612345678"]
    assert fake.requests[0].numbers == ("+22890123456", "+33612345678")


def test_failed_recipient_has_no_message_id_and_costs_nothing(fake: FakeAfricasTalking) -> None:
    fake.reject_next(code=406)
    data = post(fake).json()["SMSMessageData"]
    assert data["Recipients"][0] == {"statusCode": 406, "number": "+22890123456",
                                     "status": "UserInBlacklist", "cost": "0", "messageId": "None"}
    assert data["Message"].startswith("Sent to 0/1")
    assert fake.accepted == []


def test_wrong_api_key_gets_401_and_is_recorded(fake: FakeAfricasTalking) -> None:
    response = requests.post(fake.url + "/version1/messaging",
                             data={"username": "sandbox", "to": "+22890123456", "message": "x"},
                             headers={"apiKey": "nope"}, timeout=5)
    assert response.status_code == 401
    assert [r.http_status for r in fake.requests] == [401]


def test_scripted_behaviours_are_consumed_in_order_then_success(fake: FakeAfricasTalking) -> None:
    fake.fail_next(2, http_status=503)
    fake.script(Behaviour(recipient_status=403))
    statuses = [post(fake).status_code for _ in range(4)]
    assert statuses == [503, 503, 200, 200]
    assert [r.recipient_status for r in fake.requests] == [None, None, 403, 101]
    assert len(fake.accepted) == 1


def test_hang_delays_one_answer_and_delay_ms_every_answer(fake: FakeAfricasTalking) -> None:
    fake.hang_next(seconds=0.5)
    started = time.monotonic()
    post(fake)
    assert time.monotonic() - started >= 0.5
    fake.delay_ms = 200
    started = time.monotonic()
    post(fake)
    assert 0.2 <= time.monotonic() - started < 0.5


def test_reset_forgets_requests_script_and_delay(fake: FakeAfricasTalking) -> None:
    fake.fail_next(5)
    fake.delay_ms = 100
    post(fake)
    fake.reset()
    assert fake.requests == [] and fake.delay_ms == 0
    assert post(fake).status_code == 200


def test_unknown_path_is_404(fake: FakeAfricasTalking) -> None:
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(fake.url + "/version1/user", data=b"x", timeout=5)
    assert error.value.code == 404


def test_serves_many_concurrent_requests_with_latency(fake: FakeAfricasTalking) -> None:
    fake.delay_ms = 200
    count = 300
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=100) as pool:
        statuses = list(pool.map(lambda i: post(fake, to=f"+2289{i:07d}").status_code, range(count)))
    elapsed = time.monotonic() - started
    assert statuses == [200] * count
    assert len(fake.requests) == count
    assert len({r.message_id for r in fake.requests}) == count
    assert elapsed < 0.2 * count / 10  # served concurrently, not one after another


def test_wait_for_returns_when_enough_requests_arrived(fake: FakeAfricasTalking) -> None:
    assert fake.wait_for(1, timeout=0.1) is False
    post(fake)
    assert fake.wait_for(1, timeout=0.1) is True


def test_stop_releases_hung_requests_quickly() -> None:
    fake = FakeAfricasTalking().start()
    fake.hang_next(seconds=60)
    with ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(post, fake)
        assert fake.wait_for(1, timeout=5)
        started = time.monotonic()
        fake.stop()
        future.result(timeout=5)
    assert time.monotonic() - started < 5


def test_callback_form_helpers_build_africas_talking_fields() -> None:
    report = delivery_report_form("ATXid_1", "Failed", phone_number="+22890123456",
                                  failure_reason="UserInBlackList", retry_count=2)
    assert report == {"id": "ATXid_1", "status": "Failed", "phoneNumber": "+22890123456",
                      "networkCode": "99999", "retryCount": "2", "failureReason": "UserInBlackList"}
    incoming = incoming_sms_form("+22890123456", "STATUT 250 042 175", sms_id="abc")
    assert {k: incoming[k] for k in ("from", "text", "id")} == {
        "from": "+22890123456", "text": "STATUT 250 042 175", "id": "abc"}
    assert set(incoming) == {"date", "from", "to", "text", "id", "linkId", "networkCode", "cost"}
    assert optout_form("+22890123456") == {"senderId": "GOLFE3", "phoneNumber": "+22890123456"}
    assert "phoneNumber=%2B22890123456" in urlencode(optout_form("+22890123456"))


def test_a_hang_can_end_without_sending(fake: FakeAfricasTalking) -> None:
    fake.hang_next(seconds=0.2, http_status=503)
    fake.hang_next(seconds=0.2)
    assert post(fake).status_code == 503
    assert post(fake).status_code == 200
    assert [r.accepted for r in fake.requests] == [False, True]
