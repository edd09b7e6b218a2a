"""Requests in the staff view: scoping by role, list filters and search, status changes with
their SMS, optimistic locking, referral, duplicates, assignment, export, dashboard."""
from __future__ import annotations

import datetime as dt
import re

from rq import Queue
from sqlalchemy import func, select, update

from tests.staff.conftest import csrf_token
from ussd_gateway.db import transaction
from ussd_gateway.models import (
    AuditEvent,
    DeliveryReport,
    OutboundSms,
    ServiceRequest,
    StatusChange,
)
from ussd_gateway.references import format_reference
from workers.queues import SMS_QUEUE, outbox_job_id

VERSION_RE = re.compile(r'name="version" type="hidden" value="(\d+)"')


def _version(html: str) -> str:
    match = VERSION_RE.search(html)
    assert match
    return match.group(1)


def _change(client, request_id: int, to_status: str, **extra: str):  # type: ignore[no-untyped-def]
    page = client.get(f"/staff/demandes/{request_id}").get_data(as_text=True)
    data = {"to_status": to_status, "version": _version(page), "csrf_token": csrf_token(page), **extra}
    return client.post(f"/staff/demandes/{request_id}/statut", data=data)


def _refs(html: str) -> set[str]:
    return set(re.findall(r'<td class="ref"><a href="[^"]+">([\d ]+)</a>', html))


# --------------------------------------------------------------------------- authorization


def test_agent_gets_404_for_a_request_of_another_service(signed_in, make_request) -> None:  # type: ignore[no-untyped-def]
    other_id, _ = make_request("SI01")
    own_id, _ = make_request("EC01")
    agent = signed_in("agent", ["EC01"])
    assert agent.get(f"/staff/demandes/{own_id}").status_code == 200
    assert agent.get(f"/staff/demandes/{other_id}").status_code == 404
    assert agent.get("/staff/demandes/999999").status_code == 404
    page = agent.get(f"/staff/demandes/{own_id}").get_data(as_text=True)
    refused = agent.post(
        f"/staff/demandes/{other_id}/statut",
        data={"to_status": "en_cours", "version": "1", "csrf_token": csrf_token(page)},
    )
    assert refused.status_code == 404


def test_agent_list_search_and_export_only_hold_their_services(signed_in, make_request) -> None:  # type: ignore[no-untyped-def]
    _, own_ref = make_request("EC01", phone="+22890111111")
    _, other_ref = make_request("SI01", phone="+22890111111")
    agent = signed_in("agent", ["EC01"])
    listed = _refs(agent.get("/staff/demandes").get_data(as_text=True))
    assert listed == {format_reference(own_ref)}
    assert _refs(agent.get(f"/staff/demandes?q={other_ref}").get_data(as_text=True)) == set()
    assert _refs(agent.get("/staff/demandes?q=90111111").get_data(as_text=True)) == {format_reference(own_ref)}
    export = agent.get("/staff/demandes/export.csv").get_data(as_text=True)
    assert format_reference(own_ref) in export and format_reference(other_ref) not in export
    supervisor = signed_in("supervisor", ())
    assert _refs(supervisor.get("/staff/demandes").get_data(as_text=True)) == {
        format_reference(own_ref), format_reference(other_ref)
    }


def test_agents_see_masked_phones_supervisors_full_ones(signed_in, make_request) -> None:  # type: ignore[no-untyped-def]
    make_request("EC01", phone="+22890123456")
    agent_page = signed_in("agent", ["EC01"]).get("/staff/demandes").get_data(as_text=True)
    assert "+22890123456" not in agent_page and "+22890" in agent_page and "56</td>" in agent_page
    supervisor_page = signed_in("supervisor", ()).get("/staff/demandes").get_data(as_text=True)
    assert "+22890123456" in supervisor_page


def test_dashboard_and_admin_pages_are_refused_to_agents(signed_in) -> None:  # type: ignore[no-untyped-def]
    agent = signed_in("agent", ["EC01"])
    for url in ("/staff/tableau-de-bord", "/staff/catalogue", "/staff/comptes"):
        assert agent.get(url).status_code == 403
    supervisor = signed_in("supervisor", ())
    assert supervisor.get("/staff/tableau-de-bord").status_code == 200
    assert supervisor.get("/staff/comptes").status_code == 403


# --------------------------------------------------------------------------- list


def test_search_finds_a_reference_with_or_without_spaces_and_by_phone(signed_in, make_request) -> None:  # type: ignore[no-untyped-def]
    _, ref = make_request("EC01", phone="+22891000001")
    make_request("EC01", phone="+22891000002")
    client = signed_in("supervisor", ())
    spaced = format_reference(ref)
    for query in (ref, spaced, ref[:3] + "-" + ref[3:], "91 00 00 01", "+22891000001", "22891000001"):
        assert _refs(client.get("/staff/demandes", query_string={"q": query}).get_data(as_text=True)) == {spaced}, query
    nonsense = client.get("/staff/demandes", query_string={"q": "abc"}).get_data(as_text=True)
    assert _refs(nonsense) == set() and "ni une référence" in nonsense


def test_filters_narrow_the_list(signed_in, make_request, runtime) -> None:  # type: ignore[no-untyped-def]
    a_id, a_ref = make_request("EC01", quartier="kelegouvi")
    b_id, b_ref = make_request("SI01", quartier="massouhoin")
    c_id, c_ref = make_request("EC01", quartier="massouhoin")
    long_ago = dt.datetime(2026, 1, 10, 9, tzinfo=dt.timezone.utc)
    with transaction(runtime.sessions) as session:
        session.execute(update(ServiceRequest).where(ServiceRequest.id == c_id).values(
            created_at=long_ago, expected_date=dt.date(2026, 1, 13), status="en_cours"))
    client = signed_in("supervisor", ())
    me = client.account.id
    with transaction(runtime.sessions) as session:
        session.execute(update(ServiceRequest).where(ServiceRequest.id == b_id).values(assignee_id=me))

    def refs(**args: str) -> set[str]:
        return _refs(client.get("/staff/demandes", query_string=args).get_data(as_text=True))

    A, B, C = (format_reference(r) for r in (a_ref, b_ref, c_ref))
    assert refs() == {A, B, C}
    assert refs(service="EC01") == {A, C}
    assert refs(statut="en_cours") == {C}
    assert refs(statut="recue") == {A, B}
    assert refs(statut="ouvertes") == {A, B, C}
    assert refs(statut="closes") == set()
    assert refs(quartier="massouhoin") == {B, C}
    assert refs(du="2026-01-01", au="2026-01-31") == {C}
    assert refs(du=dt.date.today().isoformat()) == {A, B}
    assert refs(retard="1") == {C}
    assert refs(agent="moi") == {B}
    assert refs(agent=str(me)) == {B}
    assert refs(agent="aucun") == {A, C}
    page = client.get("/staff/demandes").get_data(as_text=True)
    assert page.count('class="is-overdue"') == 1 and "En retard" in page


def test_list_is_newest_first_and_paginated(signed_in, make_request, runtime) -> None:  # type: ignore[no-untyped-def]
    page_size = runtime.settings.staff.page_size
    base = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)
    refs = []
    for i in range(page_size + 3):
        rid, ref = make_request("EC01", phone=f"+228900{i:05d}")
        refs.append(ref)
        with transaction(runtime.sessions) as session:
            session.execute(update(ServiceRequest).where(ServiceRequest.id == rid).values(
                created_at=base + dt.timedelta(hours=i)))
    client = signed_in("supervisor", ())
    first = client.get("/staff/demandes").get_data(as_text=True)
    order = re.findall(r'<td class="ref"><a href="[^"]+">([\d ]+)</a>', first)
    assert order[:3] == [format_reference(r) for r in reversed(refs[-3:])]
    assert len(order) == page_size and "Page 1 sur 2" in first
    second = client.get("/staff/demandes?page=2").get_data(as_text=True)
    assert _refs(second) == {format_reference(r) for r in refs[:3]}


def test_csv_export_is_utf8_with_bom_and_follows_the_filters(signed_in, make_request) -> None:  # type: ignore[no-untyped-def]
    _, ref = make_request("EC01", quartier="kelegouvi")
    make_request("SI01")
    response = signed_in("supervisor", ()).get("/staff/demandes/export.csv?service=EC01")
    body = response.get_data()
    assert response.mimetype == "text/csv"
    assert body.startswith("\ufeff".encode())
    text = body.decode("utf-8-sig")
    lines = text.strip().splitlines()
    assert lines[0].startswith("Référence;Service")
    assert len(lines) == 2 and format_reference(ref) in lines[1] and "Kélégouvi" in lines[1]
    assert "Copie d'acte de naissance" in lines[1] and "Reçue" in lines[1]


# --------------------------------------------------------------------------- detail & changes


def test_detail_shows_answers_history_sms_delivery_and_opt_out(signed_in, make_request, runtime) -> None:  # type: ignore[no-untyped-def]
    rid, _ = make_request(
        "EC01",
        answers=[{"field": "titulaire", "label": "Nom du titulaire", "value": "Kossi", "display": "Kossi Mensah"}],
    )
    with transaction(runtime.sessions) as session:
        sms = session.scalar(select(OutboundSms).where(OutboundSms.request_id == rid))
        sms.status, sms.provider_message_id = "sent", "ATXid_demo1"
        session.add(DeliveryReport(provider_message_id="ATXid_demo1", status="Success"))
        session.get(ServiceRequest, rid).resident.sms_opted_out_at = dt.datetime.now(dt.timezone.utc)
    page = signed_in("agent", ["EC01"]).get(f"/staff/demandes/{rid}").get_data(as_text=True)
    assert "Nom du titulaire" in page and "Kossi Mensah" in page
    assert "Demandeur (USSD)" in page
    assert "Remis au téléphone" in page and "enregistrée" in page
    assert "Désabonné (STOP)" in page


def test_only_allowed_transitions_are_offered(signed_in, make_request) -> None:  # type: ignore[no-untyped-def]
    rid, _ = make_request("EC01")
    client = signed_in("agent", ["EC01"])
    page = client.get(f"/staff/demandes/{rid}").get_data(as_text=True)
    offered = set(re.findall(r'<option value="([a-z_]+)"', page.split('id="to_status"')[1].split("</select>")[0]))
    assert offered == {"a_completer", "attente_paiement", "en_instruction", "en_cours", "resolue", "rejetee", "annulee"}
    refused = _change(client, rid, "delivree")
    assert refused.status_code == 409 and "non autorisé" in refused.get_data(as_text=True)


def test_status_change_writes_history_outbox_sms_and_enqueues_it(signed_in, make_request, runtime) -> None:  # type: ignore[no-untyped-def]
    rid, _ = make_request("EC01")
    client = signed_in("agent", ["EC01"])
    response = _change(client, rid, "a_completer", public_note="Apportez votre pièce d’identité (être présent)",
                       internal_note="Vu au guichet")
    assert response.status_code == 302
    with runtime.sessions() as session:
        req = session.get(ServiceRequest, rid)
        assert req.status == "a_completer" and req.version == 2
        change = session.scalars(select(StatusChange).where(StatusChange.request_id == rid)
                                 .order_by(StatusChange.id.desc())).first()
        assert change.actor_id == client.account.id
        assert change.public_note == "Apportez votre pièce d’identité (être présent)" and change.internal_note == "Vu au guichet"
        sms = session.scalar(select(OutboundSms).where(OutboundSms.request_id == rid, OutboundSms.event == "a_completer"))
        assert "Apportez votre pièce d'identité (etre présent)." in sms.body  # folded to GSM-7
        assert sms.encoding == "GSM-7"
    assert outbox_job_id(sms.id) in Queue(SMS_QUEUE, connection=runtime.redis).job_ids
    page = client.get(f"/staff/demandes/{rid}").get_data(as_text=True)
    assert "Statut changé : À compléter" in page and "Vu au guichet" in page


def test_second_save_of_a_stale_page_is_told_and_shown_the_new_state(signed_in, make_request, runtime) -> None:  # type: ignore[no-untyped-def]
    rid, _ = make_request("EC01")
    first, second = signed_in("agent", ["EC01"]), signed_in("agent", ["EC01"])
    page_1 = first.get(f"/staff/demandes/{rid}").get_data(as_text=True)
    page_2 = second.get(f"/staff/demandes/{rid}").get_data(as_text=True)
    ok = first.post(f"/staff/demandes/{rid}/statut", data={
        "to_status": "en_cours", "version": _version(page_1), "csrf_token": csrf_token(page_1)})
    assert ok.status_code == 302
    stale = second.post(f"/staff/demandes/{rid}/statut", data={
        "to_status": "rejetee", "version": _version(page_2), "csrf_token": csrf_token(page_2),
        "public_note": "Dossier incomplet"})
    body = stale.get_data(as_text=True)
    assert stale.status_code == 409
    assert "La demande a été modifiée" in body and "maintenant « En cours »" in body
    assert "Dossier incomplet" in body  # what they typed is kept for a second try
    with runtime.sessions() as session:
        assert session.get(ServiceRequest, rid).status == "en_cours"
        assert session.scalar(select(func.count()).select_from(StatusChange).where(StatusChange.request_id == rid)) == 2


def test_refer_closes_the_request_and_tells_the_resident_where_to_go(signed_in, make_request, runtime) -> None:  # type: ignore[no-untyped-def]
    rid, _ = make_request("FI01")
    client = signed_in("agent", ["FI01"])
    page = client.get(f"/staff/demandes/{rid}").get_data(as_text=True)
    response = client.post(f"/staff/demandes/{rid}/orienter", data={
        "organisme": "OTR (taxe foncière)", "version": _version(page), "csrf_token": csrf_token(page)})
    assert response.status_code == 302
    with runtime.sessions() as session:
        req = session.get(ServiceRequest, rid)
        assert (req.status, req.referred_to) == ("hors_competence", "OTR (taxe foncière)")
        assert req.closed_at is not None
        sms = session.scalar(select(OutboundSms).where(OutboundSms.request_id == rid, OutboundSms.event == "hors_competence"))
        assert "OTR (taxe foncière)" in sms.body


def test_mark_duplicate_links_the_original_request(signed_in, make_request, runtime) -> None:  # type: ignore[no-untyped-def]
    original_id, original_ref = make_request("SI02", phone="+22890000001")
    copy_id, _ = make_request("SI02", phone="+22890000002")
    client = signed_in("agent", ["SI02"])
    page = client.get(f"/staff/demandes/{copy_id}").get_data(as_text=True)
    bad = client.post(f"/staff/demandes/{copy_id}/doublon", data={
        "original_reference": "123 456 789", "version": _version(page), "csrf_token": csrf_token(page)})
    assert bad.status_code == 400 and "introuvable" in bad.get_data(as_text=True)
    ok = client.post(f"/staff/demandes/{copy_id}/doublon", data={
        "original_reference": format_reference(original_ref), "version": _version(page),
        "csrf_token": csrf_token(page)})
    assert ok.status_code == 302
    with runtime.sessions() as session:
        req = session.get(ServiceRequest, copy_id)
        assert (req.status, req.duplicate_of_id) == ("doublon", original_id)


def test_supervisor_assigns_with_an_audit_row_and_agents_cannot(signed_in, make_staff, make_request, runtime) -> None:  # type: ignore[no-untyped-def]
    rid, _ = make_request("EC01")
    worker = make_staff("agent", ["EC01"], name="Afi Agbeko")
    supervisor = signed_in("supervisor", ())
    page = supervisor.get(f"/staff/demandes/{rid}").get_data(as_text=True)
    assert "Afi Agbeko" in page
    response = supervisor.post(f"/staff/demandes/{rid}/attribuer", data={
        "assignee_id": str(worker.id), "version": _version(page), "csrf_token": csrf_token(page)})
    assert response.status_code == 302
    shown = supervisor.get(f"/staff/demandes/{rid}").get_data(as_text=True)
    assert "Demande attribuée à Afi Agbeko." in shown and "Attribuée à Afi Agbeko" in shown
    with runtime.sessions() as session:
        assert session.get(ServiceRequest, rid).assignee_id == worker.id
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "request.assign"))
        assert event.actor_id == supervisor.account.id and event.details["to"] == worker.id
    agent = signed_in("agent", ["EC01"])
    page = agent.get(f"/staff/demandes/{rid}").get_data(as_text=True)
    assert "/attribuer" not in page
    assert agent.post(f"/staff/demandes/{rid}/attribuer", data={
        "assignee_id": "", "version": _version(page), "csrf_token": csrf_token(page)}).status_code == 403


def test_dashboard_counts_requests_overdue_and_sms(signed_in, make_request, runtime) -> None:  # type: ignore[no-untyped-def]
    ids = [make_request("EC01", phone=f"+2289000000{i}")[0] for i in range(3)]
    with transaction(runtime.sessions) as session:
        session.execute(update(ServiceRequest).where(ServiceRequest.id == ids[0]).values(
            expected_date=dt.date(2026, 1, 1)))
        session.execute(update(OutboundSms).values(status="sent", sent_at=func.now()))
    page = signed_in("supervisor", ()).get("/staff/tableau-de-bord").get_data(as_text=True)
    assert re.search(r'kpi-value">3</span><span class="kpi-label">demandes au total', page)
    assert re.search(r'kpi-value">1</span><span class="kpi-label">en retard', page)
    assert re.search(r'kpi-value">3<small> / 5000', page)


def test_csv_export_neutralises_spreadsheet_formulas_and_masks_phones_for_agents(signed_in, make_request, runtime) -> None:  # type: ignore[no-untyped-def]
    rid, _ = make_request("EC01", phone="+22890123456")
    with transaction(runtime.sessions) as session:
        session.execute(update(ServiceRequest).where(ServiceRequest.id == rid).values(
            referred_to='=HYPERLINK("http://evil.example")'))
    text = signed_in("agent", ["EC01"]).get("/staff/demandes/export.csv").get_data().decode("utf-8-sig")
    row = text.strip().splitlines()[1]
    assert "'=HYPERLINK" in row and ";=HYPERLINK" not in row
    assert "+22890123456" not in row and "56;" in row
