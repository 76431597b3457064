"""The console's visitors page (a resident announces a visitor and shows the printable pass; staff see
the visitor listed with the phone masked, who is inside now, and cancel one) and the exposure look-up
with its two-person rule (staff file, cannot approve their own, the alliance admin approves in their own
page, the requester then sees the contacts and downloads them as CSV); screenshots of both pages."""

from __future__ import annotations

import codecs
import csv
import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import expect
from sqlalchemy import insert, select

from server.extensions import db
from server.models.alliance import Alliance
from server.models.checkins import CheckIn, Visitor
from server.models.companies import Company
from server.models.compounds import Household
from server.models.exposure import ExposureRequest
from tests.browser.conftest import screenshot, sign_in
from tests.factories import make_user

BEIJING = ZoneInfo("Asia/Shanghai")


def console_as(open_page, tokens, path: str, viewport: str = "desktop"):
    """A page of the given size signed in with tokens, opened at path."""
    page = open_page(viewport)
    sign_in(page, tokens)
    page.goto(path)
    return page


def test_visitor_registered_listed_masked_passed_and_cancelled(app, world, open_page, tokens_for):
    with app.app_context():
        today = datetime.now(BEIJING).date()
        db.session.add(Visitor(compound_id=world.compound_a.id, household_id=world.household_a.id, kind="walk_in",
                               name="赵六", phone="13700001111", expected_date=today, from_city="北京", purpose="维修",
                               travel_cities=[], status="inside", arrived_at=datetime.now(UTC) - timedelta(hours=1)))
        db.session.commit()
    host = console_as(open_page, tokens_for(world.resident_a), "/console/visitors")
    form = host.locator("#register-form")
    form.get_by_label("姓名").fill("王五")
    form.get_by_label("电话").fill("13912345678")
    form.get_by_label("事由").fill("探亲")
    form.get_by_role("button", name="登记").click()
    row = host.locator("#visitor-list tr", has_text="王五")
    expect(row).to_contain_text("待到访")
    with app.app_context():
        visitor = db.session.scalars(select(Visitor).where(Visitor.name == "王五")).one()
        assert (visitor.household_id, visitor.phone, visitor.status, visitor.expected_date) == (
            world.household_a.id, "13912345678", "expected", today)
        visitor_id, code = visitor.id, visitor.pass_code
    row.get_by_role("button", name="通行码").click()
    expect(host.locator("#pass-view .pass-code")).to_have_text(code)
    expect(host.locator("#pass-qr")).to_have_js_property("complete", True)
    assert host.locator("#pass-qr").evaluate("img => img.naturalWidth") > 100  # the PNG loaded under the CSP
    screenshot(host, "console-visitors-resident")

    staff = console_as(open_page, tokens_for(world.staff_a), "/console/visitors")
    listed = staff.locator(f"#visitor-list tr[data-id='{visitor_id}']")
    expect(listed).to_contain_text("139****5678")  # the phone as the API masks it for staff
    assert "13912345678" not in staff.locator("#visitors").inner_text() and code not in staff.content()
    expect(staff.locator("#inside li")).to_contain_text("赵六")
    expect(staff.locator("#inside h3")).to_have_text("当前在园访客 (1)")
    screenshot(staff, "console-visitors")
    listed.get_by_role("button", name="取消").click()
    expect(staff.locator(f"#visitor-list tr[data-id='{visitor_id}']")).to_contain_text("已取消")
    with app.app_context():
        assert db.session.get(Visitor, visitor_id).status == "cancelled"
    phone = console_as(open_page, tokens_for(world.staff_a), "/console/visitors", "phone")
    expect(phone.locator(f"#visitor-list tr[data-id='{visitor_id}']")).to_contain_text("已取消")
    screenshot(phone, "console-visitors")
    phone.get_by_role("button", name="English").click()
    expect(phone.locator("#inside h3")).to_have_text("Visitors inside now (1)")
    expect(phone.locator(f"#visitor-list tr[data-id='{visitor_id}']")).to_contain_text("Cancelled")


def seed_passages(app, world) -> dict:
    """Resident A passes gate A a day ago; a neighbour 4 minutes later, another an hour later."""
    at = datetime.now(UTC) - timedelta(days=1)
    with app.app_context():
        alliance = db.session.get(Alliance, world.alliance.id)
        household = db.session.get(Household, world.household_a.id)
        near = make_user(alliance, "resident", household=household, name="近邻")
        far = make_user(alliance, "resident", household=household, name="远邻")
        second = make_user(alliance, "staff", company=db.session.get(Company, world.company_a.id), name="甲客服二")
        rows = [(world.resident_a.id, at), (near.id, at + timedelta(minutes=4)), (far.id, at + timedelta(hours=1))]
        db.session.execute(insert(CheckIn), [
            {"compound_id": world.compound_a.id, "gate_id": world.gate_a.id, "subject_user_id": user_id,
             "direction": "in", "method": "guard_scan", "decision": "allowed", "reason": "ok", "flags": [],
             "author_id": world.guard_a.id, "client_id": f"e-{n}", "fingerprint": "x", "server_time": when,
             "occurred_at": when, "lawful_basis": "consent", "reply": {}, "note": "", "person_name": ""}
            for n, (user_id, when) in enumerate(rows)])
        db.session.commit()
        return {"near": near.id, "far": far.id, "second": second}


def test_exposure_two_person_approval_then_contacts_and_csv(app, world, open_page, tokens_for, as_user,
                                                           console_errors):
    people = seed_passages(app, world)
    console_errors.allow("Failed to load resource")  # the 422 the test provokes
    asker = console_as(open_page, tokens_for(world.staff_a), "/console/exposure")
    form = asker.locator("#request-form")
    form.get_by_label("排查对象(居民)").select_option(label="王秀兰")
    form.get_by_label("前后分钟数").fill("10")
    form.get_by_label("理由").fill("太短")  # the API wants at least 4 characters of reason
    form.get_by_role("button", name="提交申请").click()
    expect(asker.locator("#exposure-error")).to_be_visible()
    form.get_by_label("理由").fill("确诊病例密接排查")
    form.get_by_role("button", name="提交申请").click()
    row = asker.locator("#request-list tbody tr").first
    expect(row).to_contain_text("待审批")
    expect(row.locator(".notice.own")).to_contain_text("申请人不能审批自己的申请")
    assert row.get_by_role("button", name="批准").count() == 0
    with app.app_context():
        request = db.session.scalars(select(ExposureRequest)).one()
        assert (request.status, request.requested_by_id, request.subject_user_id, request.minutes) == (
            "pending", world.staff_a.id, world.resident_a.id, 10)
        request_id = request.id
    # Neither the requester nor a second staff member may approve: the API says 403, the page offers nothing.
    for user in (world.staff_a, people["second"]):
        assert as_user(user).post(f"/api/v1/exposure-requests/{request_id}/approve", json={}).status_code == 403
    assert as_user(world.staff_a).get(f"/api/v1/exposure-requests/{request_id}/contacts").status_code == 409
    screenshot(asker, "console-exposure-pending")

    approver = console_as(open_page, tokens_for(world.admin), "/console/exposure")
    pending = approver.locator(f"#request-list tr[data-id='{request_id}']")
    pending.get_by_label(f"审批意见 #{request_id}").fill("同意排查")
    screenshot(approver, "console-exposure-approver")
    pending.get_by_role("button", name="批准").click()
    expect(approver.locator(f"#request-list tr[data-id='{request_id}']")).to_contain_text("已批准")
    with app.app_context():
        decided = db.session.get(ExposureRequest, request_id)
        assert (decided.status, decided.decided_by_id) == ("approved", world.admin.id)

    asker.reload()  # (the page also polls every 10 s; a reload keeps the test quick)
    done = asker.locator(f"#request-list tr[data-id='{request_id}']")
    expect(done).to_contain_text("已批准")
    done.get_by_role("button", name="查看密接人员").click()
    contacts = asker.locator("#contact-list tbody tr")
    expect(contacts).to_have_count(1)
    expect(contacts.first).to_contain_text("近邻")
    screenshot(asker, "console-exposure")
    with asker.expect_download() as info:
        asker.locator("#contacts-csv").click()
    assert info.value.suggested_filename == f"exposure-{request_id}.csv"
    with open(info.value.path(), "rb") as saved:
        body = saved.read()
    assert body.startswith(codecs.BOM_UTF8)  # for Excel
    table = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert table[0][:2] == ["类别", "姓名"] and [r[1] for r in table[1:]] == ["近邻"]
    phone = console_as(open_page, tokens_for(world.staff_a), "/console/exposure", "phone")
    expect(phone.locator(f"#request-list tr[data-id='{request_id}']")).to_contain_text("已批准")
    screenshot(phone, "console-exposure")
