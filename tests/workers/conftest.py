"""Fixtures: the fake Africa's Talking server, and settings that send through it."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import make_test_settings
from tests.fake_africastalking import FakeAfricasTalking
from tests.workers.helpers import AT_API_KEY, AT_USERNAME, at_overrides
from ussd_gateway.settings import Settings


@pytest.fixture
def fake_at() -> Iterator[FakeAfricasTalking]:
    with FakeAfricasTalking(username=AT_USERNAME, api_key=AT_API_KEY) as fake:
        yield fake


@pytest.fixture
def sms_overrides() -> dict[str, object]:
    """Per-test changes to ``settings.sms`` (override this fixture in a test module)."""
    return {}


@pytest.fixture
def settings(  # overrides tests/conftest.py: AT through the fake server
    migrated_database: str, redis_url: str, tmp_path: Path, fake_at: FakeAfricasTalking,
    sms_overrides: dict[str, object],
) -> Settings:
    return make_test_settings(
        migrated_database, redis_url, tmp_path, **at_overrides(fake_at, **sms_overrides)
    )
