from __future__ import annotations


def test_pages_render_for_an_admin(signed_in, make_request) -> None:  # type: ignore[no-untyped-def]
    request_id, _ = make_request("EC01", answers=[{"field": "copies", "label": "Nombre de copies", "value": 2, "display": "2"}])
    client = signed_in("admin", ())
    for url in ["/staff/demandes", f"/staff/demandes/{request_id}", "/staff/tableau-de-bord",
                "/staff/catalogue", "/staff/catalogue/EC01", "/staff/comptes", "/staff/comptes/nouveau",
                "/staff/demandes/export.csv"]:
        response = client.get(url)
        response.get_data()  # a streamed export finishes (and closes its session) when read
        assert response.status_code == 200, (url, response.get_data(as_text=True)[:2000])
