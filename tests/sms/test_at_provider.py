"""The Africa's Talking adapter, through the real SDK, against the fake AT server on 127.0.0.1."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest
from tests.fake_africastalking import FakeAfricasTalking

from sms.providers import (
    AfricasTalkingProvider,
    AmbiguousSendError,
    LogProvider,
    PermanentSendError,
    RetryableSendError,
    SendResult,
    SmsProvider,
    build_provider,
)

NUMBER = "+22890123456"


@pytest.fixture
def fake_at() -> Iterator[FakeAfricasTalking]:
    with FakeAfricasTalking(username="golfe3", api_key="secret-key") as fake:
        yield fake


def provider_for(fake: FakeAfricasTalking, **overrides: object) -> AfricasTalkingProvider:
    settings: dict[str, object] = {
        "username": "golfe3", "api_key": "secret-key", "base_url": fake.url,
        "connect_timeout": 1.0, "read_timeout": 2.0,
    }
    settings.update(overrides)
    provider = build_provider("africastalking", **settings)
    assert isinstance(provider, AfricasTalkingProvider)
    return provider


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_success_returns_message_id_and_cost_and_the_server_got_exactly_one_request(
    fake_at: FakeAfricasTalking,
) -> None:
    result = provider_for(fake_at).send(NUMBER, "Mairie Golfe 3: demande enregistrée.", "GOLFE3")
    assert isinstance(result, SendResult)
    assert result.message_id.startswith("ATXid_")
    assert (result.status_code, result.status, result.cost) == (101, "Success", "XOF 25.0000")
    [request] = fake_at.requests
    assert (request.number, request.sender, request.api_key, request.username) == (
        NUMBER, "GOLFE3", "secret-key", "golfe3")
    assert request.message == "Mairie Golfe 3: demande enregistrée."
    assert request.bulk_sms_mode == "1" and request.enqueue is None
    assert request.message_id == result.message_id


def test_without_sender_id_no_from_field_is_sent(fake_at: FakeAfricasTalking) -> None:
    provider_for(fake_at).send(NUMBER, "hello", None)
    assert "from" not in fake_at.requests[0].form


def test_http_500_is_retryable_and_the_next_attempt_succeeds(fake_at: FakeAfricasTalking) -> None:
    fake_at.fail_next(1, http_status=500)
    provider = provider_for(fake_at)
    with pytest.raises(RetryableSendError) as error:
        provider.send(NUMBER, "x", "GOLFE3")
    assert error.value.status_code == 500
    assert "HTTP 500" in error.value.reason
    assert provider.send(NUMBER, "x", "GOLFE3").status_code == 101
    assert [r.http_status for r in fake_at.requests] == [500, 200]
    assert len(fake_at.accepted) == 1


@pytest.mark.parametrize("http_status", [429, 502, 503])
def test_throttling_and_server_errors_are_retryable(fake_at: FakeAfricasTalking, http_status: int) -> None:
    fake_at.fail_next(http_status=http_status)
    with pytest.raises(RetryableSendError) as error:
        provider_for(fake_at).send(NUMBER, "x", None)
    assert error.value.status_code == http_status


def test_bad_api_key_is_permanent_and_keeps_the_http_status(fake_at: FakeAfricasTalking) -> None:
    with pytest.raises(PermanentSendError) as error:
        provider_for(fake_at, api_key="wrong").send(NUMBER, "x", None)
    assert error.value.status_code == 401
    assert "authentication is invalid" in error.value.reason


@pytest.mark.parametrize(
    ("code", "name"),
    [(401, "RiskHold"), (402, "InvalidSenderId"), (403, "InvalidPhoneNumber"),
     (404, "UnsupportedNumberType"), (405, "InsufficientBalance"), (406, "UserInBlacklist"),
     (407, "CouldNotRoute"), (409, "DoNotDisturbRejection")],
)
def test_permanent_recipient_codes_raise_permanent_with_the_reason(
    fake_at: FakeAfricasTalking, code: int, name: str
) -> None:
    fake_at.reject_next(code=code)
    with pytest.raises(PermanentSendError) as error:
        provider_for(fake_at).send(NUMBER, "x", "GOLFE3")
    assert error.value.status_code == code
    assert error.value.reason == f"{code} {name}"


@pytest.mark.parametrize("code", [102, 500, 501, 502])
def test_retryable_recipient_codes_in_a_200_reply_raise_retryable(
    fake_at: FakeAfricasTalking, code: int
) -> None:
    fake_at.reject_next(code=code)
    with pytest.raises(RetryableSendError) as error:
        provider_for(fake_at).send(NUMBER, "x", None)
    assert error.value.status_code == code


def test_processed_code_100_is_success(fake_at: FakeAfricasTalking) -> None:
    fake_at.reject_next(code=100)
    assert provider_for(fake_at).send(NUMBER, "x", None).status_code == 100


def test_read_timeout_after_sending_is_ambiguous(fake_at: FakeAfricasTalking) -> None:
    fake_at.hang_next(seconds=3)
    started = time.monotonic()
    with pytest.raises(AmbiguousSendError, match="may have been sent"):
        provider_for(fake_at, read_timeout=0.5).send(NUMBER, "x", None)
    assert time.monotonic() - started < 2.5
    assert len(fake_at.requests) == 1  # it did reach the provider


def test_connection_refused_is_retryable() -> None:
    provider = AfricasTalkingProvider(
        username="golfe3", api_key="k", base_url=f"http://127.0.0.1:{closed_port()}",
        connect_timeout=1.0, read_timeout=1.0,
    )
    with pytest.raises(RetryableSendError, match="connection failed"):
        provider.send(NUMBER, "x", None)


def test_connect_timeout_is_retryable() -> None:
    # A listening socket whose backlog is full never completes new handshakes.
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(0)
        port = server.getsockname()[1]
        fillers = []
        try:
            for _ in range(8):
                filler = socket.socket()
                filler.setblocking(False)
                filler.connect_ex(("127.0.0.1", port))
                fillers.append(filler)
            provider = AfricasTalkingProvider(
                username="golfe3", api_key="k", base_url=f"http://127.0.0.1:{port}",
                connect_timeout=0.3, read_timeout=5.0,
            )
            with pytest.raises(RetryableSendError, match="connect timeout"):
                provider.send(NUMBER, "x", None)
        finally:
            for filler in fillers:
                filler.close()


def test_invalid_number_is_refused_before_any_request(fake_at: FakeAfricasTalking) -> None:
    with pytest.raises(PermanentSendError, match="invalid phone number"):
        provider_for(fake_at).send("90123456", "x", None)
    assert fake_at.requests == []


def test_base_url_defaults_to_the_sdk_production_and_sandbox_urls() -> None:
    assert AfricasTalkingProvider(username="golfe3", api_key="k").base_url == (
        "https://api.africastalking.com/version1")
    assert AfricasTalkingProvider(username="sandbox", api_key="k", base_url="").base_url == (
        "https://api.sandbox.africastalking.com/version1")
    assert AfricasTalkingProvider(username="x", api_key="k", base_url="http://h:1/").base_url == (
        "http://h:1/version1")


def test_sdk_module_globals_are_never_initialised(fake_at: FakeAfricasTalking) -> None:
    import africastalking

    provider_for(fake_at).send(NUMBER, "x", None)
    assert africastalking.SMS is None


def test_timeouts_are_explicit_and_positive() -> None:
    provider = AfricasTalkingProvider(username="u", api_key="k", connect_timeout=2, read_timeout=7)
    assert provider.timeout == (2, 7)
    with pytest.raises(ValueError):
        AfricasTalkingProvider(username="u", api_key="k", read_timeout=0)
    with pytest.raises(ValueError, match="username and an API key"):
        AfricasTalkingProvider(username="", api_key="k")


def test_log_provider_keeps_and_returns_messages_without_sending() -> None:
    provider = build_provider("log")
    assert isinstance(provider, LogProvider) and isinstance(provider, SmsProvider)
    result = provider.send(NUMBER, "bonjour", "GOLFE3")
    assert result.message_id.startswith("log-")
    [sent] = provider.sent
    assert (sent.to, sent.message, sent.sender_id, sent.message_id) == (
        NUMBER, "bonjour", "GOLFE3", result.message_id)


def test_unknown_provider_name_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match="unknown SMS provider 'twilio'; known: africastalking, log"):
        build_provider("twilio")


def test_connection_closed_without_an_answer_is_ambiguous(fake_at: FakeAfricasTalking) -> None:
    fake_at.drop_next()
    with pytest.raises(AmbiguousSendError, match="connection lost after sending"):
        provider_for(fake_at).send(NUMBER, "x", None)
    assert len(fake_at.accepted) == 1


def test_unknown_recipient_code_is_ambiguous_not_retried_blindly(fake_at: FakeAfricasTalking) -> None:
    fake_at.reject_next(code=999)
    with pytest.raises(AmbiguousSendError, match="unknown recipient status 999"):
        provider_for(fake_at).send(NUMBER, "x", None)
