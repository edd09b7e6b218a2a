"""Request created → confirmation SMS at the fake Africa's Talking exactly once → delivered."""
from __future__ import annotations

from flask.testing import FlaskClient

from tests.fake_africastalking import FakeAfricasTalking, delivery_report_form
from tests.workers.helpers import all_in, drain, new_request, row
from ussd_gateway.references import format_reference
from ussd_gateway.runtime import Runtime


def test_request_confirmation_reaches_provider_once_and_delivery_report_marks_it_delivered(
    runtime: Runtime, fake_at: FakeAfricasTalking, client: FlaskClient, callback_prefix: str
) -> None:
    _, reference, ids = new_request(runtime, phone="+22890123456", service="EC01")
    assert len(ids) == 1

    drain(runtime, all_in(runtime, "sent"))

    assert len(fake_at.requests) == 1
    sent = fake_at.accepted[0]
    assert sent.numbers == ("+22890123456",)
    assert sent.sender == "GOLFE3"
    assert sent.message == (
        "Mairie Golfe 3: demande Copie d'acte de naissance enregistrée. "
        f"Ref {format_reference(reference)}. Délai indicatif 3 jours. "
        "Suivi: *384*2# puis 2. Gardez cette ref."
    )
    outbox = row(runtime, ids[0])
    assert outbox.status == "sent"
    assert outbox.provider_message_id == sent.message_id
    assert outbox.cost == "XOF 25.0000"
    assert outbox.attempts == 1

    answer = client.post(
        f"{callback_prefix}/sms/delivery", data=delivery_report_form(sent.message_id, "Success")
    )
    assert answer.status_code == 200
    delivered = row(runtime, ids[0])
    assert delivered.status == "delivered"
    assert delivered.delivered_at is not None

    # a second run of the job (duplicate enqueue) sends nothing more
    from workers.queues import enqueue_outbox_sms

    enqueue_outbox_sms(runtime.redis, ids)
    drain(runtime, lambda: True)
    assert len(fake_at.requests) == 1
    assert row(runtime, ids[0]).status == "delivered"
