"""The statistics and rankings pages in a real Chromium: the figures seeded here (check-ins, readings,
a delivery delivered, an incident with a pledge, a shift, ratings) are shown in the tables under the
charts and the charts are drawn; the alliance admin drills down from the alliance to a company and a
compound; an export downloads a file with the figures; the rankings follow the averages."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from server.extensions import db
from server.models.alliance import Alliance
from server.models.checkins import CheckIn
from server.models.compounds import Compound
from server.models.deliveries import DeliveryRating, DeliveryRequest
from server.models.health import TemperatureReading
from server.models.incidents import Incident, IncidentPledge
from server.models.ratings import SatisfactionRating
from server.models.rosters import Shift, ShiftAssignment
from server.plumbing.clock import local_day_bounds
from server.services.alliance.ratings import current_period
from server.services.alliance.rollups import rebuild_rollups
from tests.browser.conftest import screenshot, sign_in
from tests.factories import make_company, make_compound, make_gate, make_household, make_user

BEIJING = ZoneInfo("Asia/Shanghai")


def _moment(now: datetime) -> datetime:
    """A moment of today's current local hour, in the past (the traffic's hour)."""
    hour_start = now.astimezone(BEIJING).replace(minute=0, second=0, microsecond=0)
    return max(now - timedelta(seconds=30), hour_start.astimezone(UTC))


@pytest.fixture
def seeded(app, world):
    """Today at compound A: 正门 5 allowed and 2 refused, 侧门 3 allowed; 3 readings (2 high, 1 fever); a
    delivery delivered in 25 minutes; an incident with company B's pledge, first arrival after 8 and all
    needs met after 20 minutes; a shift needing 2 guards with 1. Compound B: 4 allowed. Ratings this
    period: B 5, 5, 4 (4.67), A 4, 3 and a delivery's 4 (3.67), 丙物业 a single 5 (not ranked)."""
    now = datetime.now(UTC)
    at = _moment(now)
    with app.app_context():
        alliance = db.session.get(Alliance, world.alliance.id)
        compound_a = db.session.get(Compound, world.compound_a.id)
        compound_a.total_households = 10  # 3 registered: the standard one and two raters'
        side = make_gate(compound_a, "侧门")
        traffic = [(world.compound_a.id, world.gate_a.id, "allowed")] * 5 + \
            [(world.compound_a.id, world.gate_a.id, "denied")] * 2 + [(world.compound_a.id, side.id, "allowed")] * 3 + \
            [(world.compound_b.id, world.gate_b.id, "allowed")] * 4
        for n, (compound_id, gate_id, decision) in enumerate(traffic):
            db.session.add(CheckIn(compound_id=compound_id, gate_id=gate_id, direction="in", method="manual",
                                   decision=decision, reason="ok", author_id=world.guard_a.id, guard_id=world.guard_a.id,
                                   client_id=f"s{n}", fingerprint=f"s{n}", lawful_basis="necessary_for_entry",
                                   occurred_at=at, person_name="访客"))
        for n, (celsius, high, outcome) in enumerate([("36.5", False, "normal"), ("37.6", True, "remeasure"),
                                                      ("38.1", True, "fever")]):
            db.session.add(TemperatureReading(compound_id=world.compound_a.id, subject_user_id=world.resident_a.id,
                                              gate_id=world.gate_a.id, author_id=world.guard_a.id, source="gate",
                                              celsius=celsius, high=high, outcome=outcome, client_id=f"t{n}",
                                              lawful_basis="public_health_emergency", measured_at=at))
        delivery = DeliveryRequest(compound_id=world.compound_a.id, household_id=world.household_a.id,
                                   requester_id=world.resident_a.id, client_id="d1", fingerprint="f", status="confirmed",
                                   claimed_by_id=world.staff_a.id, claimed_at=now - timedelta(minutes=58),
                                   created_at=now - timedelta(minutes=60), delivered_at=now - timedelta(minutes=35))
        raised = now - timedelta(minutes=30)
        incident = Incident(alliance_id=world.alliance.id, compound_id=world.compound_a.id, kind="flood",
                            place="3号楼地下车库", raised_by_id=world.staff_a.id, raised_at=raised,
                            first_arrival_at=raised + timedelta(minutes=8), needs_met_at=raised + timedelta(minutes=20))
        db.session.add_all([delivery, incident])
        db.session.flush()
        db.session.add(IncidentPledge(incident_id=incident.id, company_id=world.company_b.id,
                                      pledged_by_id=world.staff_b.id, status="arrived", pledged_at=raised,
                                      departed_at=raised + timedelta(minutes=1), arrived_at=raised + timedelta(minutes=8),
                                      duty_ends_at=now + timedelta(hours=2)))
        db.session.add(DeliveryRating(request_id=delivery.id, rated_by_id=world.resident_a.id, score=4))
        start, _ = local_day_bounds("Asia/Shanghai", now.astimezone(BEIJING).date())
        shift = Shift(compound_id=world.compound_a.id, gate_id=world.gate_a.id, starts_at=start,
                      ends_at=start + timedelta(hours=12), guards_needed=2)
        db.session.add(shift)
        db.session.flush()
        db.session.add(ShiftAssignment(shift_id=shift.id, guard_id=world.guard_a.id, compound_id=world.compound_a.id,
                                       gate_id=world.gate_a.id, starts_at=shift.starts_at, ends_at=shift.ends_at))
        company_c = make_company(alliance, "丙物业")
        compound_c = make_compound(alliance, company_c, "丙小区")
        period = current_period()
        for compound, company_id, scores in [(world.compound_b, world.company_b.id, [5, 5, 4]),
                                             (world.compound_a, world.company_a.id, [4, 3]),
                                             (compound_c, company_c.id, [5])]:
            for score in scores:
                rater = make_user(alliance, "resident", household=make_household(compound), name="评价人")
                db.session.add(SatisfactionRating(alliance_id=alliance.id, compound_id=compound.id, company_id=company_id,
                                                  user_id=rater.id, period=period, score=score))
        db.session.flush()
        rebuild_rollups()  # the raw rows were written around the live counters
        db.session.commit()
    world.hour = at.astimezone(BEIJING).hour
    world.period = period
    return world


def console_as(open_page, tokens, path: str, viewport: str = "desktop"):
    """A page of the viewport, signed in with tokens, opened at path."""
    page = open_page(viewport)
    sign_in(page, tokens)
    page.goto(path)
    return page


def cells(row) -> list[str]:
    """The texts of a table row's header and data cells."""
    return [c.strip() for c in row.locator("th, td").all_inner_texts()]


def canvas_drawn(page, selector: str) -> bool:
    """Whether the chart's canvas has painted pixels."""
    return page.evaluate("""s => { const c = document.querySelector(s + ' canvas'); if (!c || !c.width) return false;
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        for (let i = 3; i < d.length; i += 4) if (d[i]) return true; return false; }""", selector)


def test_staff_see_their_compound_in_charts_and_tables_and_export_it(seeded, open_page, tokens_for):
    world = seeded
    page = console_as(open_page, tokens_for(world.staff_a), "/console/statistics")
    hourly = page.locator("#chart-hourly tbody tr")
    expect(hourly.first).to_contain_text(f"{world.hour:02d}:00")
    assert cells(hourly.first)[1:] == ["8", "2"] and cells(hourly.last) == ["合计", "8", "2"]
    assert [cells(r) for r in page.locator("#chart-gates tbody tr").all()] == [["正门", "5", "2"], ["侧门", "3", "0"]]
    assert [cells(r) for r in page.locator("#chart-health tbody tr").all()] == [
        ["测温", "3"], ["体温偏高(≥37.3℃)", "2"], ["确认发热", "1"]]
    assert [cells(r) for r in page.locator("#chart-times tbody tr").all()] == [
        ["送菜送达", "25"], ["应急首批到达", "8"], ["应急需求满足", "20"]]
    expect(page.locator("#chart-roster h3")).to_have_text("今日门岗排班覆盖:50%")
    expect(page.locator(".tile[data-figure='fevers'] strong")).to_have_text("1")
    for chart in ("#chart-hourly", "#chart-gates", "#chart-health", "#chart-times"):
        assert canvas_drawn(page, chart), chart
    screenshot(page, "console-statistics-compound")

    with page.expect_download() as info:
        page.locator("#export-csv").click()
    assert info.value.suggested_filename.startswith(f"statistics-compound-{world.compound_a.id}-")
    with open(info.value.path(), encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(io.StringIO(f.read())))
    assert (rows[0]["名称"], rows[0]["今日出入"], rows[0]["今日拦截"], rows[0]["今日发热"],
            rows[0]["送达中位时长(分钟)"], rows[0]["首批到达中位时长(分钟)"]) == ("甲小区", "10", "2", "1", "25.0", "8.0")

    # Up to the company: one row per compound, the compound's figures in it.
    page.locator(".crumbs").get_by_role("button", name="甲物业").click()
    row = page.locator(f"#breakdown tr[data-id='{world.compound_a.id}']")
    expect(row).to_contain_text("甲小区")
    assert cells(row)[1:5] == ["30%", "10", "2", "1"]
    assert "company" in page.url


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_the_alliance_admin_sees_the_alliance_and_drills_down(seeded, open_page, tokens_for, viewport):
    world = seeded
    page = console_as(open_page, tokens_for(world.admin), "/console/statistics", viewport)
    expect(page.locator(".crumbs [aria-current='page']")).to_have_text("测试联盟")
    company_a = page.locator(f"#breakdown tr[data-id='{world.company_a.id}']")
    expect(company_a).to_contain_text("甲物业")
    assert cells(company_a)[2:5] == ["10", "2", "1"]
    assert cells(page.locator(f"#breakdown tr[data-id='{world.company_b.id}']"))[2:5] == ["4", "0", "0"]
    expect(page.locator(".tile[data-figure='checkins'] strong")).to_have_text("14")
    assert canvas_drawn(page, "#chart-by-checkins")
    screenshot(page, "console-statistics-alliance")
    if viewport == "phone":
        return
    company_a.get_by_role("button", name="查看 甲物业").click()
    compound = page.locator(f"#breakdown tr[data-id='{world.compound_a.id}']")
    expect(compound).to_contain_text("甲小区")
    screenshot(page, "console-statistics-company")
    compound.get_by_role("button", name="查看 甲小区").click()
    expect(page.locator(".crumbs [aria-current='page']")).to_have_text("甲小区")
    expect(page.locator("#chart-gates tbody tr").first).to_contain_text("正门")
    page.go_back()
    expect(page.locator(".crumbs [aria-current='page']")).to_have_text("甲物业")
    page.get_by_role("button", name="English").click()
    expect(page.locator("#chart-by-checkins h3")).to_have_text("Check-ins and fevers per compound today")
    screenshot(page, "console-statistics-en")


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_rankings_follow_the_averages_and_export(seeded, app, open_page, tokens_for, monkeypatch, viewport):
    world = seeded
    monkeypatch.setitem(app.config, "RANKING_MIN_RATINGS", 2)
    page = console_as(open_page, tokens_for(world.admin), "/console/rankings", viewport)
    rows = page.locator("#ranked tbody tr")
    expect(rows).to_have_count(2)
    assert [cells(r)[:4] for r in rows.all()] == [["1", "乙物业", "4.67", "3"], ["2", "甲物业", "3.67", "3"]]
    assert cells(page.locator("#unranked tbody tr").first)[:3] == ["丙物业", "5", "1"]
    assert canvas_drawn(page, "#ranking-chart")
    expect(page.locator("#period")).to_have_value(world.period)
    screenshot(page, "console-rankings")
    if viewport == "phone":
        return
    with page.expect_download() as info:
        page.locator("#export-csv").click()
    assert info.value.suggested_filename == f"ranking-{world.period}.csv"
    with open(info.value.path(), encoding="utf-8-sig") as f:
        exported = list(csv.reader(f))
    assert [r[:4] for r in exported[1:]] == [["1", "乙物业", "4.67", "3"], ["2", "甲物业", "3.67", "3"],
                                             ["", "丙物业", "5.0", "1"]]
