"""Grocery delivery over HTTP: who may ask, limits, the queue, the lifecycle, notifications, scope."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from server.extensions import db
from server.integrations.wechat import fit_subscribe_data
from server.models.compounds import Compound
from server.models.deliveries import DeliveryEvent, DeliveryItem, DeliveryRequest
from server.models.health import QuarantineOrder
from server.models.notifications import Notification
from tests.factories import make_household, make_user
from tests.fakes.wechat_server import FakeWeChat

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 in Beijing


def quarantine(household_id: int, compound_id: int, at: datetime | None = None) -> None:
    """Put a household in home quarantine from a day before `at` for 14 days."""
    at = at or datetime.now(UTC)
    db.session.add(QuarantineOrder(compound_id=compound_id, household_id=household_id, reason="returned_from_city",
                                   starts_at=at - timedelta(days=1), ends_at=at + timedelta(days=13)))
    db.session.commit()


def order(client_id: str = "c1", **extra) -> dict:
    """A valid request body."""
    return {"client_id": client_id, "items": [{"name": "白菜", "quantity": 2, "unit": "斤", "note": "新鲜的"},
                                              {"name": "鸡蛋", "quantity": 10, "unit": "个"}],
            "budget_note": "100元以内,微信转账", "drop_point": "door", "contactless": True, **extra}


@pytest.fixture
def quarantined(app, world):
    """resident_a's household (compound A) and resident_b's (compound B) in home quarantine."""
    with app.app_context():
        quarantine(world.household_a.id, world.compound_a.id)
        quarantine(world.household_b.id, world.compound_b.id)
    return world


def notifications_of(app, user_id: int) -> list[Notification]:
    with app.app_context():
        return list(db.session.scalars(select(Notification).where(Notification.user_id == user_id)
                                       .order_by(Notification.id)))


def test_quarantined_household_submits_and_retries_are_idempotent(app, quarantined, as_user):
    resident = as_user(quarantined.resident_a)
    first = resident.post("/api/v1/deliveries", json=order(urgency=["elderly", "medicine"]))
    assert first.status_code == 201, first.json
    body = first.json
    assert body["status"] == "submitted" and body["household_id"] == quarantined.household_a.id
    assert [i["name"] for i in body["items"]] == ["白菜", "鸡蛋"] and body["items"][0]["quantity"] == 2
    assert body["urgency"] == ["medicine", "elderly"] and body["number"] == f"SC{body['id']:06d}"
    assert "contact_phone" not in body and "household_address" not in body
    replay = resident.post("/api/v1/deliveries", json=order(urgency=["elderly", "medicine"]))
    assert replay.status_code == 200 and replay.json["id"] == body["id"]
    changed = resident.post("/api/v1/deliveries", json=order(note="另外要一瓶酱油"))
    assert changed.status_code == 409 and changed.json["reason"] == "idempotency_mismatch"
    by_header = resident.post("/api/v1/deliveries", json={k: v for k, v in order().items() if k != "client_id"},
                              headers={"Idempotency-Key": "hdr-1"})
    assert by_header.status_code == 201 and by_header.json["id"] != body["id"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(DeliveryRequest)) == 2
        assert db.session.scalar(select(func.count()).select_from(DeliveryItem)) == 4
    sent = notifications_of(app, quarantined.resident_a.id)
    assert [n.data["phrase3"] for n in sent] == ["已提交", "已提交"]


def test_who_may_ask_and_the_refusals_say_why(app, world, as_user):
    resident = as_user(world.resident_a)
    refused = resident.post("/api/v1/deliveries", json=order())
    assert refused.status_code == 403 and refused.json["reason"] == "delivery_not_eligible"
    assert "居家隔离" in refused.json["message"]
    english = resident.post("/api/v1/deliveries", json=order(), headers={"Accept-Language": "en"})
    assert "quarantine" in english.json["message"]
    for role_user in (world.staff_a, world.guard_a, world.admin):
        assert as_user(role_user).post("/api/v1/deliveries", json=order()).status_code == 403
    with app.app_context():
        pending = make_user(world.alliance, "resident", household=world.household_a, residency="pending")
        db.session.get(Compound, world.compound_a.id).lockdown = True
        db.session.commit()
    not_yet = as_user(pending).post("/api/v1/deliveries", json=order())
    assert not_yet.status_code == 403 and not_yet.json["reason"] == "not_registered"
    # A compound in lockdown: every approved household may ask, quarantined or not.
    assert resident.post("/api/v1/deliveries", json=order()).status_code == 201
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(DeliveryRequest)) == 1


def test_household_member_quarantined_alone_makes_household_eligible(app, world, as_user):
    with app.app_context():
        db.session.add(QuarantineOrder(compound_id=world.compound_a.id, user_id=world.resident_a.id,
                                       reason="close_contact", starts_at=datetime.now(UTC) - timedelta(hours=1),
                                       ends_at=datetime.now(UTC) + timedelta(days=7)))
        member = make_user(world.alliance, "resident", household=world.household_a, name="王小明")
        db.session.commit()
    assert as_user(member).post("/api/v1/deliveries", json=order()).status_code == 201


def test_open_request_limit_per_household(app, quarantined, as_user, monkeypatch):
    resident = as_user(quarantined.resident_a)
    ids = [resident.post("/api/v1/deliveries", json=order(f"c{i}")).json["id"] for i in range(3)]
    with app.app_context():
        member = make_user(quarantined.alliance, "resident", household=quarantined.household_a, name="王小明")
        db.session.commit()
    over = as_user(member).post("/api/v1/deliveries", json=order("c9"))
    assert over.status_code == 409 and over.json["reason"] == "too_many_open_deliveries" and over.json["limit"] == 3
    assert resident.post(f"/api/v1/deliveries/{ids[0]}/cancel", json={"reason": "邻居帮忙买了"}).status_code == 200
    assert as_user(member).post("/api/v1/deliveries", json=order("c9")).status_code == 201
    monkeypatch.setitem(app.config, "MAX_OPEN_DELIVERIES", 1)
    assert as_user(quarantined.resident_b).post("/api/v1/deliveries", json=order("b1")).status_code == 201
    assert as_user(quarantined.resident_b).post("/api/v1/deliveries", json=order("b2")).status_code == 409
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(
            DeliveryRequest.household_id == quarantined.household_a.id)) == 4


@pytest.mark.parametrize("body, field", [
    ({"items": []}, "items"),
    ({"items": [{"name": "米", "quantity": 1, "unit": "袋"}] * 31}, "items"),
    ({"items": [{"name": "米" * 31, "quantity": 1, "unit": "袋"}]}, "items"),
    ({"items": [{"name": "米", "quantity": 0, "unit": "袋"}]}, "items"),
    ({"items": [{"name": "米", "quantity": 1.234, "unit": "斤"}]}, "items"),
    ({"items": [{"name": "  ", "quantity": 1, "unit": "袋"}]}, "items"),
    ({"budget_note": "x" * 101}, "budget_note"),
    ({"note": "x" * 201}, "note"),
    ({"urgency": ["vip"]}, "urgency"),
    ({"drop_point": "window"}, "drop_point"),
    ({"preferred_from": "2026-03-02T10:00:00+08:00", "preferred_until": "2026-03-02T09:00:00+08:00"},
     "preferred_until"),
    ({"preferred_from": "2026-03-02T10:00:00"}, "preferred_from"),
    ({"surprise": 1}, "surprise"),
    ({"client_id": "x" * 65}, "client_id"),
])
def test_bad_requests_are_422(quarantined, as_user, body, field):
    response = as_user(quarantined.resident_a).post("/api/v1/deliveries", json={**order(), **body})
    assert response.status_code == 422
    assert field in response.json["errors"]["json"]


def test_missing_client_id_is_422(quarantined, as_user):
    body = {k: v for k, v in order().items() if k != "client_id"}
    response = as_user(quarantined.resident_a).post("/api/v1/deliveries", json=body)
    assert response.status_code == 422 and "client_id" in response.json["errors"]["json"]


def test_queue_orders_by_urgency_then_age_with_filters(app, world, as_user):
    with app.app_context():
        households = [make_household(world.compound_a, room=str(200 + i)) for i in range(5)]
        residents = [make_user(world.alliance, "resident", household=h, name=f"住户{i}")
                     for i, h in enumerate(households)]
        for h in households:
            quarantine(h.id, world.compound_a.id, T0)
    tags = [[], ["elderly"], ["medicine"], [], ["infant", "elderly"]]
    ids = []
    for i, (resident, tag) in enumerate(zip(residents, tags, strict=True)):
        with time_machine.travel(T0 + timedelta(minutes=i), tick=False):
            ids.append(as_user(resident).post("/api/v1/deliveries",
                                              json=order(f"q{i}", urgency=tag, contactless=i != 3)).json["id"])
    with time_machine.travel(T0 + timedelta(minutes=30), tick=False):
        staff = as_user(world.staff_a)
        queue = staff.get(f"/api/v1/compounds/{world.compound_a.id}/delivery-queue")
        assert queue.status_code == 200 and queue.json["total"] == 5
        assert [r["id"] for r in queue.json["items"]] == [ids[2], ids[4], ids[1], ids[0], ids[3]]
        first = queue.json["items"][0]
        assert first["waited_seconds"] == 28 * 60
        assert first["household_address"].startswith("1号楼1单元") and first["requester_name"] == "住**"
        assert "****" in first["contact_phone"]
        elderly = staff.get(f"/api/v1/compounds/{world.compound_a.id}/delivery-queue?tag=elderly").json
        assert [r["id"] for r in elderly["items"]] == [ids[4], ids[1]]
        contact = staff.get(f"/api/v1/compounds/{world.compound_a.id}/delivery-queue?contactless=false").json
        assert [r["id"] for r in contact["items"]] == [ids[3]]
        assert staff.post(f"/api/v1/deliveries/{ids[0]}/claim").status_code == 200
        waiting = staff.get(f"/api/v1/compounds/{world.compound_a.id}/delivery-queue?status=submitted").json
        assert ids[0] not in [r["id"] for r in waiting["items"]] and waiting["total"] == 4
        mine = staff.get(f"/api/v1/compounds/{world.compound_a.id}/delivery-queue?mine=true").json
        assert [r["id"] for r in mine["items"]] == [ids[0]]
        claimed = staff.get(f"/api/v1/deliveries/{ids[0]}").json
        assert claimed["contact_phone"].isdigit()  # the runner sees the whole number
        assert staff.get(f"/api/v1/compounds/{world.compound_a.id}/delivery-queue?tag=vip").status_code == 422
        assert as_user(world.staff_b).get(
            f"/api/v1/compounds/{world.compound_a.id}/delivery-queue").status_code == 404


def _submitted(app, world, as_user, resident=None) -> int:
    response = as_user(resident or world.resident_a).post("/api/v1/deliveries", json=order())
    assert response.status_code == 201, response.json
    return response.json["id"]


def test_requests_of_another_household_or_company_are_invisible(app, quarantined, as_user):
    delivery_id = _submitted(app, quarantined, as_user)
    other_b = as_user(quarantined.resident_b)
    assert other_b.get(f"/api/v1/deliveries/{delivery_id}").status_code == 404
    assert other_b.post(f"/api/v1/deliveries/{delivery_id}/cancel", json={}).status_code == 404
    assert other_b.get("/api/v1/deliveries").json["total"] == 0
    staff_b = as_user(quarantined.staff_b)
    for action in ("claim", "start", "dispatch", "deliver"):
        assert staff_b.post(f"/api/v1/deliveries/{delivery_id}/{action}", json={}).status_code == 404
    assert staff_b.get(f"/api/v1/deliveries/{delivery_id}").status_code == 404
    assert staff_b.get("/api/v1/deliveries").json["total"] == 0
    assert as_user(quarantined.guard_a).get(f"/api/v1/deliveries/{delivery_id}").status_code == 404
    staff_a = as_user(quarantined.staff_a)
    assert staff_a.get(f"/api/v1/deliveries?compound_id={quarantined.compound_a.id}").json["total"] == 1
    assert staff_a.get(f"/api/v1/deliveries?compound_id={quarantined.compound_b.id}").json["total"] == 0
    with app.app_context():
        assert db.session.get(DeliveryRequest, delivery_id).status == "submitted"


def test_full_lifecycle_notifies_the_resident_each_time(app, quarantined, as_user):
    delivery_id = _submitted(app, quarantined, as_user)
    staff = as_user(quarantined.staff_a)
    resident = as_user(quarantined.resident_a)
    base = f"/api/v1/deliveries/{delivery_id}"
    claimed = staff.post(f"{base}/claim")
    assert claimed.status_code == 200 and claimed.json["claimed_by_id"] == quarantined.staff_a.id
    item_ids = [i["id"] for i in claimed.json["items"]]
    swapped = staff.patch(f"{base}/items", json={"items": [
        {"item_id": item_ids[0], "outcome": "substituted", "substitute": "油麦菜", "note": "白菜卖完了"},
        {"item_id": item_ids[1], "outcome": "out_of_stock"}]})
    assert swapped.status_code == 200
    assert [(i["outcome"], i["substitute"]) for i in swapped.json["items"]] == [
        ("substituted", "油麦菜"), ("out_of_stock", None)]
    assert staff.post(f"{base}/start").json["status"] == "purchasing"
    dispatched = staff.post(f"{base}/dispatch", json={"cost_cents": 4250, "cost_note": "超市小票已拍照"})
    assert dispatched.json["status"] == "on_the_way" and dispatched.json["cost_cents"] == 4250
    assert staff.post(f"{base}/deliver", json={}).json["status"] == "delivered"
    assert resident.post(f"{base}/rate", json={"score": 5}).status_code == 409
    confirmed = resident.post(f"{base}/confirm")
    assert confirmed.json["status"] == "confirmed" and confirmed.json["auto_confirmed"] is False
    assert confirmed.json["runner_name"] == "甲**"
    assert confirmed.json["rating"] is None
    rated = resident.post(f"{base}/rate", json={"score": 4, "comment": "很及时,谢谢师傅"})
    assert rated.status_code == 201 and rated.json["score"] == 4
    assert resident.get(base).json["rating"]["comment"] == "很及时,谢谢师傅"
    again = resident.post(f"{base}/rate", json={"score": 5})
    assert again.status_code == 409 and again.json["reason"] == "already_rated"
    assert resident.post(f"{base}/rate", json={"score": 6}).status_code == 422
    assert resident.post(f"{base}/rate", json={"score": "5"}).status_code == 422

    history = resident.get(f"{base}/events").json
    assert [e["action"] for e in history] == ["submit", "claim", "substitute", "start", "dispatch", "deliver",
                                              "confirm"]
    sent = notifications_of(app, quarantined.resident_a.id)
    assert [n.data["phrase3"] for n in sent] == ["已提交", "已接单", "商品调整", "采购中", "配送中", "已送达", "已完成"]
    assert {n.kind for n in sent} == {"delivery_status"}
    assert all(FakeWeChat._invalid_field(as_sent(n.data)) is None for n in sent)  # what WeChat gets fits
    assert all(n.data["character_string1"] == f"SC{delivery_id:06d}" for n in sent)
    assert sent[0].data["thing2"] == "白菜 等2件"
    assert sent[2].data["thing5"] == "白菜换为油麦菜;鸡蛋缺货"
    assert "42.50" in sent[4].data["thing5"]
    assert sent[0].page == f"pages/delivery/detail?id={delivery_id}"


def test_illegal_transitions_answer_409_with_the_current_state(app, quarantined, as_user):
    delivery_id = _submitted(app, quarantined, as_user)
    staff = as_user(quarantined.staff_a)
    resident = as_user(quarantined.resident_a)
    base = f"/api/v1/deliveries/{delivery_id}"
    early = staff.post(f"{base}/deliver", json={})
    assert early.status_code == 409 and early.json["current_status"] == "submitted"
    assert early.json["reason"] == "delivery_state"
    assert staff.post(f"{base}/claim").status_code == 200
    with app.app_context():
        second = make_user(quarantined.alliance, "staff", company=quarantined.company_a, name="甲二")
        db.session.commit()
    twice = as_user(second).post(f"{base}/claim")
    assert twice.status_code == 409 and twice.json["reason"] == "delivery_claimed"
    assert twice.json["current_status"] == "claimed"
    assert staff.post(f"{base}/start").status_code == 200
    late = resident.post(f"{base}/cancel", json={"reason": "不要了"})
    assert late.status_code == 409 and late.json["current_status"] == "purchasing"
    assert resident.post(f"{base}/confirm").status_code == 409
    with app.app_context():
        row = db.session.get(DeliveryRequest, delivery_id)
        assert (row.status, row.claimed_by_id, row.closed_at) == ("purchasing", quarantined.staff_a.id, None)
        assert db.session.scalar(select(func.count()).where(DeliveryEvent.request_id == delivery_id)) == 3


def test_staff_reject_with_a_reason(app, quarantined, as_user):
    delivery_id = _submitted(app, quarantined, as_user)
    staff = as_user(quarantined.staff_a)
    assert staff.post(f"/api/v1/deliveries/{delivery_id}/reject", json={}).status_code == 422
    reason = "附近三家超市均已关闭,菜市场明天才开门,请联系社区网格员"
    rejected = staff.post(f"/api/v1/deliveries/{delivery_id}/reject", json={"reason": reason})
    assert rejected.json["status"] == "rejected" and rejected.json["close_reason"] == reason
    last = notifications_of(app, quarantined.resident_a.id)[-1]
    # The inbox keeps the whole reason; WeChat's thing fields hold 20 characters, so the sent one is cut.
    assert last.data["phrase3"] == "已拒绝" and last.data["thing5"] == "原因:" + reason
    assert fit_subscribe_data(last.data)["thing5"] == "原因:附近三家超市均已关闭,菜市场明天…"
    assert len(fit_subscribe_data(last.data)["thing5"]) == 20
    assert staff.post(f"/api/v1/deliveries/{delivery_id}/claim").json["current_status"] == "rejected"


def test_guards_run_deliveries_only_where_staff_allow_it(app, quarantined, as_user):
    delivery_id = _submitted(app, quarantined, as_user)
    guard = as_user(quarantined.guard_a)
    queue_url = f"/api/v1/compounds/{quarantined.compound_a.id}/delivery-queue"
    refused = guard.get(queue_url)
    assert refused.status_code == 403 and refused.json["reason"] == "guards_may_not_run"
    assert guard.post(f"/api/v1/deliveries/{delivery_id}/claim").status_code == 404
    staff = as_user(quarantined.staff_a)
    settings_url = f"/api/v1/compounds/{quarantined.compound_a.id}/delivery-settings"
    assert staff.get(settings_url).json == {"compound_id": quarantined.compound_a.id, "guards_may_run": False}
    assert guard.put(settings_url, json={"guards_may_run": True}).status_code == 403
    assert as_user(quarantined.staff_b).put(settings_url, json={"guards_may_run": True}).status_code == 404
    assert staff.put(settings_url, json={"guards_may_run": True}).json["guards_may_run"] is True
    assert [r["id"] for r in guard.get(queue_url).json["items"]] == [delivery_id]
    assert guard.post(f"/api/v1/deliveries/{delivery_id}/claim").json["claimed_by_id"] == quarantined.guard_a.id
    assert guard.post(f"/api/v1/deliveries/{delivery_id}/start").status_code == 200
    assert guard.post(f"/api/v1/deliveries/{delivery_id}/reject", json={"reason": "x"}).status_code == 403
    # another guard of the compound may see it, not run it
    with app.app_context():
        other = make_user(quarantined.alliance, "guard", company=quarantined.company_a,
                          compound=db.session.get(Compound, quarantined.compound_a.id), name="甲保安二")
        db.session.commit()
    not_theirs = as_user(other).post(f"/api/v1/deliveries/{delivery_id}/dispatch", json={})
    assert not_theirs.status_code == 403 and not_theirs.json["reason"] == "not_claimant"
    assert guard.post(f"/api/v1/deliveries/{delivery_id}/dispatch", json={}).json["status"] == "on_the_way"


def test_unknown_item_and_substitution_rules(app, quarantined, as_user):
    delivery_id = _submitted(app, quarantined, as_user)
    staff = as_user(quarantined.staff_a)
    url = f"/api/v1/deliveries/{delivery_id}/items"
    item_id = staff.get(f"/api/v1/deliveries/{delivery_id}").json["items"][0]["id"]
    too_early = staff.patch(url, json={"items": [{"item_id": item_id, "outcome": "bought"}]})
    assert too_early.status_code == 409 and too_early.json["current_status"] == "submitted"
    staff.post(f"/api/v1/deliveries/{delivery_id}/claim")
    unknown = staff.patch(url, json={"items": [{"item_id": 424242, "outcome": "bought"}]})
    assert unknown.status_code == 422 and unknown.json["reason"] == "unknown_item"
    no_substitute = staff.patch(url, json={"items": [{"item_id": item_id, "outcome": "substituted"}]})
    assert no_substitute.status_code == 422
    stray = staff.patch(url, json={"items": [{"item_id": item_id, "outcome": "bought", "substitute": "米"}]})
    assert stray.status_code == 422
    bought = staff.patch(url, json={"items": [{"item_id": item_id, "outcome": "bought"}]})
    assert bought.json["items"][0]["outcome"] == "bought"


def test_unconfirmed_deliveries_confirm_themselves_after_24_hours(app, quarantined, as_user):
    with time_machine.travel(T0, tick=False):
        with app.app_context():
            quarantine(quarantined.household_a.id, quarantined.compound_a.id, T0)
        delivery_id = _submitted(app, quarantined, as_user)
        staff = as_user(quarantined.staff_a)
        for action in ("claim", "start", "dispatch", "deliver"):
            assert staff.post(f"/api/v1/deliveries/{delivery_id}/{action}", json={}).status_code == 200
    runner = app.test_cli_runner()
    with time_machine.travel(T0 + timedelta(hours=23, minutes=59), tick=False):
        assert "0 deliveries" in runner.invoke(args=["wuye", "confirm-deliveries"]).output
    with time_machine.travel(T0 + timedelta(hours=24), tick=False):
        assert "1 deliveries" in runner.invoke(args=["wuye", "confirm-deliveries"]).output
        assert "0 deliveries" in runner.invoke(args=["wuye", "confirm-deliveries"]).output
    with app.app_context():
        row = db.session.get(DeliveryRequest, delivery_id)
        assert row.status == "confirmed" and row.auto_confirmed and row.confirmed_at == T0 + timedelta(hours=24)
        auto = db.session.scalar(select(DeliveryEvent).where(DeliveryEvent.action == "auto_confirm"))
        assert auto.actor_id is None
    last = notifications_of(app, quarantined.resident_a.id)[-1]
    assert last.data["phrase3"] == "已完成" and "自动确认" in last.data["thing5"]
    assert last.data["time4"] == "2026年3月3日 09:00"


def test_resident_lists_only_their_household(app, quarantined, as_user):
    _submitted(app, quarantined, as_user)
    _submitted(app, quarantined, as_user, quarantined.resident_b)
    mine = as_user(quarantined.resident_a).get("/api/v1/deliveries").json
    assert mine["total"] == 1 and mine["items"][0]["household_id"] == quarantined.household_a.id


def test_the_runner_sees_the_whole_phone_only_until_delivery(app, quarantined, as_user):
    delivery_id = _submitted(app, quarantined, as_user)
    with app.app_context():
        other = make_user(db.session.merge(quarantined.alliance), "staff", company=db.session.merge(quarantined.company_a),
                          name="乙客服")
        db.session.commit()
    staff, colleague = as_user(quarantined.staff_a), as_user(other)
    base = f"/api/v1/deliveries/{delivery_id}"
    assert "****" in staff.get(base).json["contact_phone"]  # not claimed yet
    assert staff.post(f"{base}/claim").json["contact_phone"].isdigit()
    for step in ("start", "dispatch", "deliver"):
        body = staff.post(f"{base}/{step}", json={} if step != "start" else None).json
        assert body["contact_phone"].isdigit(), step
        assert "****" in colleague.get(base).json["contact_phone"]  # only the runner
    assert as_user(quarantined.resident_a).post(f"{base}/confirm").status_code == 200
    assert "****" in staff.get(base).json["contact_phone"]  # done: masked again
    listed = staff.get(f"/api/v1/deliveries?compound_id={quarantined.compound_a.id}").json["items"]
    assert "****" in listed[0]["contact_phone"]


def test_a_page_of_requests_costs_a_fixed_number_of_queries(app, world, as_user):
    from sqlalchemy import event

    with app.app_context():
        households = [make_household(world.compound_a, room=str(300 + i)) for i in range(6)]
        residents = [make_user(world.alliance, "resident", household=h, name=f"住户{i}") for i, h in enumerate(households)]
        for h in households:
            quarantine(h.id, world.compound_a.id)
    for i, resident in enumerate(residents):
        assert as_user(resident).post("/api/v1/deliveries", json=order(f"p{i}")).status_code == 201
    staff = as_user(world.staff_a)
    url = f"/api/v1/compounds/{world.compound_a.id}/delivery-queue"

    def count(page_size: int) -> int:
        statements = []
        with app.app_context():
            engine = db.engine
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            assert staff.get(f"{url}?page_size={page_size}").status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return len(statements)

    assert count(6) == count(1)


def test_a_pending_members_order_does_not_make_the_household_eligible(app, world, as_user):
    with app.app_context():
        newcomer = make_user(world.alliance, "resident", household=world.household_a, name="新住户",
                             residency="pending")
        db.session.add(QuarantineOrder(compound_id=world.compound_a.id, household_id=world.household_b.id,
                                       user_id=newcomer.id, reason="close_contact",
                                       starts_at=datetime.now(UTC) - timedelta(hours=1),
                                       ends_at=datetime.now(UTC) + timedelta(days=7)))
        db.session.commit()
        newcomer_id = newcomer.id
    r = as_user(world.resident_a).post("/api/v1/deliveries", json=order())
    assert (r.status_code, r.json["reason"]) == (403, "delivery_not_eligible")
    with app.app_context():
        db.session.get(type(world.resident_a), newcomer_id).residency = "approved"
        db.session.commit()
    assert as_user(world.resident_a).post("/api/v1/deliveries", json=order()).status_code == 201


def test_ids_beyond_the_database_are_422(app, quarantined, as_user):
    delivery_id = _submitted(app, quarantined, as_user)
    staff = as_user(quarantined.staff_a)
    assert staff.post(f"/api/v1/deliveries/{delivery_id}/claim").status_code == 200
    r = staff.patch(f"/api/v1/deliveries/{delivery_id}/items",
                    json={"items": [{"item_id": 2**64, "outcome": "out_of_stock"}]})
    assert r.status_code == 422
    assert staff.get(f"/api/v1/deliveries?compound_id={2**64}").status_code == 422
    assert staff.get("/api/v1/deliveries?compound_id=0").status_code == 422


def as_sent(data: dict) -> dict:
    """Notification data as the outbox sends it: fitted, in WeChat's {"key": {"value": ...}} shape."""
    return {key: {"value": value} for key, value in fit_subscribe_data(data).items()}
