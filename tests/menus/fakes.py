"""An in-memory handler registry for the engine's unit tests (a fake at the port).

It keeps what it was asked (``calls``) and what it created (``created``) so tests can assert
that exactly one request is created per confirmation, with the right service and answers.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import yaml

from menus.handlers import ActionContext, ActionResult, Option
from menus.loader import default_menus_dir
from ussd_gateway.references import damm_check_digit, format_reference


def _catalogue() -> dict:
    with (default_menus_dir() / "catalogue.yaml").open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


CATALOGUE = _catalogue()
SERVICES = {s["code"]: s for s in CATALOGUE["services"]}


def make_reference(number: int) -> str:
    body = f"{number:08d}"
    return body + damm_check_digit(body)


@dataclass
class StoredRequest:
    reference: str
    phone: str
    service: str
    status: str
    answers: dict[str, str]
    summary: tuple[tuple[str, str], ...]
    quartier: str | None


@dataclass
class FakeHandlers:
    """Services from catalogue.yaml (all active unless listed in ``inactive``)."""

    inactive: set[str] = field(default_factory=set)
    requests: list[StoredRequest] = field(default_factory=list)
    calls: list[tuple[str, str, ActionContext]] = field(default_factory=list)
    outcome_for: dict[str, str] = field(default_factory=dict)
    """Force an outcome for an action name (e.g. create_request -> limite)."""
    fail_on: set[str] = field(default_factory=set)
    next_number: int = 25004217

    @property
    def created(self) -> list[StoredRequest]:
        return [r for r in self.requests if r.reference.startswith("2500")]

    def add_request(self, phone: str, service: str, status: str) -> str:
        reference = make_reference(10000000 + len(self.requests))
        self.requests.append(StoredRequest(reference, phone, service, status, {}, (), None))
        return reference

    # -- the contract -------------------------------------------------------------------------
    def options(self, source: str, ctx: ActionContext) -> Sequence[Option]:
        self.calls.append(("options", source, ctx))
        if source in self.fail_on:
            raise RuntimeError(f"{source} failed")
        if source == "services":
            group = ctx.params.get("group") or ctx.answers.get("group")
            return [
                Option(code, s["names"][ctx.language])
                for code, s in SERVICES.items()
                if s["group"] == group and code not in self.inactive
            ]
        if source == "my_requests":
            own = [r for r in reversed(self.requests) if r.phone == ctx.phone]
            return [
                Option(r.reference,
                       f"{format_reference(r.reference)} {SERVICES[r.service]['names'][ctx.language]}: {r.status}")
                for r in own
            ]
        raise KeyError(source)

    def run(self, action: str, ctx: ActionContext) -> ActionResult:
        self.calls.append(("run", action, ctx))
        if action in self.fail_on:
            raise RuntimeError(f"{action} failed")
        if action in self.outcome_for:
            return ActionResult(outcome=self.outcome_for[action])
        if action == "create_request":
            assert ctx.service == ctx.answers["service"]
            reference = make_reference(self.next_number)
            self.next_number += 1
            self.requests.append(StoredRequest(reference, ctx.phone, ctx.service, "recue",
                                               dict(ctx.answers), ctx.summary, ctx.quartier))
            return ActionResult({"reference": format_reference(reference),
                                 "delay": str(SERVICES[ctx.service]["delay_days"])})
        if action == "service_info":
            s = SERVICES[ctx.service]
            referral = (s.get("referral") or {}).get("organisme", "")
            return ActionResult({"service_label": s["names"][ctx.language],
                                 "fee": f"{s['fee_fcfa']} FCFA" if s["fee_fcfa"] else s["fee_note"],
                                 "delay": str(s["delay_days"]), "documents": s["documents"],
                                 "referral": referral})
        if action == "lookup_reference":
            reference = ctx.answers["reference"]
            found = next((r for r in self.requests if r.reference == reference), None)
            if found is None:
                return ActionResult({"reference": format_reference(reference)}, outcome="introuvable")
            variables = {"reference": format_reference(reference), "status": found.status}
            if found.phone != ctx.phone:
                return ActionResult(variables, outcome="autre")
            variables["service"] = SERVICES[found.service]["names"][ctx.language]
            return ActionResult(variables)
        raise KeyError(action)
