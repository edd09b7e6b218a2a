"""The SMS pipeline tests share the worker tests' fixtures (fake Africa's Talking, settings)."""
from __future__ import annotations

from tests.workers.conftest import fake_at, settings, sms_overrides  # noqa: F401

__all__ = ["fake_at", "settings", "sms_overrides"]
