"""Staff are told on every page when the day's SMS budget paused sending."""
from __future__ import annotations

from ussd_gateway.db import transaction
from ussd_gateway.models import SystemFlag
from ussd_gateway.service_requests import today_in_commune
from ussd_gateway.sms_quota import BUDGET_PAUSED_KEY


def test_budget_pause_is_shown_to_staff_under_the_commune_name(signed_in, runtime) -> None:  # type: ignore[no-untyped-def]
    client = signed_in("supervisor")
    quiet = client.get("/staff/demandes").get_data(as_text=True)
    assert "<title>" in quiet and "· Mairie Golfe 3</title>" in quiet
    assert "Budget SMS du jour atteint" not in quiet
    with transaction(runtime.sessions) as session:
        session.add(SystemFlag(key=BUDGET_PAUSED_KEY,
                               value=f"{today_in_commune().isoformat()}|Budget SMS du jour atteint"))
    paused = client.get("/staff/demandes").get_data(as_text=True)
    assert "Budget SMS du jour atteint" in paused
