"""The production WSGI entry point: ``gunicorn ussd_gateway.wsgi:app``.

Settings come from config.yaml (or ``USSD_GATEWAY_CONFIG``) and the environment
(``USSD_GATEWAY_DATABASE_URL``, ``USSD_GATEWAY_REDIS_URL``, ``USSD_GATEWAY_CALLBACK_TOKEN``,
``USSD_GATEWAY_SECRET_KEY``). The app is built when gunicorn imports this module, in the
worker (or once in the master with ``--preload``): importing it is the start-up.
"""
from __future__ import annotations

from ussd_gateway.app import create_app

app = create_app()
