"""Temperature API: guards at a gate, residents' self-reports, histories, daily counts, audit rows."""

import csv
import io
from datetime import UTC, datetime, timedelta

import openpyxl
import pytest
import time_machine
from sqlalchemy import select

from server.extensions import db
from server.models.alerts import Alert
from server.models.alliance import Alliance
from server.models.audit import AuditEntry
from server.models.compounds import Compound, Household
from server.models.health import TemperatureReading
from server.models.people import User
from tests.factories import make_gate, make_user

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai


@pytest.fixture
def emergency(app, world):
    """Compound A has declared a public-health emergency (the lawful basis of its readings)."""
    with app.app_context():
        db.session.get(Compound, world.compound_a.id).health_emergency = True
        db.session.commit()
    return world


def _measure(as_user, w, celsius, **body):
    return as_user(w.guard_a).post(f"/api/v1/gates/{w.gate_a.id}/temperatures",
                                   json={"subject_user_id": w.resident_a.id, "celsius": celsius, **body})


def _audit(app, action):
    with app.app_context():
        return db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)).all()


def test_guard_measures_37_2_normal_then_37_3_remeasure_then_fever(emergency, as_user):
    w = emergency
    with time_machine.travel(T0, tick=False):
        normal = _measure(as_user, w, 37.2, client_id="a1")
        first = _measure(as_user, w, 37.3, client_id="a2")
    with time_machine.travel(T0 + timedelta(minutes=3), tick=False):
        second = _measure(as_user, w, 37.3, client_id="a3")
    assert normal.status_code == 201 and normal.json["outcome"] == "normal" and normal.json["message"] == ""
    assert first.json["outcome"] == "remeasure" and first.json["high"] is True and "复测" in first.json["message"]
    assert second.json["outcome"] == "fever" and second.json["celsius"] == 37.3
    alerts = as_user(w.staff_a).get("/api/v1/alerts?kind=fever").json["items"]
    assert [a["subject_user_id"] for a in alerts] == [w.resident_a.id]


def test_replayed_client_id_returns_the_same_reading(emergency, as_user):
    w = emergency
    first = _measure(as_user, w, 37.5, client_id="same")
    again = _measure(as_user, w, 37.5, client_id="same")
    assert again.status_code == 201 and again.json["id"] == first.json["id"]
    assert again.json["outcome"] == "remeasure"
    changed = _measure(as_user, w, 36.5, client_id="same")
    assert changed.status_code == 409 and changed.json["reason"] == "idempotency_mismatch"


@pytest.mark.parametrize("body, field", [
    ({"celsius": 33.9}, "celsius"), ({"celsius": 43.1}, "celsius"), ({"celsius": 36.55}, "celsius"),
    ({"celsius": "hot"}, "celsius"), ({}, "celsius"), ({"celsius": 36.5, "extra": 1}, "extra"),
    ({"celsius": 1e30}, "celsius"), ({"celsius": "1E+30"}, "celsius"), ({"celsius": 10**400}, "celsius"),
])
def test_bad_readings_are_422(emergency, as_user, body, field):
    w = emergency
    response = as_user(w.guard_a).post(f"/api/v1/gates/{w.gate_a.id}/temperatures",
                                       json={"subject_user_id": w.resident_a.id, **body})
    assert response.status_code == 422
    assert field in str(response.json.get("errors"))


def test_a_reading_needs_a_subject(emergency, as_user):
    response = as_user(emergency.guard_a).post(f"/api/v1/gates/{emergency.gate_a.id}/temperatures",
                                               json={"celsius": 36.5})
    assert response.status_code == 422 and response.json["reason"] == "reading_subject_required"


def test_guard_cannot_measure_at_another_compounds_gate(emergency, as_user):
    w = emergency
    response = as_user(w.guard_a).post(f"/api/v1/gates/{w.gate_b.id}/temperatures",
                                       json={"subject_user_id": w.resident_a.id, "celsius": 36.5})
    assert response.status_code == 404


def test_guard_cannot_measure_another_companys_resident(emergency, as_user, app):
    w = emergency
    with app.app_context():
        db.session.get(Compound, w.compound_b.id).health_emergency = True
        db.session.commit()
    for _ in range(2):  # twice high: would be a fever alert if it were stored
        response = as_user(w.guard_a).post(f"/api/v1/gates/{w.gate_a.id}/temperatures",
                                           json={"subject_user_id": w.resident_b.id, "celsius": 38.5})
        assert response.status_code == 404
    with app.app_context():
        assert db.session.scalars(select(TemperatureReading)).all() == []
        assert db.session.scalars(select(Alert)).all() == []


def test_guard_cannot_measure_a_resident_not_yet_approved(emergency, as_user, app):
    w = emergency
    with app.app_context():
        db.session.get(User, w.resident_a.id).residency = "pending"
        db.session.commit()
    response = _measure(as_user, w, 36.5)
    assert response.status_code == 404


def test_guard_cannot_measure_another_compounds_visitor(emergency, as_user, app):
    w = emergency
    with app.app_context():
        from server.models.checkins import Visitor

        visitor = Visitor(compound_id=w.compound_b.id, kind="walk_in", name="访客", expected_date=T0.date(),
                          status="inside")
        db.session.add(visitor)
        db.session.commit()
        visitor_id = visitor.id
    response = as_user(w.guard_a).post(f"/api/v1/gates/{w.gate_a.id}/temperatures",
                                       json={"visitor_id": visitor_id, "celsius": 36.5})
    assert response.status_code == 404


@pytest.mark.parametrize("body", [{"subject_user_id": 2**64}, {"visitor_id": 2**64}, {"subject_user_id": 0},
                                  {"subject_user_id": 5, "device_time": "0001-01-01T00:00:00+00:00"},
                                  {"subject_user_id": 5, "device_time": "9999-12-31T23:59:59+00:00"}])
def test_out_of_range_ids_and_times_are_422(emergency, as_user, body):
    w = emergency
    response = as_user(w.guard_a).post(f"/api/v1/gates/{w.gate_a.id}/temperatures", json={"celsius": 36.5, **body})
    field = "device_time" if "device_time" in body else next(iter(body))
    assert response.status_code == 422 and field in str(response.json["errors"])


@pytest.mark.parametrize("query", ["day=0001-01-01", "day=9999-12-31", "day=2026-02-30"])
def test_out_of_range_days_of_the_list_are_422(emergency, as_user, query):
    w = emergency
    for path in ("temperatures", "temperatures/export"):
        response = as_user(w.staff_a).get(f"/api/v1/compounds/{w.compound_a.id}/{path}?{query}")
        assert response.status_code == 422 and "day" in str(response.json["errors"])


@pytest.mark.parametrize("query", ["from=0001-01-01", "to=0001-01-01", "from=9999-12-31&to=9999-12-31"])
def test_out_of_range_days_of_the_daily_counts_are_422(emergency, as_user, query):
    w = emergency
    response = as_user(w.staff_a).get(f"/api/v1/compounds/{w.compound_a.id}/temperatures/daily?{query}")
    assert response.status_code == 422


def test_without_consent_or_emergency_the_reading_is_refused(world, as_user):
    response = as_user(world.guard_a).post(f"/api/v1/gates/{world.gate_a.id}/temperatures",
                                           json={"subject_user_id": world.resident_a.id, "celsius": 36.5})
    assert response.status_code == 409 and response.json["reason"] == "consent_required"
    resident = as_user(world.resident_a)
    assert resident.post("/api/v1/me/consent", json={}).status_code == 201
    response = as_user(world.guard_a).post(f"/api/v1/gates/{world.gate_a.id}/temperatures",
                                           json={"subject_user_id": world.resident_a.id, "celsius": 36.5})
    assert response.status_code == 201 and response.json["lawful_basis"] == "consent"


def test_resident_self_reports_and_sees_only_their_own(emergency, as_user):
    w = emergency
    resident = as_user(w.resident_a)
    response = resident.post("/api/v1/me/temperatures", json={"celsius": 36.8, "client_id": "m1"})
    assert response.status_code == 201
    assert response.json["source"] == "self" and response.json["subject_user_id"] == w.resident_a.id
    _measure(as_user, w, 36.4)
    history = resident.get("/api/v1/me/temperatures").json
    assert history["total"] == 2 and {r["subject_user_id"] for r in history["items"]} == {w.resident_a.id}
    assert as_user(w.resident_b).get("/api/v1/me/temperatures").json["total"] == 0


def test_staff_reads_a_persons_history_with_an_audit_row(emergency, as_user, app):
    w = emergency
    _measure(as_user, w, 36.4)
    response = as_user(w.staff_a).get(f"/api/v1/people/{w.resident_a.id}/temperatures?purpose=发热排查")
    assert response.status_code == 200 and response.json["total"] == 1
    [entry] = _audit(app, "temperature.history")
    assert (entry.actor_id, entry.object_id, entry.reason) == (w.staff_a.id, str(w.resident_a.id), "发热排查")
    assert as_user(w.staff_b).get(f"/api/v1/people/{w.resident_a.id}/temperatures").status_code == 404


def test_compound_list_is_audited_and_the_alliance_must_give_a_purpose(emergency, as_user, app):
    w = emergency
    with time_machine.travel(T0, tick=False):
        _measure(as_user, w, 36.4)
        _measure(as_user, w, 37.9)
        staff_view = as_user(w.staff_a).get(f"/api/v1/compounds/{w.compound_a.id}/temperatures?high_only=true")
        refused = as_user(w.admin).get(f"/api/v1/compounds/{w.compound_a.id}/temperatures")
        admin_view = as_user(w.admin).get(f"/api/v1/compounds/{w.compound_a.id}/temperatures?purpose=区疾控核查")
    assert staff_view.status_code == 200 and [r["celsius"] for r in staff_view.json["items"]] == [37.9]
    assert refused.status_code == 422 and refused.json["reason"] == "purpose_required"
    assert admin_view.json["total"] == 2
    entries = _audit(app, "temperature.list")
    assert [(e.actor_role, e.reason) for e in entries] == [("staff", "日常防疫管理"), ("alliance_admin", "区疾控核查")]
    assert all(e.compound_id == w.compound_a.id for e in entries)
    assert as_user(w.staff_b).get(f"/api/v1/compounds/{w.compound_a.id}/temperatures").status_code == 404


def test_daily_counts_per_local_day(emergency, as_user, app):
    w = emergency
    with app.app_context():
        second_gate = make_gate(db.session.get(Compound, w.compound_a.id))
        neighbour = make_user(db.session.get(Alliance, w.alliance.id), "resident",
                              household=db.session.get(Household, w.household_a.id), name="赵邻居")
        db.session.commit()
        second_gate_id, neighbour_id = second_gate.id, neighbour.id
    # 23:50 local on 3 March and 00:10 local on 4 March fall on different days.
    late = datetime(2026, 3, 3, 15, 50, tzinfo=UTC)
    with time_machine.travel(late, tick=False):
        _measure(as_user, w, 37.3)
        assert as_user(w.guard_a).post(f"/api/v1/gates/{second_gate_id}/temperatures",
                                       json={"subject_user_id": neighbour_id, "celsius": 36.1}).status_code == 201
    with time_machine.travel(late + timedelta(minutes=20), tick=False):
        _measure(as_user, w, 37.6)
        response = as_user(w.staff_a).get(f"/api/v1/compounds/{w.compound_a.id}/temperatures/daily?from=2026-03-02")
    days = {d["day"]: d for d in response.json}
    assert sorted(days) == ["2026-03-02", "2026-03-03", "2026-03-04"]
    assert days["2026-03-03"] == {"day": "2026-03-03", "readings": 2, "people": 2, "high": 1, "remeasure": 1,
                                  "fever": 0}
    assert days["2026-03-04"]["fever"] == 1 and days["2026-03-02"]["readings"] == 0
    bad = as_user(w.admin).get(f"/api/v1/compounds/{w.compound_a.id}/temperatures/daily?from=2026-01-01&to=2026-03-01")
    assert bad.status_code == 422


def test_export_is_csv_with_formula_cells_escaped_and_an_audit_row(emergency, as_user, app):
    w = emergency
    with app.app_context():
        from server.models.people import User

        db.session.get(User, w.resident_a.id).display_name = "=HYPERLINK(\"x\")"
        db.session.commit()
    with time_machine.travel(T0, tick=False):
        _measure(as_user, w, 37.4)
        staff = as_user(w.staff_a).get(f"/api/v1/compounds/{w.compound_a.id}/temperatures/export")
        admin = as_user(w.admin).get(f"/api/v1/compounds/{w.compound_a.id}/temperatures/export?purpose=核查")
        refused = as_user(w.admin).get(f"/api/v1/compounds/{w.compound_a.id}/temperatures/export")
    assert staff.status_code == 200 and staff.mimetype == "text/csv"
    assert staff.data.startswith(b"\xef\xbb\xbf")  # the UTF-8 BOM Excel on Windows needs
    rows = list(csv.reader(io.StringIO(staff.data.decode("utf-8-sig"))))
    assert rows[0][:5] == ["编号", "测量时间", "来源", "体温(℃)", "结果"] and len(rows) == 2
    assert rows[1][1:5] == ["2026-03-02 09:00:00", "门岗测温", "37.4", "待复测"]  # Shanghai time
    assert rows[1][6] == "'=HYPERLINK(\"x\")"
    assert "'=*" in admin.get_data(as_text=True)  # the alliance sees the name masked
    assert refused.status_code == 422
    entries = _audit(app, "temperature.export")
    assert [(e.actor_role, e.detail["rows"]) for e in entries] == [("staff", 1), ("alliance_admin", 1)]


def test_export_as_xlsx_reads_back_equal_to_the_data(emergency, as_user, app):
    w = emergency
    with app.app_context():
        db.session.get(User, w.resident_a.id).display_name = "=HYPERLINK(\"x\")"
        db.session.commit()
    with time_machine.travel(T0, tick=False):
        reading = _measure(as_user, w, 37.4).json
        passer_by = as_user(w.guard_a).post(f"/api/v1/gates/{w.gate_a.id}/temperatures", json={
            "passer_by": True, "celsius": 36.6, "note": "@快递员"}).json
        response = as_user(w.staff_a).get(f"/api/v1/compounds/{w.compound_a.id}/temperatures/export.xlsx")
        refused = as_user(w.admin).get(f"/api/v1/compounds/{w.compound_a.id}/temperatures/export.xlsx")
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    assert refused.status_code == 422 and refused.json["reason"] == "purpose_required"
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("编号", "测量时间", "来源", "体温(℃)", "结果", "居民编号", "姓名", "访客编号", "出入口",
                       "未登记人员", "备注", "处理依据")
    local = datetime(2026, 3, 2, 9, 0)  # T0 in Shanghai
    assert rows[1:] == [
        (passer_by["id"], local, "门岗测温", 36.6, "正常", None, None, None, "正门", "是", "@快递员",
         "公共卫生紧急状态"),
        (reading["id"], local, "门岗测温", 37.4, "待复测", w.resident_a.id, "=HYPERLINK(\"x\")", None, "正门", "否",
         None, "公共卫生紧急状态"),
    ]
    name_cell = sheet.cell(row=3, column=7)
    assert name_cell.data_type == "s" and name_cell.quotePrefix
    assert [e.detail["format"] for e in _audit(app, "temperature.export")] == ["xlsx"]
