"""Suite 1 of issue #17, object-level access: every route with an id, called by someone of another
household, compound or company with the ids of real objects, answers exactly as for ids that do not exist
(404 wherever the role may call the route at all).

The route list is the app's URL map (as tests/api/test_route_matrix.py builds it); each path parameter is
filled with a real object of household A / compound A / company A. Objects that are shared across the
alliance by design are left out of the real ids: incidents and their pledges (every active member company
is told and may pledge), shift loans and their offers and swaps (offered to other companies), supply
transfers (between two companies): tests/api/test_incidents.py, test_roster_lending.py and
test_supply_races.py hold their own scope. The role x route matrix (test_route_matrix) walks every route
of the URL map, so the alliance, incidents, supplies, trips and inbox routes are in it (checked below).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta

import pytest

from server.extensions import db
from server.models.exposure import ExposureRequest
from server.models.health import QuarantineOrder
from server.models.people import User
from server.models.rosters import GuardLeave, Shift, ShiftAssignment, ShiftTemplate
from server.models.trips import Trip
from server.plumbing.alerts import raise_alert
from server.plumbing.clock import local_today
from server.plumbing.notifications import enqueue
from tests.factories import make_household, make_user

PLACEHOLDER_ID = "999999"
SESSION_ENDING = {"auth.logout"}
# Routes that fetch from WeChat answer 503 where no WeChat is configured (test_miniprogram_codes walks them).
NEEDS_WECHAT = ("/miniprogram-code", "/miniprogram-poster.png")
# Shared with the alliance's members by design: a member company's public record (信用记录, counts without
# the entries' text: services/alliance/company_record.py).
ALLIANCE_SHARED = {"GET /api/v1/companies/<int:company_id>/record"}


def _id_routes(app):
    for rule in app.url_map.iter_rules():
        roles = getattr(app.view_functions[rule.endpoint], "wuye_roles", None)
        if rule.arguments and isinstance(roles, frozenset):
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield rule, method, roles


def _url(rule, ids: dict[str, int]) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: str(ids.get(m.group(1), PLACEHOLDER_ID)), rule.rule)


@pytest.fixture
def tenant_a(app, world, as_user) -> dict[str, int]:
    """Real objects of household A, compound A and company A, by the path parameter naming them."""
    now = datetime.now(UTC)
    with app.app_context():
        compound = db.session.merge(world.compound_a)
        today = local_today(compound.timezone)  # the compound's date, which the API judges by (UTC lags 8 h)
        pending = make_user(world.alliance, "resident", household=make_household(compound, "2号楼", "1", "201"),
                            residency="pending", name="刘建国")
        order = QuarantineOrder(compound_id=compound.id, household_id=world.household_a.id,
                                reason="returned_from_city", starts_at=now - timedelta(days=1),
                                ends_at=now + timedelta(days=13))
        alert = raise_alert(compound.id, "fever", subject_user_id=world.resident_a.id, detail={"celsius": "37.8"})
        start = (now + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
        shift = Shift(compound_id=compound.id, gate_id=world.gate_a.id, starts_at=start,
                      ends_at=start + timedelta(hours=8))
        template = ShiftTemplate(compound_id=compound.id, gate_id=world.gate_a.id, start_time=time(8),
                                 duration_minutes=480)
        leave = GuardLeave(guard_id=world.guard_a.id, starts_at=start + timedelta(days=3),
                           ends_at=start + timedelta(days=4))
        trip = Trip(compound_id=compound.id, user_id=world.resident_a.id, household_id=world.household_a.id,
                    from_city="武汉", returned_at=now - timedelta(days=1), attention_until=now + timedelta(days=13),
                    source="staff")
        request = ExposureRequest(compound_id=compound.id, subject_user_id=world.resident_a.id,
                                  window_start=now - timedelta(days=2), window_end=now, minutes=5,
                                  reason="确诊病例密接排查", requested_by_id=world.staff_a.id)
        db.session.add_all([order, shift, template, leave, trip, request])
        db.session.flush()
        assignment = ShiftAssignment(shift_id=shift.id, guard_id=world.guard_a.id, compound_id=compound.id,
                                     gate_id=world.gate_a.id, starts_at=shift.starts_at, ends_at=shift.ends_at)
        message = enqueue(world.resident_a.id, "alert", {"thing1": "通知"}, dedupe_key="object-access")
        db.session.add(assignment)
        db.session.commit()
        ids = {"compound_id": compound.id, "gate_id": world.gate_a.id, "household_id": world.household_a.id,
               "resident_id": pending.id, "user_id": world.resident_a.id, "guard_id": world.guard_a.id,
               "order_id": order.id, "alert_id": alert.id, "shift_id": shift.id, "template_id": template.id,
               "leave_id": leave.id, "trip_id": trip.id, "request_id": request.id,
               "assignment_id": assignment.id, "message_id": message.id, "company_id": world.company_a.id}
    resident = as_user(world.resident_a)
    delivery = resident.post("/api/v1/deliveries", json={
        "client_id": "oa-1", "items": [{"name": "白菜", "quantity": 2, "unit": "斤"}], "drop_point": "door"})
    visitor = resident.post("/api/v1/visitors", json={"name": "王建华", "phone": "13900001111",
                                                       "expected_date": today.isoformat()})
    assert delivery.status_code == 201 and visitor.status_code == 201, (delivery.json, visitor.json)
    return ids | {"delivery_id": delivery.json["id"], "visitor_id": visitor.json["id"]}


def _walk(app, as_user, user, ids: dict[str, int]) -> dict[str, int]:
    client = as_user(user)
    statuses = {}
    for rule, method, _roles in _id_routes(app):
        caller = as_user(user) if rule.endpoint in SESSION_ENDING else client
        statuses[f"{method} {rule.rule}"] = caller.open(method, _url(rule, ids), json={}).status_code
    return statuses


def _leaks(app, as_user, user, ids: dict[str, int]) -> tuple[list[str], int]:
    """Routes naming tenant A's objects that answered the outsider otherwise than for unknown ids, and how
    many such routes answered 404."""
    real = _walk(app, as_user, user, ids)
    unknown = _walk(app, as_user, user, {})
    leaks, hidden = [], 0
    for rule, method, _roles in _id_routes(app):
        if not set(rule.arguments) & set(ids):
            continue
        route = f"{method} {rule.rule}"
        if route in ALLIANCE_SHARED:
            continue
        status = real[route]
        if status >= 500 and not (status == 503 and route.endswith(NEEDS_WECHAT)):
            leaks.append(f"{route}: {status}")
        elif status != unknown[route]:
            leaks.append(f"{route}: {status}, expected {unknown[route]} as for unknown ids")
        hidden += status == 404
    return leaks, hidden


def test_another_company_finds_nothing_of_company_a(app, world, as_user, tenant_a):
    for outsider in (world.staff_b, world.guard_b):
        leaks, hidden = _leaks(app, as_user, outsider, tenant_a)
        assert leaks == [], f"{outsider.role}: " + "\n".join(leaks)
        assert hidden >= (40 if outsider.role == "staff" else 10)


def test_another_compound_of_the_same_company_finds_nothing(app, world, as_user, tenant_a):
    from tests.factories import make_compound, make_gate

    with app.app_context():
        sibling = make_compound(db.session.merge(world.alliance), db.session.merge(world.company_a), "丙小区")
        make_gate(sibling, "北门")
        guard = make_user(world.alliance, "guard", company=world.company_a, compound=sibling, name="丙保安")
        resident = make_user(world.alliance, "resident", household=make_household(sibling), name="丙居民")
        db.session.commit()
        guard, resident = db.session.get(User, guard.id), db.session.get(User, resident.id)
    # Company A's staff act for both compounds; the guard and the resident of the sibling only for theirs.
    for outsider in (guard, resident):
        leaks, hidden = _leaks(app, as_user, outsider, tenant_a)
        assert leaks == [], f"{outsider.role}: " + "\n".join(leaks)
        assert hidden >= 5


def test_another_household_of_the_same_compound_finds_nothing_of_household_a(app, world, as_user, tenant_a):
    with app.app_context():
        neighbour = make_user(world.alliance, "resident", name="隔壁",
                              household=make_household(db.session.merge(world.compound_a), "3号楼", "1", "301"))
        db.session.commit()
        neighbour = db.session.get(User, neighbour.id)
    household_objects = {k: tenant_a[k] for k in ("household_id", "delivery_id", "visitor_id", "message_id")}
    leaks, hidden = _leaks(app, as_user, neighbour, household_objects)
    assert leaks == [], "\n".join(leaks)
    assert hidden >= 10
    # and resident B, of another compound, finds nothing of compound A either
    leaks, _hidden = _leaks(app, as_user, world.resident_b, tenant_a)
    assert leaks == [], "\n".join(leaks)


def test_the_route_matrix_covers_the_new_domains(app):
    rules = {rule.rule for rule in app.url_map.iter_rules()}
    for prefix in ("/api/v1/alliance/", "/api/v1/incidents", "/api/v1/supplies", "/api/v1/trips", "/api/v1/me/messages",
                   "/api/v1/compounds/<int:compound_id>/trips"):
        assert any(rule.startswith(prefix) for rule in rules), prefix
    # test_route_matrix walks app.url_map itself: a route of these domains cannot escape it.
    import tests.api.test_route_matrix as matrix

    assert matrix._routes.__code__.co_names.count("iter_rules") == 1


def test_fields_a_role_may_not_set_are_refused(app, world, as_user):
    """Role-specific bodies with a field that would raise the caller's power: refused (422), nothing changed."""
    now = datetime.now(UTC)
    resident, guard, staff = as_user(world.resident_a), as_user(world.guard_a), as_user(world.staff_a)
    attempts = [
        (resident, "PATCH", "/api/v1/me", {"role": "staff"}, "role"),
        (resident, "PATCH", "/api/v1/me", {"household_id": world.household_b.id}, "household_id"),
        (resident, "POST", "/api/v1/deliveries", {"client_id": "f-1", "items": [{"name": "米", "quantity": 1,
                                                                                   "unit": "袋"}],
                                                  "drop_point": "door", "status": "delivered"}, "status"),
        (resident, "POST", "/api/v1/visitors", {"name": "王建华", "expected_date": local_today("Asia/Shanghai").isoformat(),
                                                "compound_id": world.compound_b.id}, "compound_id"),
        (resident, "POST", "/api/v1/checkins/self", {"gate_code": world.gate_a.code, "direction": "in",
                                                     "decision": "allowed"}, "decision"),
        (guard, "POST", "/api/v1/checkins", {"pass_code": "WY1.X", "gate_id": world.gate_a.id, "direction": "in",
                                             "client_id": "f-2", "reason": "ok"}, "reason"),
        (guard, "POST", "/api/v1/checkins/batch", {"items": [{"kind": "scan", "pass_code": "WY1.X",
                                                              "gate_id": world.gate_a.id, "direction": "in",
                                                              "client_id": "f-3", "device_time": now.isoformat(),
                                                              "offline": False}]}, "offline"),
        (staff, "PATCH", f"/api/v1/gates/{world.gate_a.id}", {"compound_id": world.compound_b.id}, "compound_id"),
        (staff, "PATCH", f"/api/v1/guards/{world.guard_a.id}", {"company_id": world.company_b.id}, "company_id"),
    ]
    for client, method, url, body, field in attempts:
        response = client.open(method, url, json=body)
        if url.endswith("/batch"):  # each item answers on its own
            result = response.json["results"][0]
            assert result["status"] == 422 and field in str(result["error"]), (url, result)
            continue
        assert response.status_code == 422, (method, url, response.status_code, response.json)
        assert field in str(response.json.get("errors")), (url, response.json)
    with app.app_context():
        me = db.session.get(User, world.resident_a.id)
        assert (me.role, me.household_id) == ("resident", world.household_a.id)
        assert db.session.get(User, world.guard_a.id).company_id == world.company_a.id
