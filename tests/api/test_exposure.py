"""Exposure look-up: a reasoned request, a second person's approval, audited reads, a safe CSV export."""

from __future__ import annotations

import codecs
import csv
import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import openpyxl
import time_machine
from sqlalchemy import insert, select

from server.extensions import db
from server.models.audit import AuditEntry
from server.models.checkins import CheckIn
from server.plumbing.csv_export import escape_cell
from tests.factories import make_household, make_user

T0 = datetime(2020, 2, 3, 0, 30, tzinfo=UTC)
NOW = T0 + timedelta(days=2)


def passage(world, n, *, user_id=None, household_id=None, person_name="", at=T0, gate_id=None,
            decision="allowed", compound_id=None) -> dict:
    """A check-in row (at compound A's main gate unless told)."""
    return {"compound_id": compound_id or world.compound_a.id, "gate_id": gate_id or world.gate_a.id,
            "subject_user_id": user_id,
            "household_id": household_id, "person_name": person_name, "direction": "in", "method": "guard_scan",
            "decision": decision, "reason": "ok" if decision == "allowed" else "pass_expired", "flags": [],
            "author_id": world.guard_a.id, "client_id": f"x-{n}", "fingerprint": "x", "server_time": at,
            "occurred_at": at, "lawful_basis": "consent", "reply": {}, "note": ""}


def seed(app, world) -> dict:
    """The subject passes gate A at T0; others pass within and outside 10 minutes."""
    with app.app_context():
        alliance = db.session.merge(world.alliance)
        household = make_household(db.session.merge(world.compound_a))
        near = make_user(alliance, "resident", household=household, name="=HYPERLINK(\"x\")")
        near.phone = "+8613800000000"
        far = make_user(alliance, "resident", household=household, name="远方")
        rows = [
            passage(world, 1, user_id=world.resident_a.id, at=T0),
            passage(world, 2, user_id=near.id, at=T0 + timedelta(minutes=4)),
            passage(world, 3, user_id=near.id, at=T0 + timedelta(minutes=6)),
            passage(world, 4, user_id=far.id, at=T0 + timedelta(minutes=30)),
            passage(world, 5, household_id=household.id, person_name="王奶奶", at=T0 - timedelta(minutes=9)),
            passage(world, 6, user_id=far.id, at=T0 + timedelta(minutes=1), decision="denied"),
            passage(world, 7, user_id=world.resident_b.id, at=T0 + timedelta(minutes=1), gate_id=world.gate_b.id),
        ]
        db.session.execute(insert(CheckIn), rows)
        db.session.commit()
        return {"near": near.id, "far": far.id}


def request_body(world, **extra) -> dict:
    """A request about resident A on 2020-02-03."""
    return {"subject_user_id": world.resident_a.id, "window_start": "2020-02-03T00:00:00+08:00",
            "window_end": "2020-02-04T00:00:00+08:00", "minutes": 10, "reason": "确诊病例密接排查", **extra}


@time_machine.travel(NOW, tick=False)
def test_two_people_are_needed_and_every_step_is_audited(app, world, as_user):
    people = seed(app, world)
    staff, admin = as_user(world.staff_a), as_user(world.admin)
    created = staff.post("/api/v1/exposure-requests", json=request_body(world))
    assert created.status_code == 201 and created.json["status"] == "pending"
    request_id = created.json["id"]
    assert staff.get(f"/api/v1/exposure-requests/{request_id}/contacts").status_code == 409
    assert staff.post(f"/api/v1/exposure-requests/{request_id}/approve", json={}).status_code == 403
    # The admin acts as staff only at the compounds they run: this compound is company A's, so 404.
    assert admin.get(f"/api/v1/exposure-requests/{request_id}/contacts").status_code == 404
    approved = admin.post(f"/api/v1/exposure-requests/{request_id}/approve", json={"note": "同意"})
    assert approved.json["status"] == "approved" and approved.json["decided_by_id"] == world.admin.id
    assert admin.post(f"/api/v1/exposure-requests/{request_id}/approve", json={}).status_code == 409
    result = staff.get(f"/api/v1/exposure-requests/{request_id}/contacts").json
    contacts = {(c["kind"], c["user_id"], c["name"]): c for c in result["contacts"]}
    assert set(contacts) == {("resident", people["near"], '=HYPERLINK("x")'), ("household", None, "王奶奶")}
    near = contacts[("resident", people["near"], '=HYPERLINK("x")')]
    assert (near["encounters"], near["gap_seconds"], near["gate_name"]) == (2, 240, "正门")
    assert near["phone"] == "+8613800000000"
    # Another staff member of the same company did not ask: nothing to read.
    with app.app_context():
        colleague = make_user(db.session.merge(world.alliance), "staff", company=db.session.merge(world.company_a))
        db.session.commit()
    assert as_user(colleague).get(f"/api/v1/exposure-requests/{request_id}/contacts").status_code == 404
    staff.get(f"/api/v1/exposure-requests/{request_id}/contacts")
    with app.app_context():
        actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.object_id == str(request_id))
                                     .order_by(AuditEntry.id)).all()
        assert actions == ["exposure.request", "exposure.approve", "exposure.read", "exposure.read"]
        assert db.session.scalar(select(AuditEntry.reason).where(AuditEntry.action == "exposure.request")) == \
            "确诊病例密接排查"


@time_machine.travel(NOW, tick=False)
def test_csv_export_escapes_formula_cells(app, world, as_user):
    seed(app, world)
    staff = as_user(world.staff_a)
    request_id = staff.post("/api/v1/exposure-requests", json=request_body(world)).json["id"]
    as_user(world.admin).post(f"/api/v1/exposure-requests/{request_id}/approve", json={})
    response = staff.get(f"/api/v1/exposure-requests/{request_id}/contacts.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.data.startswith(codecs.BOM_UTF8)  # Excel on Windows reads the Chinese text
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0] == ["类别", "姓名", "电话", "住户", "出入口", "首次接触时间", "当事人通过时间", "间隔(秒)", "接触次数", "含离线补传"]
    by_name = {row[1]: row for row in rows[1:]}
    assert "'=HYPERLINK(\"x\")" in by_name and by_name["'=HYPERLINK(\"x\")"][2] == "'+8613800000000"
    near = by_name["'=HYPERLINK(\"x\")"]
    assert near[0] == "居民"
    # Local times (Beijing), as Excel shows them: T0 is 08:30 there.
    assert near[6] == "2020-02-03 08:30:00"
    with app.app_context():
        assert db.session.scalar(select(AuditEntry.action).where(AuditEntry.action == "exposure.export"))


@time_machine.travel(NOW, tick=False)
def test_xlsx_export_reads_back_equal_to_the_data_with_formulas_as_text(app, world, as_user):
    seed(app, world)
    staff = as_user(world.staff_a)
    request_id = staff.post("/api/v1/exposure-requests", json=request_body(world)).json["id"]
    as_user(world.admin).post(f"/api/v1/exposure-requests/{request_id}/approve", json={})
    contacts = staff.get(f"/api/v1/exposure-requests/{request_id}/contacts").json["contacts"]
    response = staff.get(f"/api/v1/exposure-requests/{request_id}/contacts.xlsx")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("类别", "姓名", "电话")
    shanghai = ZoneInfo("Asia/Shanghai")
    expected = [
        (c["name"], c["phone"], c["gate_name"],
         datetime.fromisoformat(c["subject_passed_at"]).astimezone(shanghai).replace(tzinfo=None),
         c["gap_seconds"], c["encounters"]) for c in contacts]
    assert [(r[1], r[2], r[4], r[6], r[7], r[8]) for r in rows[1:]] == expected
    formula = next(row for row in sheet.iter_rows(min_row=2) if row[1].value == "=HYPERLINK(\"x\")")
    assert formula[1].data_type == "s" and formula[1].quotePrefix  # text, never a formula
    assert formula[2].value == "+8613800000000" and formula[2].data_type == "s"
    with app.app_context():
        entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "exposure.export")).all()
        assert len(entries) == 1  # the JSON read is exposure.read; the workbook is an export


def test_escape_cell():
    assert [escape_cell(v) for v in ("=1+1", "+1", "-1", "@SUM", "\tx", "\rx", "正常", None, 5)] == [
        "'=1+1", "'+1", "'-1", "'@SUM", "'\tx", "'\rx", "正常", "", "5"]


@time_machine.travel(NOW, tick=False)
def test_rejected_and_out_of_scope_requests(app, world, as_user):
    staff = as_user(world.staff_a)
    request_id = staff.post("/api/v1/exposure-requests", json=request_body(world)).json["id"]
    rejected = as_user(world.admin).post(f"/api/v1/exposure-requests/{request_id}/reject", json={"note": "理由不足"})
    assert rejected.json["status"] == "rejected"
    assert staff.get(f"/api/v1/exposure-requests/{request_id}/contacts").status_code == 409
    assert as_user(world.staff_b).post("/api/v1/exposure-requests", json=request_body(world)).status_code == 404
    assert as_user(world.staff_b).get(f"/api/v1/exposure-requests/{request_id}").status_code == 404
    assert staff.post("/api/v1/exposure-requests", json=request_body(world, reason=" ")).status_code == 422
    assert staff.post("/api/v1/exposure-requests", json=request_body(
        world, window_end="2020-02-02T00:00:00+08:00")).status_code == 422
    for minutes in (0, 1.5, "15", True, 241):
        refused = staff.post("/api/v1/exposure-requests", json=request_body(world, minutes=minutes))
        assert refused.status_code == 422 and "minutes" in refused.json["errors"]["json"], minutes
    listed = as_user(world.admin).get("/api/v1/exposure-requests?status=rejected").json
    assert listed["total"] == 1


@time_machine.travel(NOW, tick=False)
def test_a_subject_who_moved_reveals_nothing_of_the_other_companys_compound(app, world, as_user):
    with app.app_context():
        alliance = db.session.merge(world.alliance)
        neighbour_b = make_user(alliance, "resident", household=db.session.merge(world.household_b), name="乙邻居")
        neighbour_a = make_user(alliance, "resident", household=db.session.merge(world.household_a), name="甲邻居")
        mover = make_user(alliance, "resident", household=db.session.merge(world.household_b), name="搬家人")
        b = {"compound_id": world.compound_b.id, "gate_id": world.gate_b.id}
        db.session.execute(insert(CheckIn), [
            # In the morning the subject still lived in company B's compound, among B's residents.
            passage(world, 1, user_id=mover.id, at=T0, **b),
            passage(world, 2, user_id=neighbour_b.id, at=T0 + timedelta(minutes=2), **b),
            passage(world, 3, user_id=world.resident_b.id, at=T0 - timedelta(minutes=3), **b),
            # A's own resident passed B's gate too (a visit): still B's compound's record.
            passage(world, 4, user_id=neighbour_a.id, at=T0 + timedelta(minutes=1), **b),
            # Later the same day, now in compound A.
            passage(world, 5, user_id=mover.id, at=T0 + timedelta(hours=6)),
            passage(world, 6, user_id=neighbour_a.id, at=T0 + timedelta(hours=6, minutes=5)),
        ])
        db.session.get(type(mover), mover.id).household_id = world.household_a.id
        db.session.commit()
        mover_id, neighbour_a_id = mover.id, neighbour_a.id
    staff = as_user(world.staff_a)
    created = staff.post("/api/v1/exposure-requests", json=request_body(world, subject_user_id=mover_id))
    assert created.status_code == 201 and created.json["compound_id"] == world.compound_a.id
    request_id = created.json["id"]
    as_user(world.admin).post(f"/api/v1/exposure-requests/{request_id}/approve", json={})
    contacts = staff.get(f"/api/v1/exposure-requests/{request_id}/contacts").json["contacts"]
    assert [(c["user_id"], c["gate_id"], c["encounters"], c["gap_seconds"]) for c in contacts] == [
        (neighbour_a_id, world.gate_a.id, 1, 300)]
    rows = list(csv.reader(io.StringIO(staff.get(f"/api/v1/exposure-requests/{request_id}/contacts.csv")
                                       .data.decode("utf-8-sig"))))
    assert [row[1] for row in rows[1:]] == ["甲邻居"]


@time_machine.travel(NOW, tick=False)
def test_contacts_are_found_at_the_window_edges(app, world, as_user):
    with app.app_context():
        alliance = db.session.merge(world.alliance)
        household = make_household(db.session.merge(world.compound_a))
        edge = make_user(alliance, "resident", household=household, name="边界")
        beyond = make_user(alliance, "resident", household=household, name="界外")
        db.session.execute(insert(CheckIn), [
            passage(world, 1, user_id=world.resident_a.id, at=T0),
            passage(world, 2, user_id=world.resident_a.id, at=T0 + timedelta(hours=1)),
            passage(world, 3, user_id=edge.id, at=T0 + timedelta(minutes=10)),           # exactly 10 minutes
            passage(world, 4, user_id=edge.id, at=T0 + timedelta(minutes=50)),           # 10 before the second
            passage(world, 5, user_id=beyond.id, at=T0 - timedelta(minutes=10, microseconds=1000)),
        ])
        db.session.commit()
        edge_id = edge.id
    staff = as_user(world.staff_a)
    request_id = staff.post("/api/v1/exposure-requests", json=request_body(world)).json["id"]
    as_user(world.admin).post(f"/api/v1/exposure-requests/{request_id}/approve", json={})
    contacts = staff.get(f"/api/v1/exposure-requests/{request_id}/contacts").json["contacts"]
    assert [(c["user_id"], c["encounters"], c["gap_seconds"]) for c in contacts] == [(edge_id, 2, 600)]


def test_out_of_range_input_is_422(app, world, as_user):
    staff = as_user(world.staff_a)
    for extra in ({"subject_user_id": 2**40}, {"subject_user_id": "1"}, {"subject_user_id": 0},
                  {"window_start": "9999-12-31T00:00:00+00:00", "window_end": "9999-12-31T23:00:00+00:00"},
                  {"window_start": "0001-01-01T00:00:00+00:00"}):
        response = staff.post("/api/v1/exposure-requests", json=request_body(world, **extra))
        assert response.status_code == 422, (extra, response.json)
