"""SMS provider adapters behind one interface (:class:`SmsProvider`) and their registry.

Add a provider: write ``sms/providers/<name>.py`` with a class that has ``name`` and
``send(to, message, sender_id) -> SendResult`` raising the errors of ``base``, then list it
in :data:`PROVIDERS`.
"""

from __future__ import annotations

from collections.abc import Callable

from sms.providers.africastalking import AfricasTalkingProvider
from sms.providers.base import (
    AmbiguousSendError,
    SendTimeout,
    PermanentSendError,
    RetryableSendError,
    SendError,
    SendResult,
    SmsProvider,
)
from sms.providers.log import LoggedSms, LogProvider

__all__ = [
    "PROVIDERS",
    "AfricasTalkingProvider",
    "AmbiguousSendError",
    "SendTimeout",
    "LogProvider",
    "LoggedSms",
    "PermanentSendError",
    "RetryableSendError",
    "SendError",
    "SendResult",
    "SmsProvider",
    "build_provider",
]

#: name -> factory taking keyword settings.
PROVIDERS: dict[str, Callable[..., SmsProvider]] = {
    "africastalking": AfricasTalkingProvider,
    "log": LogProvider,
}


def build_provider(name: str, **settings: object) -> SmsProvider:
    """Build the provider ``name`` from keyword settings.

    ``africastalking``: ``username``, ``api_key``, ``base_url`` (None/"" = the SDK's own),
    ``connect_timeout``, ``read_timeout`` (seconds). ``log``: ignores settings.
    """
    try:
        factory = PROVIDERS[name]
    except KeyError:
        raise ValueError(
            f"unknown SMS provider {name!r}; known: {', '.join(sorted(PROVIDERS))}"
        ) from None
    return factory(**settings)
