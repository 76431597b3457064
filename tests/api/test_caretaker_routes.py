"""Every staff route against a compound without a company: its caretaker is never refused (403), and a
company that does not act for it finds nothing there (404).

The compound is run first by the alliance admin directly, then entrusted (托管) to company B. The
walk takes the route list from the app's URL map (as test_route_matrix does) and fills each path
parameter with a real object of the caretaker-run compound: its gate, household, resident, guard,
alert, quarantine order, delivery request, visitor, shift.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from server.extensions import db
from server.models.health import QuarantineOrder
from server.models.people import User
from server.plumbing.alerts import raise_alert
from server.plumbing.clock import local_today
from tests.factories import make_gate, make_household, make_user

PLACEHOLDER_ID = "999999"
SESSION_ENDING = {"auth.logout"}


@dataclass
class Orphan:
    """The caretaker-run compound's objects, by the name of the path parameter that points at them."""

    ids: dict[str, int]


def _staff_routes(app):
    """(rule, method) of every route open to staff (staff-only and shared with others)."""
    for rule in app.url_map.iter_rules():
        roles = getattr(app.view_functions[rule.endpoint], "wuye_roles", None)
        if isinstance(roles, frozenset) and "staff" in roles:
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield rule, method


def _url(rule, ids: dict[str, int]) -> str:
    def value(match):
        return str(ids.get(match.group(1), PLACEHOLDER_ID))
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", value, rule.rule)


@pytest.fixture
def orphan(app, world, as_user) -> Orphan:
    """The world's company-less compound with a gate, a quarantined household and its resident, a guard
    posted there, an open alert, a delivery request, an expected visitor and a shift."""
    with app.app_context():
        compound_id = world.compound_orphan.id
        compound = db.session.merge(world.compound_orphan)
        compound.health_emergency = True
        gate = make_gate(compound, "正门")
        household = make_household(compound, "1号楼", "1", "101")
        resident = make_user(world.alliance, "resident", household=household, name="王秀兰")
        pending = make_user(world.alliance, "resident", household=make_household(compound, "1号楼", "1", "102"),
                            residency="pending", name="刘建国")
        guard = make_user(world.alliance, "guard", company=world.company_b, compound=compound, name="张本轩")
        now = datetime.now(UTC)
        order = QuarantineOrder(compound_id=compound_id, household_id=household.id, reason="returned_from_city",
                                starts_at=now - timedelta(days=1), ends_at=now + timedelta(days=13))
        db.session.add(order)
        alert = raise_alert(compound_id, "fever", subject_user_id=resident.id, detail={"celsius": "37.8"})
        db.session.commit()
        ids = {"compound_id": compound_id, "gate_id": gate.id, "household_id": household.id,
               "resident_id": pending.id, "user_id": resident.id, "guard_id": guard.id, "order_id": order.id,
               "alert_id": alert.id}
        resident_user = db.session.get(User, resident.id)
    resident_client = as_user(resident_user)
    delivery = resident_client.post("/api/v1/deliveries", json={
        "client_id": "walk-1", "items": [{"name": "白菜", "quantity": 2, "unit": "斤"}], "drop_point": "door"})
    assert delivery.status_code == 201, delivery.json
    visitor = resident_client.post("/api/v1/visitors", json={"name": "王建华", "phone": "13900001111",
                                                               "expected_date": local_today("Asia/Shanghai").isoformat(),
                                                               "purpose": "探望父母"})
    assert visitor.status_code == 201, visitor.json
    ids |= {"delivery_id": delivery.json["id"], "visitor_id": visitor.json["id"]}
    return Orphan(ids)


def _add_shift(client, orphan: Orphan) -> None:
    start = (datetime.now(UTC) + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    shift = client.post(f"/api/v1/gates/{orphan.ids['gate_id']}/shifts",
                        json={"starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=8)).isoformat()})
    assert shift.status_code == 201, shift.json
    orphan.ids["shift_id"] = shift.json["id"]


def _walk(app, as_user, user, ids: dict[str, int]) -> dict[str, int]:
    """Call every staff route as the user with the given ids; the status of each, by 'METHOD rule'."""
    client = as_user(user)
    statuses = {}
    for rule, method in _staff_routes(app):
        caller = as_user(user) if rule.endpoint in SESSION_ENDING else client
        statuses[f"{method} {rule.rule}"] = caller.open(method, _url(rule, ids), json={}).status_code
    return statuses


# Routes that fetch from WeChat answer 503 here, where no WeChat is configured (test_miniprogram_codes
# walks them against the fake); a 503 anywhere else is a refusal.
NEEDS_WECHAT = ("/miniprogram-code", "/miniprogram-poster.png")


def _refusals(statuses: dict[str, int]) -> list[str]:
    return [f"{route}: {status}" for route, status in statuses.items()
            if status in (401, 403) or (status >= 500 and not (status == 503 and route.endswith(NEEDS_WECHAT)))]


def _missed(app, statuses: dict[str, int], ids: dict[str, int]) -> list[str]:
    """Routes naming only real objects of the compound that the caretaker did not find (404)."""
    return [f"{method} {rule.rule}" for rule, method in _staff_routes(app)
            if rule.arguments and set(rule.arguments) <= set(ids) and statuses[f"{method} {rule.rule}"] == 404]


def _not_hidden(app, as_user, user, statuses: dict[str, int], ids: dict[str, int]) -> list[str]:
    """Routes naming an object of the compound that answered otherwise than for objects that do not
    exist (404, or what the same call with unknown ids answers, e.g. 422 for an empty body)."""
    unknown = _walk(app, as_user, user, {k: v for k, v in ids.items() if k == "company_id"})
    wrong = []
    for rule, method in _staff_routes(app):
        if not set(rule.arguments) & (set(ids) - {"company_id"}):
            continue
        route = f"{method} {rule.rule}"
        if statuses[route] != unknown[route]:
            wrong.append(f"{route}: {statuses[route]}, expected {unknown[route]} as for unknown ids")
    return wrong


def test_the_alliance_admin_runs_a_compound_without_a_company(app, world, as_user, orphan):
    admin = as_user(world.admin)
    _add_shift(admin, orphan)
    # What the admin does there as staff, with real objects (before the walk changes them).
    assert admin.get(f"/api/v1/compounds/{orphan.ids['compound_id']}/households").json["total"] == 2
    assert [a["id"] for a in admin.get("/api/v1/alerts").json["items"]] == [orphan.ids["alert_id"]]
    queue = admin.get(f"/api/v1/compounds/{orphan.ids['compound_id']}/delivery-queue")
    assert queue.status_code == 200 and [d["id"] for d in queue.json["items"]] == [orphan.ids["delivery_id"]]
    assert admin.post(f"/api/v1/households/{orphan.ids['household_id']}/invites").status_code == 201

    statuses = _walk(app, as_user, world.admin, orphan.ids | {"company_id": world.company_a.id})
    assert _refusals(statuses) == []
    assert _missed(app, statuses, orphan.ids | {"company_id": world.company_a.id}) == []
    assert len(statuses) >= 80

    # Company A acts for none of it: every route naming one of its objects is 404.
    outsider = _walk(app, as_user, world.staff_a, orphan.ids | {"company_id": world.company_a.id})
    assert _refusals(outsider) == []
    assert _not_hidden(app, as_user, world.staff_a, outsider, orphan.ids) == []
    assert sum(status == 404 for status in outsider.values()) >= 40
    assert orphan.ids["alert_id"] not in [a["id"] for a in as_user(world.staff_a).get("/api/v1/alerts").json["items"]]


def test_the_entrusted_company_acts_there_as_staff(app, world, as_user, orphan):
    admin = as_user(world.admin)
    entrusted = admin.post(f"/api/v1/alliance/compounds/{orphan.ids['compound_id']}/caretaking",
                           json={"company_id": world.company_b.id, "note": "疫情期间托管"})
    assert entrusted.status_code == 201, entrusted.json
    staff_b = as_user(world.staff_b)
    _add_shift(staff_b, orphan)
    assert [a["id"] for a in staff_b.get("/api/v1/alerts").json["items"]] == [orphan.ids["alert_id"]]
    assert staff_b.post(f"/api/v1/households/{orphan.ids['household_id']}/invites").status_code == 201
    # The admin handed it over: as staff they no longer find it (their alliance-wide reads remain).
    assert admin.get(f"/api/v1/compounds/{orphan.ids['compound_id']}/households").status_code == 404
    assert admin.get(f"/api/v1/compounds/{orphan.ids['compound_id']}").status_code == 200

    statuses = _walk(app, as_user, world.staff_b, orphan.ids | {"company_id": world.company_b.id})
    assert _refusals(statuses) == []
    assert _missed(app, statuses, orphan.ids | {"company_id": world.company_b.id}) == []

    outsider = _walk(app, as_user, world.staff_a, orphan.ids | {"company_id": world.company_a.id})
    assert _refusals(outsider) == []
    assert _not_hidden(app, as_user, world.staff_a, outsider, orphan.ids) == []


def test_another_alliances_staff_find_nothing(app, world, as_user, orphan):
    from server.models.alliance import Alliance
    from tests.factories import make_company

    with app.app_context():
        other = Alliance(name="别的联盟")
        db.session.add(other)
        db.session.flush()
        stranger = make_user(other, "staff", company=make_company(other, "外联物业"))
        db.session.commit()
    statuses = _walk(app, as_user, stranger, orphan.ids)
    assert _refusals(statuses) == []
    assert _not_hidden(app, as_user, stranger, statuses, orphan.ids) == []
