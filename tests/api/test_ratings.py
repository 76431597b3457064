"""Satisfaction ratings: once per period (the database says so, even racing), rankings, masked comments, exports."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import openpyxl
import pytest
import time_machine
from sqlalchemy import func, select

from server.extensions import db
from server.models.audit import AuditEntry
from server.models.deliveries import DeliveryRating, DeliveryRequest
from server.models.ratings import SatisfactionRating
from server.services.alliance.ratings import period_bounds, period_key
from tests.concurrency import run_together
from tests.factories import make_company, make_compound, make_household, make_user
from tests.personal_data import assert_no_personal_data, personal_values

T0 = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)  # 11:00 in Beijing
RACERS = 6


@time_machine.travel(T0, tick=False)
def test_a_resident_rates_once_per_period(app, world, as_user):
    resident = as_user(world.resident_a)
    response = resident.post("/api/v1/ratings", json={"score": 4, "comment": "  保安很负责  "})
    assert response.status_code == 201, response.json
    body = response.json
    assert body["period"] == "2026-12" and body["score"] == 4 and body["comment"] == "保安很负责"
    assert body["compound_id"] == world.compound_a.id and body["kind"] == "period"
    again = resident.post("/api/v1/ratings", json={"score": 5})
    assert again.status_code == 409 and again.json["reason"] == "already_rated_period"
    assert resident.get("/api/v1/ratings/mine").json["id"] == body["id"]
    assert resident.get("/api/v1/ratings/mine?period=2026-11").status_code == 404
    for bad in ({"score": 0}, {"score": 6}, {"score": "5"}, {}, {"score": 3, "comment": "x" * 501}):
        assert resident.post("/api/v1/ratings", json=bad).status_code == 422, bad
    with app.app_context():
        row = db.session.get(SatisfactionRating, body["id"])
        assert row.company_id == world.company_a.id
    # Next month is a new period.
    with time_machine.travel(datetime(2026, 12, 31, 16, 30, tzinfo=UTC), tick=False):  # 00:30 on 1 January
        fresh = as_user(world.resident_a).post("/api/v1/ratings", json={"score": 2})
        assert fresh.status_code == 201 and fresh.json["period"] == "2027-01"


def test_a_resident_without_an_approved_household_cannot_rate(app, world, as_user):
    with app.app_context():
        pending = make_user(world.alliance, "resident", household=make_household(world.compound_a),
                            residency="pending")
        db.session.commit()
    response = as_user(pending).post("/api/v1/ratings", json={"score": 5})
    assert response.status_code == 409 and response.json["reason"] == "not_registered"


def test_concurrent_submissions_store_one_rating(app, world, as_user):
    clients = [as_user(world.resident_a) for _ in range(RACERS)]
    responses = run_together([lambda c=c, n=n: c.post("/api/v1/ratings", json={"score": 1 + n % 5})
                              for n, c in enumerate(clients)])
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * (RACERS - 1), [(r.status_code, r.json) for r in responses]
    assert all(r.json["reason"] == "already_rated_period" for r in responses if r.status_code == 409)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SatisfactionRating)) == 1


def test_the_database_refuses_a_second_rating_of_a_period(app, world):
    with app.app_context():
        row = {"alliance_id": world.alliance.id, "compound_id": world.compound_a.id, "user_id": world.resident_a.id,
               "company_id": world.company_a.id, "period": "2026-12", "score": 3}
        db.session.add(SatisfactionRating(**row))
        db.session.commit()
        db.session.add(SatisfactionRating(**row))
        with pytest.raises(Exception, match="(?i)unique|duplicate"):
            db.session.commit()
        db.session.rollback()


def test_periods(ctx):
    assert period_key(datetime(2026, 12, 31, 16, 0, tzinfo=UTC), "Asia/Shanghai") == "2027-01"
    assert period_key(datetime(2026, 11, 5, tzinfo=UTC), "Asia/Shanghai", "quarter") == "2026-Q4"
    start, end = period_bounds("2026-12", "Asia/Shanghai")
    assert start == datetime(2026, 11, 30, 16, tzinfo=UTC) and end == datetime(2026, 12, 31, 16, tzinfo=UTC)
    start, end = period_bounds("2026-Q4", "Asia/Shanghai")
    assert start == datetime(2026, 9, 30, 16, tzinfo=UTC) and end == datetime(2026, 12, 31, 16, tzinfo=UTC)


def _ratings(app, world) -> dict:
    """Company A: 5 period ratings and a delivery rating; company C: 6 ratings; company B: 2 (unranked)."""
    with app.app_context():
        company_c = make_company(world.alliance, "丙物业")
        compound_c = make_compound(world.alliance, company_c, "丙小区")
        plan = [(world.compound_a, world.company_a.id, [5, 4, 4, 5, 3]),
                (compound_c, company_c.id, [5, 5, 4, 5, 4, 5]),
                (world.compound_b, world.company_b.id, [5, 5])]
        names = iter(["张三", "李四", "王五", "赵六", "钱七", "孙八", "周九", "吴十", "郑一", "冯二", "陈三", "褚四", "卫五"])
        for compound, company_id, scores in plan:
            for n, score in enumerate(scores):
                user = make_user(world.alliance, "resident", household=make_household(compound), name=next(names))
                db.session.add(SatisfactionRating(
                    alliance_id=world.alliance.id, compound_id=compound.id, company_id=company_id, user_id=user.id,
                    period="2026-12", score=score, comment=f"意见{n}" if n < 2 else "",
                    created_at=T0 - timedelta(days=1)))
        # Another period does not count.
        db.session.add(SatisfactionRating(alliance_id=world.alliance.id, compound_id=world.compound_b.id,
                                          company_id=world.company_b.id, user_id=world.resident_b.id,
                                          period="2026-11", score=1, comment="上月"))
        request = DeliveryRequest(compound_id=world.compound_a.id, household_id=world.household_a.id,
                                  requester_id=world.resident_a.id, client_id="d1", fingerprint="f",
                                  status="confirmed", claimed_by_id=world.staff_a.id)
        db.session.add(request)
        db.session.flush()
        db.session.add(DeliveryRating(request_id=request.id, rated_by_id=world.resident_a.id, score=1,
                                      created_at=T0 - timedelta(hours=2)))
        db.session.commit()
        return {"company_c": company_c.id}


@time_machine.travel(T0, tick=False)
def test_companies_are_ranked_and_too_few_ratings_are_listed_apart(app, world, as_user):
    ids = _ratings(app, world)
    ranking = as_user(world.admin).get("/api/v1/ratings/rankings?period=2026-12")
    assert ranking.status_code == 200, ranking.json
    body = ranking.json
    assert body["period"] == "2026-12" and body["min_ratings"] == 5
    ranked = [(r["rank"], r["company_id"], r["average"], r["ratings"]) for r in body["ranked"]]
    # A: (5+4+4+5+3+1)/6 with its delivery rating.
    assert ranked == [(1, ids["company_c"], 4.67, 6), (2, world.company_a.id, 3.67, 6)]
    assert body["ranked"][1]["by_kind"] == {"period": 5, "delivery": 1}
    apart = {r["company_id"]: r["ratings"] for r in body["unranked"]}
    assert apart == {world.company_b.id: 2}
    assert all("rank" not in r for r in body["unranked"])
    assert as_user(world.staff_b).get("/api/v1/ratings/rankings").json["period"] == "2026-12"
    chart = as_user(world.admin).get("/api/v1/ratings/rankings/export?period=2026-12&format=chart").json
    personal = personal_values(app)
    assert_no_personal_data(body, personal)
    assert_no_personal_data(chart, personal)
    assert as_user(world.resident_a).get("/api/v1/ratings/rankings").status_code == 403
    assert as_user(world.admin).get("/api/v1/ratings/rankings?period=2026-13").status_code == 422


@time_machine.travel(T0, tick=False)
def test_ties_share_a_rank_and_the_minimum_is_a_setting(app, world, as_user, monkeypatch):
    _ratings(app, world)
    monkeypatch.setitem(app.config, "RANKING_MIN_RATINGS", 2)
    body = as_user(world.admin).get("/api/v1/ratings/rankings?period=2026-12").json
    assert [(r["rank"], r["average"]) for r in body["ranked"]] == [(1, 5.0), (2, 4.67), (3, 3.67)]
    assert body["unranked"] == [] or all(r["ratings"] < 2 for r in body["unranked"])


@time_machine.travel(T0, tick=False)
def test_companies_see_their_own_comments_masked_and_the_alliance_all(app, world, as_user):
    _ratings(app, world)
    staff = as_user(world.staff_a).get("/api/v1/ratings/comments?period=2026-12")
    assert staff.status_code == 200, staff.json
    items = staff.json["items"]
    assert staff.json["total"] == 2 and {i["compound_id"] for i in items} == {world.compound_a.id}
    assert sorted(i["author"] for i in items) == ["张*", "李*"]
    assert all("user_id" not in i for i in items)
    admin = as_user(world.admin).get("/api/v1/ratings/comments?period=2026-12&page_size=100").json
    assert admin["total"] == 6 and all(i["author"].endswith("*") for i in admin["items"])
    assert {i["comment"] for i in admin["items"]} == {"意见0", "意见1"}
    with app.app_context():
        reads = db.session.scalar(select(func.count()).where(AuditEntry.action == "ratings.comments"))
    assert reads == 2


@time_machine.travel(T0, tick=False)
def test_ranking_exports_equal_the_ranking_and_are_audited(app, world, as_user):
    ids = _ratings(app, world)
    with app.app_context():
        from server.models.companies import Company

        db.session.get(Company, ids["company_c"]).name = "+cmd|' /C calc'!A0"
        db.session.commit()
    admin = as_user(world.admin)
    ranking = admin.get("/api/v1/ratings/rankings?period=2026-12").json
    xlsx = admin.get("/api/v1/ratings/rankings/export?period=2026-12&format=xlsx")
    assert xlsx.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.data))["满意度排名"]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0] == ["名次", "物业企业", "平均分", "评价数", "周期", "是否排名"]
    expected = [[r["rank"], r["name"], r["average"], r["ratings"], "2026-12", "是"] for r in ranking["ranked"]]
    expected += [[None, r["name"], r["average"], r["ratings"], "2026-12", "否(评价不足)"] for r in ranking["unranked"]]
    assert rows[1:] == expected
    assert sheet.cell(row=2, column=2).value == "+cmd|' /C calc'!A0" and sheet.cell(row=2, column=2).data_type == "s"
    csv_text = admin.get("/api/v1/ratings/rankings/export?period=2026-12&format=csv").get_data(as_text=True)
    assert "\n1,'+cmd|' /C calc'!A0,4.67,6,2026-12,是" in csv_text.replace("\r\n", "\n").replace('"', "")
    chart = admin.get("/api/v1/ratings/rankings/export?period=2026-12&format=chart").json
    figure = chart["charts"][0]
    assert figure["labels"] == [r["name"] for r in ranking["ranked"]]
    assert figure["series"][0]["values"] == [r["average"] for r in ranking["ranked"]]
    with app.app_context():
        audited = db.session.scalars(select(AuditEntry.detail).where(AuditEntry.action == "ratings.ranking_export")).all()
    assert sorted(d["format"] for d in audited) == ["chart", "csv", "xlsx"]


def test_residents_rate_how_an_incident_at_their_compound_was_handled(app, world, as_user):
    from server.models.incidents import Incident

    with app.app_context():
        now = datetime.now(UTC)
        closed = Incident(alliance_id=world.alliance.id, compound_id=world.compound_a.id, kind="flood", place="1号楼",
                          status="closed", raised_at=now - timedelta(hours=2), closed_at=now)
        still_open = Incident(alliance_id=world.alliance.id, compound_id=world.compound_a.id, kind="fire", place="车库",
                              status="open", raised_at=now)
        db.session.add_all([closed, still_open])
        db.session.commit()
        closed_id, open_id = closed.id, still_open.id
    resident = as_user(world.resident_a)
    first = resident.post(f"/api/v1/ratings/incidents/{closed_id}", json={"score": 5, "comment": "十分钟就到了"})
    assert first.status_code == 201, first.json
    assert (first.json["kind"], first.json["score"]) == ("incident", 5)
    again = resident.post(f"/api/v1/ratings/incidents/{closed_id}", json={"score": 1})
    assert (again.status_code, again.json["reason"]) == (409, "already_rated_subject")
    early = resident.post(f"/api/v1/ratings/incidents/{open_id}", json={"score": 4})
    assert (early.status_code, early.json["reason"]) == (409, "incident_not_closed")
    # Another compound's resident did not live through it: as if it did not exist.
    assert as_user(world.resident_b).post(f"/api/v1/ratings/incidents/{closed_id}", json={"score": 3}).status_code == 404
    with app.app_context():
        rating = db.session.scalar(select(SatisfactionRating).where(SatisfactionRating.kind == "incident"))
        assert (rating.subject_id, rating.company_id, rating.compound_id) == (
            closed_id, world.company_a.id, world.compound_a.id)
