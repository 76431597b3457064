"""Every paged list answers the same shape: items, total, page, page_size, and X-Total-Count = total."""

from __future__ import annotations

import re

PREFERRED_ROLES = ("staff", "alliance_admin", "guard", "resident")


def _paged_paths(client) -> list[str]:
    """GET paths whose 200 is documented as a page (so a new paged list is checked here without listing it)."""
    spec = client.get("/api/v1/openapi.json").json
    return sorted(path for path, ops in spec["paths"].items()
                  if "get" in ops and "Page" in str(ops["get"]["responses"].get("200", {})))


def test_every_paged_list_answers_its_total_in_the_body_and_the_header(app, world, as_user, client):
    ids = {"compound_id": world.compound_a.id, "gate_id": world.gate_a.id, "user_id": world.resident_a.id}
    views = {rule.rule: app.view_functions[rule.endpoint] for rule in app.url_map.iter_rules()
             if "GET" in rule.methods}
    paths = _paged_paths(client)
    assert len(paths) >= 20
    for path in paths:
        rule = re.sub(r"\{(\w+)\}", r"<int:\1>", path)
        roles = views[rule].wuye_roles
        role = next(r for r in PREFERRED_ROLES if r in roles)
        url = re.sub(r"\{(\w+)\}", lambda m: str(ids[m.group(1)]), path)
        response = as_user(world.by_role()[role]).get(url, query_string={"page": 1, "page_size": 1})
        assert response.status_code == 200, (url, role, response.json)
        body = response.json
        # A page may carry a summary beside its items (the inbox's unread count, the ledger's holders).
        assert {"items", "total", "page", "page_size"} <= set(body), url
        assert (body["page"], body["page_size"]) == (1, 1) and len(body["items"]) <= min(1, body["total"]), url
        assert response.headers["X-Total-Count"] == str(body["total"]), url
