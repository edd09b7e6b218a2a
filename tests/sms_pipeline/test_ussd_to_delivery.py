"""The whole chain from a phone: a request made over USSD → the worker sends its confirmation
SMS to the (fake) Africa's Talking exactly once → the delivery report marks it delivered."""
from __future__ import annotations

from sqlalchemy import select

from tests.fake_africastalking import FakeAfricasTalking, delivery_report_form
from tests.ussd.phone import Phone
from tests.workers.helpers import all_in, drain
from ussd_gateway.models import OutboundSms
from ussd_gateway.runtime import Runtime


def test_ussd_request_gets_one_confirmation_sms_and_its_delivery_is_recorded(
    runtime: Runtime, fake_at: FakeAfricasTalking, client, callback_prefix: str  # type: ignore[no-untyped-def]
) -> None:
    phone = Phone(client, callback_prefix, number="+22897654321")
    phone.onboard("2")  # English
    end = phone.play("3", "1", "2", "Near the Adewui school", "3", "1")  # street light, 3 lamps
    assert end.is_end and "Ref: " in end.text
    shown_reference = end.text.split("Ref: ")[1].split("\n")[0]
    phone.post("*".join(phone.answers))  # the provider retries the confirming hop

    drain(runtime, all_in(runtime, "sent"))

    assert len(fake_at.requests) == 1
    sent = fake_at.accepted[0]
    assert sent.numbers == ("+22897654321",)
    assert sent.sender == "GOLFE3"
    assert sent.message == (
        f"Mairie Golfe 3: Street lighting request registered. Ref {shown_reference}. "
        "Expected in 7 days. Track: *384*2# then 2. Keep this ref."
    )
    report = client.post(
        f"{callback_prefix}/sms/delivery", data=delivery_report_form(sent.message_id, "Success")
    )
    assert report.status_code == 200
    with runtime.sessions() as session:
        row = session.scalars(select(OutboundSms)).one()
        assert row.status == "delivered" and row.provider_message_id == sent.message_id
