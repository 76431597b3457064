"""Emergency mutual aid: raising tells every member company's staff, pledges move pledged -> departed ->
arrived against a frozen dispatch clock, pledged guards are on the roster and never double-booked,
names are masked for other companies, and the scope holds (another alliance 404, a resident 403)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from server.extensions import db
from server.models.alliance import Alliance
from server.models.audit import AuditEntry
from server.models.incidents import IncidentResponder
from server.models.notifications import Notification
from server.models.rosters import Shift, ShiftAssignment
from tests.concurrency import run_together
from tests.factories import make_company, make_compound, make_user

T0 = datetime(2026, 7, 20, 6, 0, tzinfo=UTC)  # Monday 14:00 in Beijing
WEEK = "2026-07-20"


@pytest.fixture
def frozen():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def more(app, world):
    """A third company with staff and a guard, a worker of B, an inactive staff of A, and another alliance."""
    with app.app_context():
        alliance = db.session.merge(world.alliance)
        company_c = make_company(alliance, "丙物业")
        other = Alliance(name="别的联盟")
        db.session.add(other)
        db.session.flush()
        other_company = make_company(other, "外联盟物业")
        out = {
            "company_c": company_c.id,
            "staff_c": make_user(alliance, "staff", company=company_c, name="丙客服"),
            "guard_c": make_user(alliance, "guard", company=company_c, name="丙保安"),
            "worker_b": make_user(alliance, "staff", company=db.session.merge(world.company_b), name="乙维修工"),
            "guard_b2": make_user(alliance, "guard", company=db.session.merge(world.company_b),
                                  compound=db.session.merge(world.compound_b), name="乙保安二"),
            "inactive_a": make_user(alliance, "staff", company=db.session.merge(world.company_a), name="甲离职",
                                    is_active=False),
            "other_company": other_company.id,
            "other_staff": make_user(other, "staff", company=other_company, name="外客服"),
            "other_admin": make_user(other, "alliance_admin", name="外管理员"),
            "other_compound": make_compound(other, other_company, "外小区").id,
        }
        db.session.commit()
        return out


def flood(staff, compound_id, **kw):
    body = {"compound_id": compound_id, "kind": "flood", "place": "1号楼、2号楼地下室,积水60厘米",
            "needs": [{"item": "people", "quantity": 3}, {"item": "pump", "quantity": 2}], **kw}
    r = staff.post("/api/v1/incidents", json=body)
    assert r.status_code == 201, r.json
    return r.json


def pledge(staff, incident_id, people=(), items=(), **kw):
    return staff.post(f"/api/v1/incidents/{incident_id}/pledges",
                      json={"people": list(people), "items": [{"item": i, "quantity": q} for i, q in items], **kw})


def line(incident, item):
    return next(n for n in incident["needs"] if n["item"] == item)


def test_raising_tells_every_member_companys_staff_and_the_admin(app, world, as_user, more):
    incident = flood(as_user(world.staff_a), world.compound_a.id)
    with app.app_context():
        rows = db.session.scalars(select(Notification).order_by(Notification.user_id)).all()
    expected = sorted([world.staff_b.id, more["staff_c"].id, more["worker_b"].id, world.admin.id])
    # one row per recipient: the raiser, guards, residents, the inactive and another alliance are not told
    assert [n.user_id for n in rows] == expected
    assert {n.dedupe_key for n in rows} == {f"incident:{incident['id']}:user:{uid}" for uid in expected}
    assert {(n.kind, n.data["thing2"], n.status) for n in rows} == {("incident", "甲小区", "pending")}
    assert rows[0].data["thing1"].startswith("汛情抢险") and rows[0].page == f"pages/incidents/detail?id={incident['id']}"
    # the admin raising at the company-less compound: every staff member of every company is told
    flood(as_user(world.admin), world.compound_orphan.id)
    with app.app_context():
        second = db.session.scalars(select(Notification.user_id).where(Notification.id > rows[-1].id)
                                    .order_by(Notification.user_id)).all()
    assert second == sorted([world.staff_a.id, world.staff_b.id, more["staff_c"].id, more["worker_b"].id])


def test_dispatch_clock_and_need_lines_per_stage(app, world, as_user, more, frozen):
    raiser, b, c = as_user(world.staff_a), as_user(world.staff_b), as_user(more["staff_c"])
    incident = flood(raiser, world.compound_a.id)
    iid = incident["id"]
    assert incident["clock"]["target_minutes"] == 10 and incident["clock"]["first_arrival_within_target"] is None
    assert line(incident, "pump") | {"note": ""} == {
        "item": "pump", "note": "", "requested": 2, "pledged": 0, "departed": 0, "arrived": 0, "missing": 2,
        "outstanding": 2, "pledge_status": "none", "transit_status": "none", "fulfil_status": "none"}

    frozen.move_to(T0 + timedelta(minutes=1))
    p1 = pledge(b, iid, people=[world.guard_b.id, more["worker_b"].id], items=[("pump", 1)])
    assert p1.status_code == 201, p1.json
    assert p1.json["status"] == "pledged" and p1.json["company_name"] == "乙物业"
    frozen.move_to(T0 + timedelta(minutes=2))
    p2 = pledge(c, iid, people=[more["guard_c"].id], items=[("pump", 1)]).json
    got = raiser.get(f"/api/v1/incidents/{iid}").json
    assert [(n["item"], n["pledged"], n["missing"], n["pledge_status"]) for n in got["needs"]] == [
        ("people", 3, 0, "complete"), ("pump", 2, 0, "complete")]

    frozen.move_to(T0 + timedelta(minutes=3))
    assert b.post(f"/api/v1/incident-pledges/{p1.json['id']}/arrive").json["reason"] == "pledge_not_movable"
    assert b.post(f"/api/v1/incident-pledges/{p1.json['id']}/depart").json["departed_at"] == \
        "2026-07-20T06:03:00+00:00"
    frozen.move_to(T0 + timedelta(minutes=8))
    assert b.post(f"/api/v1/incident-pledges/{p1.json['id']}/arrive").status_code == 200
    got = raiser.get(f"/api/v1/incidents/{iid}").json
    assert got["clock"]["seconds_to_first_arrival"] == 480
    assert got["clock"]["first_arrival_within_target"] is True and got["clock"]["needs_met_at"] is None
    assert [(n["item"], n["departed"], n["arrived"], n["outstanding"], n["fulfil_status"]) for n in got["needs"]] == [
        ("people", 2, 2, 1, "partial"), ("pump", 1, 1, 1, "partial")]
    # another company's staff cannot move B's pledge (not theirs: 404)
    assert c.post(f"/api/v1/incident-pledges/{p1.json['id']}/cancel").status_code == 404

    frozen.move_to(T0 + timedelta(minutes=11))
    assert got["clock"]["overdue"] is False
    assert raiser.get(f"/api/v1/incidents/{iid}").json["clock"]["overdue"] is True
    c.post(f"/api/v1/incident-pledges/{p2['id']}/depart")
    frozen.move_to(T0 + timedelta(minutes=12, seconds=30))
    c.post(f"/api/v1/incident-pledges/{p2['id']}/arrive")
    clock = raiser.get(f"/api/v1/incidents/{iid}").json["clock"]
    assert (clock["seconds_to_needs_met"], clock["needs_met_within_target"], clock["overdue"]) == (750, False, False)
    assert clock["seconds_to_first_arrival"] == 480  # the first arrival stays the first

    # a configurable target: the same times against 15 minutes
    frozen.move_to(T0 + timedelta(minutes=15))
    raiser, b, c = as_user(world.staff_a), as_user(world.staff_b), as_user(more["staff_c"])  # fresh tokens
    later = flood(raiser, world.compound_a.id, target_minutes=15, needs=[{"item": "sandbags", "quantity": 50}])
    p = pledge(b, later["id"], items=[("sandbags", 50)]).json
    b.post(f"/api/v1/incident-pledges/{p['id']}/depart")
    frozen.move_to(T0 + timedelta(minutes=29))
    b.post(f"/api/v1/incident-pledges/{p['id']}/arrive")
    clock = raiser.get(f"/api/v1/incidents/{later['id']}").json["clock"]
    assert (clock["target_minutes"], clock["seconds_to_needs_met"], clock["needs_met_within_target"]) == (15, 840, True)

    # closing: only the raising side; then nothing moves any more and the summary stays
    assert c.post(f"/api/v1/incidents/{iid}/close", json={"summary": "x"}).json["reason"] == "incident_not_raiser"
    frozen.move_to(T0 + timedelta(minutes=40))
    raiser, b = as_user(world.staff_a), as_user(world.staff_b)
    closed = raiser.post(f"/api/v1/incidents/{iid}/close", json={"summary": "积水排净,无人员伤亡"})
    assert closed.status_code == 200 and closed.json["status"] == "closed" and closed.json["summary"] == "积水排净,无人员伤亡"
    assert closed.json["clock"]["elapsed_seconds"] == 2400 and closed.json["can_close"] is False
    assert pledge(b, iid, items=[("pump", 1)]).json["reason"] == "incident_closed"
    assert raiser.post(f"/api/v1/incidents/{iid}/close", json={"summary": "again"}).status_code == 409
    listed = raiser.get("/api/v1/incidents?status=closed").json
    assert [i["id"] for i in listed["items"]] == [iid] and "pledges" not in listed["items"][0]


def test_pledges_are_checked(app, world, as_user, more, frozen):
    b = as_user(world.staff_b)
    iid = flood(as_user(world.staff_a), world.compound_a.id)["id"]
    assert pledge(b, iid).json["reason"] == "pledge_empty"
    assert "people" in pledge(b, iid, people=[more["guard_c"].id]).json["errors"]["json"]  # not B's
    assert "people" in pledge(b, iid, people=[world.resident_b.id]).json["errors"]["json"]
    assert "items" in pledge(b, iid, items=[("masks", 100)]).json["errors"]["json"]  # not needed
    assert "items" in pledge(b, iid, items=[("people", 3)]).json["errors"]["json"]  # people by name
    assert pledge(b, iid, items=[("pump", 1)], until=(T0 + timedelta(hours=25)).isoformat()).status_code == 422
    assert pledge(b, iid, items=[("pump", 0)]).status_code == 422
    assert as_user(world.admin).post(f"/api/v1/incidents/{iid}/pledges", json={"items": []}).status_code == 403
    bad = as_user(world.staff_a).post("/api/v1/incidents", json={
        "compound_id": world.compound_a.id, "kind": "flood", "place": "x",
        "needs": [{"item": "pump", "quantity": 1}, {"item": "pump", "quantity": 2}]})
    assert bad.json["reason"] == "incident_duplicate_need"
    # staff raise only at their own compounds
    assert as_user(world.staff_b).post("/api/v1/incidents", json={
        "compound_id": world.compound_a.id, "kind": "fire", "place": "x",
        "needs": [{"item": "people", "quantity": 1}]}).status_code == 404


def _shift(app, world, starts, hours=8):
    with app.app_context():
        shift = Shift(compound_id=world.compound_b.id, gate_id=world.gate_b.id, starts_at=starts,
                      ends_at=starts + timedelta(hours=hours))
        db.session.add(shift)
        db.session.commit()
        return shift.id


def test_a_pledged_guard_and_a_shift_at_once_are_refused_both_ways(app, world, as_user, more, frozen):
    b = as_user(world.staff_b)
    iid = flood(as_user(world.staff_a), world.compound_a.id)["id"]
    # guard_b stands a shift starting in 2 h: a 4 h pledge from now clashes with it
    on_shift = _shift(app, world, T0 + timedelta(hours=2))
    assert b.post(f"/api/v1/shifts/{on_shift}/assignments", json={"guard_id": world.guard_b.id}).status_code == 201
    r = pledge(b, iid, people=[world.guard_b.id])
    assert (r.status_code, r.json["reason"], r.json["shift_ids"], r.json["user_id"]) == (
        409, "incident_guard_on_shift", [on_shift], world.guard_b.id)
    # pledged only until the shift begins: fine
    ok = pledge(b, iid, people=[world.guard_b.id], until=(T0 + timedelta(hours=2)).isoformat())
    assert ok.status_code == 201, ok.json
    # the other way: guard_b2 pledged for 4 h, then a shift in that time is refused
    assert pledge(b, iid, people=[more["guard_b2"].id]).status_code == 201
    clash = _shift(app, world, T0 + timedelta(hours=1))
    r = b.post(f"/api/v1/shifts/{clash}/assignments", json={"guard_id": more["guard_b2"].id})
    assert (r.status_code, r.json["reason"], r.json["rule"]) == (409, "roster_incident_duty", "roster_incident_duty")
    assert r.json["violations"][0]["incident_ids"] == [iid]
    # a shift after the pledged time is fine
    after = _shift(app, world, T0 + timedelta(hours=4))
    r = b.post(f"/api/v1/shifts/{after}/assignments", json={"guard_id": more["guard_b2"].id})
    assert r.status_code == 201, r.json
    # the same guard cannot be pledged twice at once, to this incident or another
    other = flood(as_user(world.admin), world.compound_orphan.id)["id"]
    assert pledge(b, other, people=[more["guard_b2"].id]).json["reason"] == "incident_person_busy"

    # the pledged guards are on the roster: the home compound's grid and the guard's own schedule
    grid = b.get(f"/api/v1/compounds/{world.compound_b.id}/roster?week={WEEK}").json
    assert sorted((d["guard_id"], d["incident_id"], d["source"]) for d in grid["incident_duty"]) == sorted(
        [(world.guard_b.id, iid, "incident"), (more["guard_b2"].id, iid, "incident")])
    mine = as_user(more["guard_b2"]).get("/api/v1/rosters/mine").json
    assert [(d["incident_id"], d["compound_name"], d["ends_at"]) for d in mine["incident_duty"]] == [
        (iid, "甲小区", "2026-07-20T10:00:00+00:00")]
    raiser_grid = as_user(world.staff_a).get(f"/api/v1/compounds/{world.compound_a.id}/roster?week={WEEK}").json
    assert len(raiser_grid["incident_duty"]) == 2  # at the incident's compound too

    # cancelling frees the guard; closing ends the bookings
    pledge_id = mine["incident_duty"][0]["pledge_id"]
    assert b.post(f"/api/v1/incident-pledges/{pledge_id}/cancel").json["status"] == "cancelled"
    freed = pledge(b, other, people=[more["guard_b2"].id], until=(T0 + timedelta(hours=4)).isoformat())
    assert freed.status_code == 201, freed.json
    frozen.move_to(T0 + timedelta(minutes=30))
    as_user(world.staff_a).post(f"/api/v1/incidents/{iid}/close", json={"summary": "done"})
    with app.app_context():
        live = db.session.scalars(select(IncidentResponder).where(IncidentResponder.active.is_(True))).all()
        assert sorted((r.incident_id, r.user_id, r.ends_at) for r in live) == [
            (iid, world.guard_b.id, T0 + timedelta(minutes=30)), (other, more["guard_b2"].id, T0 + timedelta(hours=4))]


def test_two_pledges_of_one_guard_at_once_exactly_one_wins(app, world, as_user, more):
    first = flood(as_user(world.staff_a), world.compound_a.id)["id"]
    second = flood(as_user(world.admin), world.compound_orphan.id)["id"]
    staff = [as_user(world.staff_b), as_user(more["worker_b"])]
    for round_, (x, y) in enumerate([(first, first), (first, second)]):
        guard = world.guard_b.id if round_ == 0 else more["guard_b2"].id
        answers = run_together([lambda c=c, i=i, g=guard: pledge(c, i, people=[g])
                                for c, i in zip(staff, (x, y), strict=True)])
        assert sorted(r.status_code for r in answers) == [201, 409], [r.json for r in answers]
        assert {r.json.get("reason") for r in answers if r.status_code == 409} == {"incident_person_busy"}
    with app.app_context():
        assert len(db.session.scalars(select(IncidentResponder)).all()) == 2


def test_a_pledged_guard_and_a_shift_assignment_racing_one_wins(app, world, as_user, more, frozen):
    iid = flood(as_user(world.staff_a), world.compound_a.id)["id"]
    shift = _shift(app, world, T0 + timedelta(hours=1))
    b, worker = as_user(world.staff_b), as_user(more["worker_b"])
    answers = run_together([lambda: pledge(b, iid, people=[world.guard_b.id]),
                            lambda: worker.post(f"/api/v1/shifts/{shift}/assignments", json={"guard_id": world.guard_b.id})])
    assert sorted(r.status_code for r in answers) == [201, 409], [r.json for r in answers]
    with app.app_context():
        booked = len(db.session.scalars(select(IncidentResponder)).all()) + \
            len(db.session.scalars(select(ShiftAssignment)).all())
    assert booked == 1


def test_names_are_full_for_the_raiser_and_own_company_masked_for_others(app, world, as_user, more):
    iid = flood(as_user(world.staff_a), world.compound_a.id)["id"]
    pledge(as_user(world.staff_b), iid, people=[world.guard_b.id])

    def names(user):
        body = as_user(user).get(f"/api/v1/incidents/{iid}").json
        return [p["name"] for pl in body["pledges"] for p in pl["people"]]

    assert names(world.staff_a) == ["乙保安"]  # the raising side sees who is coming
    assert names(world.staff_b) == ["乙保安"]  # their own company
    assert names(world.admin) == ["乙保安"]
    assert names(more["staff_c"]) == ["乙**"]  # another company: masked
    with app.app_context():
        reads = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "incident_people_read")).all()
        # the raiser's and the admin's reads of another company's people are audited
        assert sorted(e.actor_id for e in reads) == sorted([world.staff_a.id, world.admin.id])
    summary = as_user(more["staff_c"]).get("/api/v1/incidents").json["items"][0]
    assert "pledges" not in summary and "乙保安" not in str(summary)


def test_scope_another_alliance_404_a_resident_403(app, world, as_user, more):
    iid = flood(as_user(world.staff_a), world.compound_a.id)["id"]
    outsider, outside_admin = as_user(more["other_staff"]), as_user(more["other_admin"])
    assert outsider.get(f"/api/v1/incidents/{iid}").status_code == 404
    assert outside_admin.get(f"/api/v1/incidents/{iid}").status_code == 404
    assert outside_admin.post(f"/api/v1/incidents/{iid}/close", json={"summary": "x"}).status_code == 404
    assert pledge(outsider, iid, items=[("pump", 1)]).status_code == 404
    assert outsider.get("/api/v1/incidents").json["total"] == 0
    assert as_user(world.admin).post("/api/v1/incidents", json={
        "compound_id": more["other_compound"], "kind": "fire", "place": "x",
        "needs": [{"item": "people", "quantity": 1}]}).status_code == 404
    assert outsider.get(f"/api/v1/companies/{world.company_a.id}/record").status_code == 404
    assert as_user(world.admin).get(f"/api/v1/companies/{more['other_company']}/record").status_code == 404
    assert outside_admin.post(f"/api/v1/companies/{world.company_a.id}/record/entries",
                              json={"kind": "note", "remark": "x"}).status_code == 404
    for user in (world.resident_a, world.guard_a):
        client = as_user(user)
        assert client.get(f"/api/v1/incidents/{iid}").status_code == 403
        assert client.get("/api/v1/incidents").status_code == 403
        assert client.get(f"/api/v1/companies/{world.company_a.id}/record").status_code == 403
        assert client.get("/api/v1/alliance/record").status_code == 403


def test_record_endpoints_and_admin_entries(app, world, as_user, more, frozen):
    raiser, b = as_user(world.staff_a), as_user(world.staff_b)
    iid = flood(raiser, world.compound_a.id)["id"]
    p = pledge(b, iid, people=[world.guard_b.id], items=[("pump", 2)]).json
    b.post(f"/api/v1/incident-pledges/{p['id']}/depart")
    frozen.move_to(T0 + timedelta(minutes=9))
    b.post(f"/api/v1/incident-pledges/{p['id']}/arrive")
    admin = as_user(world.admin)
    entry = admin.post(f"/api/v1/companies/{world.company_b.id}/record/entries",
                       json={"kind": "commendation", "remark": "十分钟内抵达万龙小区", "incident_id": iid})
    assert entry.status_code == 201 and entry.json["kind"] == "commendation"
    assert admin.post(f"/api/v1/companies/{world.company_b.id}/record/entries",
                      json={"kind": "medal", "remark": "x"}).status_code == 422
    assert admin.post(f"/api/v1/companies/{world.company_b.id}/record/entries",
                      json={"kind": "note", "remark": "x", "incident_id": 999}).status_code == 422
    assert b.post(f"/api/v1/companies/{world.company_b.id}/record/entries",
                  json={"kind": "note", "remark": "x"}).status_code == 403

    own = b.get(f"/api/v1/companies/{world.company_b.id}/record").json
    assert own["help_given"] == {"incidents": 1, "pledges": 1, "people_arrived": 1, "items_arrived": 2}
    assert own["response"]["mean_seconds_raise_to_arrival"] == 540 and own["response"]["arrived_within_target"] == 1
    assert [e["remark"] for e in own["entry_list"]] == ["十分钟内抵达万龙小区"]
    seen_by_other = as_user(more["staff_c"]).get(f"/api/v1/companies/{world.company_b.id}/record").json
    assert seen_by_other["entries"]["commendation"] == 1 and "entry_list" not in seen_by_other
    everyone = admin.get("/api/v1/alliance/record").json
    assert [c["company_id"] for c in everyone["companies"]] == [world.company_a.id, world.company_b.id,
                                                               more["company_c"]]
    assert everyone["companies"][0]["help_received"] == {"incidents": 1, "pledges": 1, "pledges_arrived": 1}
    # aggregates only: no names of people anywhere in the records
    assert "乙保安" not in str(everyone) and "乙保安" not in str(own) and "entry_list" not in str(everyone)


def test_demo_flood_at_wanlong(app, frozen):
    from server.demo.load import load_demo
    from server.models.incidents import Incident
    from server.models.people import User
    from server.services.alliance.company_record import alliance_records
    from server.services.alliance.incident_views import incident_detail

    with app.app_context():
        org = load_demo()
        incident = db.session.scalar(select(Incident))
        admin = db.session.scalar(select(User).where(User.role == "alliance_admin"))
        shown = incident_detail(admin, incident)
        assert (shown["compound_name"], shown["kind"], shown["status"]) == ("万龙小区", "flood", "closed")
        assert "60厘米" in shown["place"] and "1号楼、2号楼" in shown["place"] and shown["summary"]
        assert [(n["item"], n["requested"], n["arrived"], n["fulfil_status"]) for n in shown["needs"]] == [
            ("people", 10, 10, "complete"), ("pump", 2, 2, "complete")]
        clock = shown["clock"]
        assert clock["needs_met_within_target"] is True and clock["seconds_to_needs_met"] <= 600
        assert clock["seconds_to_first_arrival"] == 420
        records = {r["company_name"]: r for r in alliance_records(org.alliance.id)}
        assert records["京安保安服务公司"]["help_given"]["people_arrived"] == 6
        assert records["万龙物业"]["help_received"] == {"incidents": 1, "pledges": 2, "pledges_arrived": 2}
        assert records["龙锦物业"]["entries"]["commendation"] == 1
        db.session.rollback()


def test_a_person_is_pledged_again_once_their_duty_is_over(app, world, as_user, frozen):
    iid = flood(as_user(world.staff_a), world.compound_a.id)["id"]
    first = pledge(as_user(world.staff_b), iid, people=[world.guard_b.id], until=(T0 + timedelta(hours=1)).isoformat())
    assert first.status_code == 201
    frozen.move_to(T0 + timedelta(minutes=30))
    busy = pledge(as_user(world.staff_b), iid, people=[world.guard_b.id])
    assert (busy.status_code, busy.json["reason"], busy.json["incident_ids"]) == (409, "incident_person_busy", [iid])
    frozen.move_to(T0 + timedelta(hours=1))
    again = pledge(as_user(world.staff_b), iid, people=[world.guard_b.id])
    assert again.status_code == 201, again.json
    shown = as_user(world.staff_a).get(f"/api/v1/incidents/{iid}").json
    assert line(shown, "people")["pledged"] == 1  # the same guard twice, one duty after the other, is one person
    assert [len(p["people"]) for p in shown["pledges"]] == [1, 1]
