"""Fixtures for the staff view tests: accounts, signed-in clients, requests made the domain way."""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient

from ussd_gateway.db import transaction
from ussd_gateway.runtime import Runtime
from ussd_gateway.service_requests import NewRequest, create_request
from ussd_gateway.staff_accounts import create_staff

PASSWORD = "correct horse battery"
CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


@dataclass(frozen=True)
class Account:
    id: int
    email: str
    password: str = PASSWORD


def csrf_token(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def sign_in(client: FlaskClient, account: Account) -> None:
    page = client.get("/staff/connexion").get_data(as_text=True)
    response = client.post(
        "/staff/connexion",
        data={"email": account.email, "password": account.password, "csrf_token": csrf_token(page)},
    )
    assert response.status_code == 302, response.get_data(as_text=True)


def post_form(client: FlaskClient, page_url: str, action: str, data: dict[str, str]):  # type: ignore[no-untyped-def]
    """Open ``page_url``, take its CSRF token, post ``data`` to ``action``."""
    page = client.get(page_url).get_data(as_text=True)
    return client.post(action, data={**data, "csrf_token": csrf_token(page)})


@pytest.fixture
def make_staff(runtime: Runtime) -> Callable[..., Account]:
    counter = iter(range(1, 1000))

    def make(role: str = "agent", services: Iterable[str] = (), name: str = "") -> Account:
        email = f"{role}{next(counter)}@mairie.test"
        with transaction(runtime.sessions) as session:
            user = create_staff(
                session, email, PASSWORD, role, full_name=name or email.split("@")[0],
                services=list(services),
            )
            session.flush()
            return Account(user.id, email)

    return make


@pytest.fixture
def make_request(app: Flask, runtime: Runtime) -> Callable[..., tuple[int, str]]:
    """Create a request through the domain; returns (id, reference)."""

    def make(service_code: str = "EC01", phone: str = "+22890123456", **kwargs: object) -> tuple[int, str]:
        composer = app.extensions["staff_sms_composer"]
        with transaction(runtime.sessions) as session:
            created = create_request(
                session, composer, NewRequest(service_code=service_code, phone=phone, **kwargs)  # type: ignore[arg-type]
            )
            return created.request.id, created.request.reference

    return make


@pytest.fixture
def signed_in(app: Flask, make_staff: Callable[..., Account]) -> Callable[..., FlaskClient]:
    """A new client signed in with a new account of the given role."""

    def make(role: str = "agent", services: Iterable[str] = ("EC01",)) -> FlaskClient:
        client = app.test_client()
        account = make_staff(role, services)
        sign_in(client, account)
        client.account = account  # type: ignore[attr-defined]
        return client

    return make
