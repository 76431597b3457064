"""District statistics: equal to counts taken here from the raw rows, scoped, rollups rebuilt, aggregates only."""

from __future__ import annotations

import io
import json
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from statistics import median

import openpyxl
import pytest
import time_machine
from sqlalchemy import insert, select

from server.extensions import db
from server.models.audit import AuditEntry
from server.models.checkins import CheckIn
from server.models.companies import Company
from server.models.compounds import Compound, Household
from server.models.deliveries import DeliveryRequest
from server.models.health import QuarantineOrder, TemperatureReading
from server.models.people import User
from server.models.rosters import Shift, ShiftAssignment
from server.models.statistics import CheckinHourly, ReadingHourly
from server.plumbing.clock import local_day_bounds
from server.services.gate import passes
from tests.factories import make_company, make_compound, make_gate, make_household, make_user
from tests.personal_data import assert_no_personal_data, personal_values

T0 = datetime(2026, 12, 2, 1, 30, tzinfo=UTC)  # 09:30 in Beijing
T1 = T0 + timedelta(hours=3)  # 12:30
TZ = "Asia/Shanghai"


@pytest.fixture(autouse=True)
def _fresh_key_cache():
    passes.forget_cached_keys()
    yield
    passes.forget_cached_keys()


def _scan(guard_client, code: str, gate_id: int, direction: str = "in", **extra):
    body = {"pass_code": code, "gate_id": gate_id, "direction": direction, "client_id": uuid.uuid4().hex, **extra}
    response = guard_client.post("/api/v1/checkins", json=body)
    assert response.status_code in (200, 201), response.json
    return response.json


def _pass(as_user, resident) -> str:
    return as_user(resident).get("/api/v1/me/pass?qr=none").json["code"]


def _district(app, world) -> dict:
    """More of everything around the standard world: totals, households, residents, staff, guards."""
    with app.app_context():
        a = db.session.get(Compound, world.compound_a.id)
        a.total_households, a.health_emergency = 10, True
        db.session.get(Compound, world.compound_b.id).total_households = 4
        db.session.get(Compound, world.compound_orphan.id).is_residential = False
        for n in range(3):
            household = make_household(world.compound_a, "2号楼", room=f"20{n}")
            make_user(world.alliance, "resident", household=household, name=f"居民{n}")
        make_user(world.alliance, "resident", household=make_household(world.compound_a), residency="pending")
        make_user(world.alliance, "staff", company=world.company_a, name="甲客服二")
        side = make_gate(world.compound_a, "侧门")
        # A company with no compound still counts in the alliance (134 companies, 220 projects).
        make_company(world.alliance, "丙物业")
        c_compound = make_compound(world.alliance, None, "丁院")
        db.session.commit()
        return {"side_gate": side.id, "c_compound": c_compound.id}


def _traffic(app, world, as_user, side_gate: int) -> None:
    """Check-ins and readings through the real API at two hours of today, and some raw rows of yesterday."""
    with time_machine.travel(T0, tick=False):
        guard = as_user(world.guard_a)
        _scan(guard, _pass(as_user, world.resident_a), world.gate_a.id, "out")
        _scan(guard, _pass(as_user, world.resident_a), world.gate_a.id, "in", temperature=36.6)
        _scan(guard, "not-a-pass", world.gate_a.id)  # denied
        _scan(guard, _pass(as_user, world.resident_a), side_gate, "in", temperature=37.6)  # remeasure
        _scan(guard, _pass(as_user, world.resident_a), side_gate, "in", temperature=37.8)  # fever
        _scan(as_user(world.guard_b), _pass(as_user, world.resident_b), world.gate_b.id, "out")
    with time_machine.travel(T1, tick=False):
        guard = as_user(world.guard_a)
        _scan(guard, _pass(as_user, world.resident_a), world.gate_a.id, "out")
        _scan(guard, "still-not-a-pass", side_gate)


def _other_areas(app, world) -> None:
    """Quarantines, deliveries and shifts written directly (their own issues test how they are made)."""
    with app.app_context():
        a, h = world.compound_a.id, world.household_a.id
        db.session.add_all([
            QuarantineOrder(compound_id=a, household_id=h, reason="returned_from_city",
                            starts_at=T0 - timedelta(days=2), ends_at=T0 + timedelta(days=12)),
            QuarantineOrder(compound_id=world.compound_b.id, user_id=world.resident_b.id, reason="close_contact",
                            starts_at=T0 - timedelta(days=1), ends_at=T0 + timedelta(days=13)),
            QuarantineOrder(compound_id=a, user_id=world.resident_a.id, reason="other",  # lifted
                            starts_at=T0 - timedelta(days=3), ends_at=T0 + timedelta(days=11),
                            lifted_at=T0 - timedelta(days=1)),
            QuarantineOrder(compound_id=a, user_id=world.resident_a.id, reason="other",  # over
                            starts_at=T0 - timedelta(days=20), ends_at=T0 - timedelta(days=6)),
        ])
        base = {"compound_id": a, "household_id": h, "requester_id": world.resident_a.id, "fingerprint": "f"}
        deliveries = [("submitted", None, None), ("on_the_way", 5, None), ("delivered", 10, 10),
                      ("confirmed", 20, 20), ("confirmed", 30, 40), ("confirmed", 60 * 24 * 10, 30)]
        for n, (status, age_minutes, took) in enumerate(deliveries):
            created = T0 - timedelta(minutes=(age_minutes or 0) + 60)
            claimed = created + timedelta(minutes=1) if status != "submitted" else None
            delivered = created + timedelta(minutes=took) if took else None
            if status == "confirmed" and n == 5:  # delivered 10 days ago: outside the 7 days
                created = T0 - timedelta(days=10)
                delivered = created + timedelta(minutes=took)
            db.session.add(DeliveryRequest(**base, client_id=f"d{n}", status=status, claimed_by_id=(
                world.staff_a.id if claimed else None), claimed_at=claimed, delivered_at=delivered, created_at=created))
        start, _ = local_day_bounds(TZ, T0.astimezone(UTC).date())
        morning = Shift(compound_id=a, gate_id=world.gate_a.id, starts_at=start, ends_at=start + timedelta(hours=8),
                        guards_needed=2)
        evening = Shift(compound_id=a, gate_id=world.gate_a.id, starts_at=start + timedelta(hours=16),
                        ends_at=start + timedelta(hours=24), guards_needed=1)
        cancelled = Shift(compound_id=a, gate_id=world.gate_a.id, starts_at=start + timedelta(hours=8),
                          ends_at=start + timedelta(hours=16), guards_needed=3, status="cancelled")
        db.session.add_all([morning, evening, cancelled])
        db.session.flush()
        for shift in (morning, evening):
            db.session.add(ShiftAssignment(shift_id=shift.id, guard_id=world.guard_a.id, compound_id=a,
                                           gate_id=shift.gate_id, starts_at=shift.starts_at, ends_at=shift.ends_at))
        db.session.commit()


def _expected(app, compound_ids: list[int], company_ids: list[int] | None) -> dict:
    """The figures counted here from the raw rows, independently of the rollups."""
    start, end = local_day_bounds(TZ, T0.astimezone(UTC).date())
    with app.app_context():
        checkins = db.session.execute(select(CheckIn.gate_id, CheckIn.decision, CheckIn.occurred_at).where(
            CheckIn.compound_id.in_(compound_ids), CheckIn.occurred_at >= start, CheckIn.occurred_at < end)).all()
        readings = db.session.scalars(select(TemperatureReading).where(
            TemperatureReading.compound_id.in_(compound_ids), TemperatureReading.measured_at >= start,
            TemperatureReading.measured_at < end)).all()
        compounds = db.session.scalars(select(Compound).where(Compound.id.in_(compound_ids))).all()
        households = db.session.scalars(select(Household).where(Household.compound_id.in_(compound_ids))).all()
        users = db.session.scalars(select(User)).all()
        household_compound = {h.id: h.compound_id for h in households}
        quarantines = db.session.scalars(select(QuarantineOrder).where(
            QuarantineOrder.compound_id.in_(compound_ids))).all()
        deliveries = db.session.scalars(select(DeliveryRequest).where(
            DeliveryRequest.compound_id.in_(compound_ids))).all()
        shifts = db.session.scalars(select(Shift).where(Shift.compound_id.in_(compound_ids))).all()
        assignments = Counter(a.shift_id for a in db.session.scalars(select(ShiftAssignment)).all())
    known = [c for c in compounds if c.total_households is not None]
    registered_known = sum(1 for h in households if any(h.compound_id == c.id for c in known))
    total_known = sum(c.total_households for c in known)
    hours = Counter((c.occurred_at - start) // timedelta(hours=1) for c in checkins if c.decision == "allowed")
    denied_hours = Counter((c.occurred_at - start) // timedelta(hours=1) for c in checkins if c.decision == "denied")
    took = [(d.delivered_at - d.created_at).total_seconds() / 60 for d in deliveries
            if d.delivered_at and d.delivered_at >= T1 - timedelta(days=7)]
    today = [s for s in shifts if s.status == "open" and start <= s.starts_at < end]
    return {
        "organisation": {
            "companies": len(company_ids) if company_ids is not None else None,
            "compounds": len(compounds), "residential_compounds": sum(c.is_residential for c in compounds),
            "households_registered": len(households), "households_total": total_known,
            "coverage": round(registered_known / total_known, 4) if total_known else None,
            "compounds_without_total": len(compounds) - len(known),
            "residents": sum(1 for u in users if u.role == "resident" and u.residency == "approved"
                             and household_compound.get(u.household_id) is not None),
            "staff": (sum(1 for u in users if u.role == "staff" and u.company_id in company_ids)
                      if company_ids is not None else None),
            "guards": (sum(1 for u in users if u.role == "guard" and u.company_id in company_ids)
                       if company_ids is not None
                       else sum(1 for u in users if u.role == "guard" and u.compound_id in compound_ids)),
        },
        "checkins": len(checkins),
        "by_hour": {h: (hours[h], denied_hours[h]) for h in set(hours) | set(denied_hours)},
        "by_gate": Counter((c.gate_id, c.decision) for c in checkins),
        "health": {"readings": len(readings), "high_readings": sum(r.high for r in readings),
                   "fevers": sum(r.outcome == "fever" for r in readings),
                   "active_quarantines": sum(1 for q in quarantines if q.starts_at <= T1 < q.ends_at
                                             and q.lifted_at is None)},
        "delivery": {"open_deliveries": sum(d.status in ("submitted", "claimed", "purchasing", "on_the_way")
                                            for d in deliveries),
                     "delivered_last_7_days": len(took),
                     "median_minutes_to_deliver": round(median(took), 1) if took else None},
        "roster": {"shifts_today": len(today), "places_required": sum(s.guards_needed for s in today),
                   "places_filled": sum(min(s.guards_needed, assignments[s.id]) for s in today)},
    }


def _check(answer: dict, expected: dict) -> None:
    figures = dict(answer["organisation"])
    assert figures.pop("residents_counted_at") is not None
    assert figures == expected["organisation"]
    gate = answer["gate"]
    assert gate["checkins"] == expected["checkins"] == gate["allowed"] + gate["denied"]
    got_hours = {h["hour"]: (h["allowed"], h["denied"]) for h in gate["by_hour"] if h["allowed"] or h["denied"]}
    assert got_hours == expected["by_hour"]
    got_gates = Counter()
    for g in gate["by_gate"]:
        got_gates.update({(g["gate_id"], "allowed"): g["allowed"], (g["gate_id"], "denied"): g["denied"]})
    assert +got_gates == expected["by_gate"]
    assert answer["health"] == expected["health"]
    assert answer["delivery"] == expected["delivery"]
    roster = expected["roster"]
    assert {k: answer["roster"][k] for k in roster} == roster
    assert answer["roster"]["roster_coverage"] == round(roster["places_filled"] / roster["places_required"], 4)


def test_statistics_equal_counts_from_the_raw_rows(app, world, as_user):
    extra = _district(app, world)
    _traffic(app, world, as_user, extra["side_gate"])
    _other_areas(app, world)
    with app.app_context():
        all_compounds = db.session.scalars(select(Compound.id)).all()
        all_companies = db.session.scalars(select(Company.id)).all()
    # Residents are counted by the periodic job (a district's live count is too slow for 500 ms).
    result = app.test_cli_runner().invoke(args=["wuye", "population"])
    assert result.exit_code == 0 and "counted in 4 compounds" in result.output, result.output
    with time_machine.travel(T1 + timedelta(minutes=5), tick=False):
        admin = as_user(world.admin)
        alliance = admin.get("/api/v1/statistics/alliance")
        assert alliance.status_code == 200, alliance.json
        company = admin.get(f"/api/v1/statistics/companies/{world.company_a.id}").json
        compound = admin.get(f"/api/v1/statistics/compounds/{world.compound_a.id}").json
        staff_view = as_user(world.staff_a).get(f"/api/v1/statistics/companies/{world.company_a.id}").json
    answer = alliance.json
    assert answer["day"] == "2026-12-02" and answer["scope"]["level"] == "alliance"
    _check(answer, _expected(app, all_compounds, all_companies))
    assert answer["organisation"]["companies"] == 3 and answer["organisation"]["compounds"] == 4
    company_a_compounds = [world.compound_a.id]
    _check(company, _expected(app, company_a_compounds, [world.company_a.id]))
    assert staff_view["organisation"] == company["organisation"]
    _check(compound, _expected(app, [world.compound_a.id], [world.company_a.id]))
    # The gate counts were really taken: 9:00 and 12:00 local, the side gate's fever and denials.
    assert {h["hour"] for h in answer["gate"]["by_hour"] if h["allowed"] or h["denied"]} == {9, 12}
    assert answer["health"]["fevers"] == 1 and answer["health"]["high_readings"] == 2
    assert answer["delivery"]["median_minutes_to_deliver"] == 20.0
    # Breakdown rows: one per company (and one for compounds without a company), headline figures only.
    rows = {row["id"]: row for row in answer["companies"]}
    assert set(rows) == {*all_companies, None}
    _row_a = rows[world.company_a.id]
    assert _row_a["gate"]["checkins"] == company["gate"]["checkins"] and "by_hour" not in _row_a["gate"]
    assert rows[None]["organisation"]["compounds"] == 2 and rows[None]["organisation"]["staff"] is None
    assert [row["id"] for row in company["compounds"]] == company_a_compounds
    assert answer["organisation"]["residents_counted_at"] is not None


def test_residents_are_as_the_periodic_job_last_counted_them(app, world, as_user):
    admin = as_user(world.admin)
    url = f"/api/v1/statistics/compounds/{world.compound_a.id}"
    before = admin.get(url).json["organisation"]
    assert before["residents"] == 0 and before["residents_counted_at"] is None  # never counted yet
    runner = app.test_cli_runner()
    assert runner.invoke(args=["wuye", "population"]).exit_code == 0
    assert admin.get(url).json["organisation"]["residents"] == 1
    with app.app_context():
        make_user(world.alliance, "resident", household=world.household_a, name="新住户")
        make_user(world.alliance, "resident", household=world.household_a, name="待审", residency="pending")
        db.session.commit()
    assert admin.get(url).json["organisation"]["residents"] == 1  # until the job runs again
    assert runner.invoke(args=["wuye", "population"]).exit_code == 0
    assert admin.get(url).json["organisation"]["residents"] == 2


def test_statistics_are_scoped(app, world, as_user):
    staff_a = as_user(world.staff_a)
    assert staff_a.get(f"/api/v1/statistics/companies/{world.company_b.id}").status_code == 404
    assert staff_a.get(f"/api/v1/statistics/compounds/{world.compound_b.id}").status_code == 404
    assert staff_a.get(f"/api/v1/statistics/compounds/{world.compound_a.id}").status_code == 200
    assert staff_a.get("/api/v1/statistics/alliance").status_code == 403
    assert as_user(world.guard_a).get(f"/api/v1/statistics/compounds/{world.compound_a.id}").status_code == 403
    assert staff_a.get(f"/api/v1/statistics/companies/{world.company_b.id}/export?format=xlsx").status_code == 404
    with app.app_context():
        other = make_company(_other_alliance(), "他盟物业")
        db.session.commit()
        other_id = other.id
    assert as_user(world.admin).get(f"/api/v1/statistics/companies/{other_id}").status_code == 404


def _other_alliance():
    from server.models.alliance import Alliance

    alliance = Alliance(name="另一联盟")
    db.session.add(alliance)
    db.session.flush()
    return alliance


def test_rollups_follow_inserts_and_are_rebuilt_from_raw_rows(app, world, as_user):
    extra = _district(app, world)
    _traffic(app, world, as_user, extra["side_gate"])

    def snapshot():
        with app.app_context():
            return (sorted(db.session.execute(select(CheckinHourly.gate_id, CheckinHourly.hour, CheckinHourly.compound_id,
                                                     CheckinHourly.allowed, CheckinHourly.denied)).all()),
                    sorted(db.session.execute(select(ReadingHourly.compound_id, ReadingHourly.hour,
                                                     ReadingHourly.readings, ReadingHourly.high,
                                                     ReadingHourly.fever)).all()))

    incremental = snapshot()
    assert sum(row[3] + row[4] for row in incremental[0]) == 8
    runner = app.test_cli_runner()
    result = runner.invoke(args=["wuye", "rollup"])
    assert result.exit_code == 0, result.output
    assert snapshot() == incremental  # the counters kept as rows arrived equal a recount
    # Rows bulk-loaded around the service (a restore, demo data) are counted by the rebuild.
    with app.app_context():
        at = T1 + timedelta(minutes=10)
        db.session.execute(insert(CheckIn), [{
            "compound_id": world.compound_b.id, "gate_id": world.gate_b.id, "direction": "in", "method": "manual",
            "decision": "denied", "reason": "not_registered", "flags": [], "author_id": world.guard_b.id,
            "client_id": f"bulk-{n}", "fingerprint": "x", "server_time": at, "occurred_at": at,
            "lawful_basis": "necessary_for_entry", "reply": {}} for n in range(3)])
        db.session.commit()
    assert runner.invoke(args=["wuye", "rollup", "--since", "2026-12-02T12:00:00+08:00"]).exit_code == 0
    gates, _ = snapshot()
    assert (world.gate_b.id, gates[-1][1], world.compound_b.id, 0, 3) in gates
    assert runner.invoke(args=["wuye", "rollup", "--since", "yesterday"]).exit_code != 0


def test_no_statistics_answer_or_export_carries_personal_data(app, world, as_user):
    extra = _district(app, world)
    _traffic(app, world, as_user, extra["side_gate"])
    _other_areas(app, world)
    personal = personal_values(app)
    admin, staff = as_user(world.admin), as_user(world.staff_a)
    urls = ["/api/v1/statistics/alliance", f"/api/v1/statistics/companies/{world.company_a.id}",
            f"/api/v1/statistics/compounds/{world.compound_a.id}",
            f"/api/v1/statistics/compounds/{world.compound_orphan.id}"]
    for url in urls:
        for client in (admin, staff):
            response = client.get(url)
            if response.status_code in (403, 404):
                continue
            assert response.status_code == 200
            assert_no_personal_data(response.json, personal)
            chart = client.get(url + "/export?format=chart")
            assert_no_personal_data(chart.json, personal)
            csv_body = client.get(url + "/export?format=csv").get_data(as_text=True)
            assert not any(value in csv_body for value in personal if len(value) > 1)
            book = openpyxl.load_workbook(io.BytesIO(client.get(url + "/export?format=xlsx").data))
            cells = [c.value for sheet in book for row in sheet.iter_rows() for c in row]
            assert_no_personal_data(cells, personal)
    assert json.dumps(admin.get("/api/v1/statistics/alliance").json, ensure_ascii=False).count("王秀兰") == 0


def test_statistics_exports_are_formula_safe_equal_the_data_and_audited(app, world, as_user):
    with app.app_context():
        company = db.session.get(Company, world.company_a.id)
        company.name = "=HYPERLINK(\"http://evil\")"
        db.session.get(Compound, world.compound_a.id).total_households = 8
        db.session.commit()
    admin = as_user(world.admin)
    answer = admin.get("/api/v1/statistics/alliance").json
    csv_response = admin.get("/api/v1/statistics/alliance/export?format=csv")
    assert csv_response.status_code == 200 and csv_response.mimetype == "text/csv"
    text = csv_response.get_data(as_text=True)
    assert text.startswith("\ufeff范围,名称,物业企业数")
    assert "'=HYPERLINK" in text and "\n=HYPERLINK" not in text and ",=HYPERLINK" not in text

    xlsx = admin.get("/api/v1/statistics/alliance/export?format=xlsx")
    assert xlsx.status_code == 200 and xlsx.mimetype.endswith("spreadsheetml.sheet")
    book = openpyxl.load_workbook(io.BytesIO(xlsx.data))
    sheet = book["统计"]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    header = rows[0]
    by_name = {row[1]: dict(zip(header, row, strict=True)) for row in rows[1:]}
    evil = by_name["=HYPERLINK(\"http://evil\")"]
    assert sheet.cell(row=[r[1] for r in rows].index(evil["名称"]) + 1, column=2).data_type == "s"
    row_a = next(r for r in answer["companies"] if r["id"] == world.company_a.id)
    assert evil["已登记户数"] == row_a["organisation"]["households_registered"] == 1
    assert evil["总户数"] == 8 and evil["覆盖率"] == row_a["organisation"]["coverage"] == 0.125
    total = by_name[answer["scope"]["name"]]
    assert total["范围"] == "合计" and total["项目数"] == answer["organisation"]["compounds"]
    assert total["今日出入"] == answer["gate"]["checkins"] and total["居民数"] == answer["organisation"]["residents"]
    hours = [[c.value for c in row] for row in book["今日出入(按小时)"].iter_rows()][1:]
    assert [[h[1], h[2]] for h in hours] == [[h["allowed"], h["denied"]] for h in answer["gate"]["by_hour"]]

    chart = admin.get("/api/v1/statistics/alliance/export?format=chart").json
    for figure in chart["charts"]:
        assert all(len(series["values"]) == len(figure["labels"]) for series in figure["series"])
    assert chart["charts"][0]["labels"][9] == "09:00"
    with app.app_context():
        formats = db.session.scalars(select(AuditEntry.detail).where(AuditEntry.action == "statistics.export")).all()
    assert sorted(d["format"] for d in formats) == ["chart", "csv", "xlsx"]
    assert admin.get("/api/v1/statistics/alliance/export?format=pdf").status_code == 422


def test_another_area_plugs_in_as_a_section(app, world, as_user, monkeypatch):
    """The seam the incidents and supplies areas use: a section collected once, summarised per group
    (a made-up area here, so the test depends on no real one)."""
    from server.services.alliance import statistics
    from server.services.alliance.statistics_scope import Section, SectionData

    def collect(scope):
        return SectionData({c: {"open": 1} for c in scope.compound_ids}, {k: {"on_hand": 10} for k in scope.company_ids})

    def summarise(compounds, companies):
        return {"open_drills": sum(c.get("open", 0) for c in compounds),
                "kits_on_hand": sum(c.get("on_hand", 0) for c in companies) if companies is not None else None}

    monkeypatch.setattr(statistics, "EXTRA_SECTIONS", [Section("drills", collect, summarise)])
    admin = as_user(world.admin)
    answer = admin.get("/api/v1/statistics/alliance").json
    assert answer["drills"] == {"open_drills": 3, "kits_on_hand": 20}
    row_a = next(r for r in answer["companies"] if r["id"] == world.company_a.id)
    assert row_a["drills"] == {"open_drills": 1, "kits_on_hand": 10}
    header = admin.get("/api/v1/statistics/alliance/export?format=csv").get_data(as_text=True).splitlines()[0]
    assert header.endswith("drills.open_drills,drills.kits_on_hand")


def test_a_compound_records_its_total_households_and_kind(app, world, as_user):
    admin = as_user(world.admin)
    url = f"/api/v1/compounds/{world.compound_orphan.id}"
    response = admin.patch(url, json={"total_households": 276, "is_residential": True})
    assert response.status_code == 200, response.json
    assert response.json["total_households"] == 276 and response.json["is_residential"] is True
    assert admin.patch(url, json={"total_households": -1}).status_code == 422
    figures = admin.get(f"/api/v1/statistics/compounds/{world.compound_orphan.id}").json["organisation"]
    assert figures["households_total"] == 276 and figures["coverage"] == 0.0
    assert figures["companies"] == 0 and figures["staff"] == 0
