"""Delivery report callbacks: kept as received, applied forward only, unknown statuses 200."""
from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.fake_africastalking import FakeAfricasTalking, delivery_report_form
from tests.workers.helpers import all_in, drain, new_request, row
from ussd_gateway.db import transaction
from ussd_gateway.models import DeliveryReport
from ussd_gateway.runtime import Runtime


def sent_message(runtime: Runtime, fake_at: FakeAfricasTalking) -> tuple[int, str]:
    _, _, ids = new_request(runtime)
    drain(runtime, all_in(runtime, "sent"))
    message_id = fake_at.accepted[0].message_id
    assert message_id
    return ids[0], message_id


def post_reports(client: FlaskClient, prefix: str, message_id: str, *statuses: str) -> None:
    for status in statuses:
        reason = "DeliveryFailure" if status in ("Failed", "Rejected") else None
        answer = client.post(f"{prefix}/sms/delivery",
                             data=delivery_report_form(message_id, status, failure_reason=reason))
        assert answer.status_code == 200


@pytest.mark.parametrize(
    ("reports", "final"),
    [
        (["Success"], "delivered"),
        (["Sent", "Buffered", "Success"], "delivered"),
        (["Success", "Failed"], "delivered"),  # a late failure never undoes a delivery
        (["Success", "Success", "Sent"], "delivered"),  # repeats and an older report
        (["Failed"], "failed"),
        (["Failed", "Failed"], "failed"),
        (["Failed", "Success"], "delivered"),  # delivered is proof: it wins over failed
        (["Buffered"], "sent"),
    ],
)
def test_delivery_reports_move_the_status_forward_only(
    runtime: Runtime, fake_at: FakeAfricasTalking, client: FlaskClient, callback_prefix: str,
    reports: list[str], final: str,
) -> None:
    outbox_id, message_id = sent_message(runtime, fake_at)
    post_reports(client, callback_prefix, message_id, *reports)

    outbox = row(runtime, outbox_id)
    assert outbox.status == final
    if final == "failed":
        assert outbox.failure_reason == "non délivré: DeliveryFailure"
    if final == "delivered":
        assert outbox.failure_reason is None and outbox.delivered_at is not None
    with transaction(runtime.sessions) as session:
        kept = session.scalar(select(func.count()).select_from(DeliveryReport))
    assert kept == len(reports)  # every report is kept as received


def test_unknown_status_is_kept_answered_200_and_changes_nothing(
    runtime: Runtime, fake_at: FakeAfricasTalking, client: FlaskClient, callback_prefix: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    outbox_id, message_id = sent_message(runtime, fake_at)
    post_reports(client, callback_prefix, message_id, "DeliveredToTheMoon")

    assert row(runtime, outbox_id).status == "sent"
    assert "unknown status 'DeliveredToTheMoon'" in caplog.text
    with transaction(runtime.sessions) as session:
        statuses = list(session.scalars(select(DeliveryReport.status)))
    assert statuses == ["DeliveredToTheMoon"]


def test_report_for_an_unknown_message_is_kept_and_answered_200(
    runtime: Runtime, client: FlaskClient, callback_prefix: str
) -> None:
    post_reports(client, callback_prefix, "ATXid_not-ours", "Success")
    with transaction(runtime.sessions) as session:
        assert session.scalar(select(func.count()).select_from(DeliveryReport)) == 1


def test_report_that_arrives_before_the_job_records_the_message_id_is_applied_then(
    runtime: Runtime, fake_at: FakeAfricasTalking, app, callback_prefix: str  # type: ignore[no-untyped-def]
) -> None:
    """AT can report delivery before our job has stored the message id (here: the report is
    posted while the provider's answer is still on its way): kept, then applied by the job."""
    import threading

    from tests.workers.helpers import wait_for
    from workers.jobs import send_outbox_row

    fake_at.delay_ms = 600  # the fake records the request (and its id) before answering
    _, _, ids = new_request(runtime, enqueue=False)

    def report_early() -> None:
        wait_for(lambda: len(fake_at.requests) == 1, timeout=5)
        message_id = fake_at.requests[0].message_id
        assert message_id
        post_reports(app.test_client(), callback_prefix, message_id, "Success")

    reporter = threading.Thread(target=report_early)
    reporter.start()
    assert send_outbox_row(runtime, ids[0]) == "sent"
    reporter.join()

    with transaction(runtime.sessions) as session:
        assert session.scalar(select(func.count()).select_from(DeliveryReport)) == 1
    assert row(runtime, ids[0]).status == "delivered"
