"""One-time subscriptions reported by the mini-program and spent by the outbox; the in-app inbox keeps everything."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from server.extensions import db
from server.integrations.wechat import fit_subscribe_data
from server.models.notifications import Notification, WeChatSubscription
from server.models.people import User
from server.plumbing.notify_drain import drain
from server.services.people.sign_in import wechat_client
from tests.api.test_deliveries import order, quarantine
from tests.fakes.wechat_server import FakeWeChat

DELIVERY_TEMPLATE = "tmpl-delivery-status"
ALERT_TEMPLATE = "tmpl-alert"


@pytest.fixture
def templates(app):
    app.config["WECHAT_TEMPLATES"] = {"delivery_status": DELIVERY_TEMPLATE, "alert": ALERT_TEMPLATE,
                                      "report_reminder": ALERT_TEMPLATE}
    yield
    app.config["WECHAT_TEMPLATES"] = {}


@pytest.fixture
def quarantined(app, world, wechat_app, templates):
    """resident_a's household in home quarantine; WeChat knows resident_a as a user who accepts everything."""
    with app.app_context():
        quarantine(world.household_a.id, world.compound_a.id)
        openid = db.session.get(User, world.resident_a.id).openid
    wechat_app.subscribe(openid, DELIVERY_TEMPLATE)
    return world


def _drain(app):
    with app.app_context():
        return drain(wechat_client())


def _lifecycle(app, world, as_user, *, drain_each_step: bool):
    """A whole grocery order: seven messages (received, claimed, an item changed, purchasing, on the way,
    delivered, confirmed)."""
    resident, staff = as_user(world.resident_a), as_user(world.staff_a)
    steps = [lambda: resident.post("/api/v1/deliveries", json=order())]
    base = "/api/v1/deliveries/{id}"
    ids = {}

    def submit():
        answer = steps[0]()
        ids["id"] = answer.json["id"]
        return answer

    def item_change():
        items = staff.get(base.format(**ids)).json["items"]
        return staff.patch(base.format(**ids) + "/items",
                           json={"items": [{"item_id": items[1]["id"], "outcome": "out_of_stock"}]})

    actions = [submit, lambda: staff.post(base.format(**ids) + "/claim"), item_change,
               lambda: staff.post(base.format(**ids) + "/start"),
               lambda: staff.post(base.format(**ids) + "/dispatch", json={"cost_cents": 4250}),
               lambda: staff.post(base.format(**ids) + "/deliver", json={}),
               lambda: resident.post(base.format(**ids) + "/confirm")]
    for action in actions:
        answer = action()
        assert answer.status_code in (200, 201), answer.json
        if drain_each_step:
            _drain(app)
    if not drain_each_step:
        _drain(app)


def _sent_phrases(fake: FakeWeChat) -> list[str]:
    return [m["data"]["phrase3"]["value"] for m in fake.sent_messages]


@pytest.mark.parametrize("drain_each_step", [True, False], ids=["drained-as-it-goes", "drained-once"])
def test_three_acceptances_carry_the_three_milestones_and_the_inbox_has_all_seven(
        app, quarantined, as_user, wechat_app, drain_each_step):
    resident = as_user(quarantined.resident_a)
    reported = resident.post("/api/v1/me/subscriptions", json={"accepted": [{"kind": "delivery_status", "count": 3}]})
    assert reported.status_code == 200
    assert {t["template_id"]: t["remaining"] for t in reported.json["templates"]} == {DELIVERY_TEMPLATE: 3,
                                                                                       ALERT_TEMPLATE: 0}
    _lifecycle(app, quarantined, as_user, drain_each_step=drain_each_step)
    assert sorted(_sent_phrases(wechat_app)) == sorted(["已接单", "配送中", "已送达"])
    with app.app_context():
        statuses = db.session.scalars(select(Notification.status).order_by(Notification.id)).all()
        assert statuses == ["inbox_only", "sent", "inbox_only", "inbox_only", "sent", "sent", "inbox_only"]
        assert db.session.scalar(select(WeChatSubscription.remaining)) == 0
    held = resident.get("/api/v1/me/subscriptions").json["templates"]
    assert {t["template_id"]: t["remaining"] for t in held}[DELIVERY_TEMPLATE] == 0

    inbox = resident.get("/api/v1/me/messages?page_size=5").json
    assert inbox["total"] == 7 and inbox["unread"] == 7 and len(inbox["items"]) == 5
    newest = inbox["items"][0]
    assert newest["title"] == "送菜进度" and "已完成" in newest["body"] and newest["read"] is False
    assert [m["sent_on_wechat"] for m in inbox["items"]] == [False, True, True, False, False]
    # The amount travels whole, first in its field, in the inbox and on WeChat.
    on_the_way = inbox["items"][2]
    assert on_the_way["fields"]["thing5"].startswith("费用¥42.50,")
    assert any(m["data"]["thing5"]["value"].startswith("费用¥42.50") for m in wechat_app.sent_messages)


def test_five_acceptances_also_carry_routine_progress_but_keep_the_milestones(app, quarantined, as_user,
                                                                               wechat_app):
    resident = as_user(quarantined.resident_a)
    with app.app_context():
        openid = db.session.get(User, quarantined.resident_a.id).openid
    # Straight from wx.requestSubscribeMessage, five times over.
    for _ in range(5):
        answer = resident.post("/api/v1/me/subscriptions", json={"results": {
            "errMsg": "requestSubscribeMessage:ok", DELIVERY_TEMPLATE: "accept", ALERT_TEMPLATE: "reject"}})
        assert answer.status_code == 200
    _lifecycle(app, quarantined, as_user, drain_each_step=True)
    # Received (3 milestones ahead, 5 held), claimed, the item change (2 ahead, 3 held), on the way, delivered.
    assert _sent_phrases(wechat_app) == ["已提交", "已接单", "商品调整", "配送中", "已送达"]
    assert {m["touser"] for m in wechat_app.sent_messages} == {openid}
    assert all(FakeWeChat._invalid_field(m["data"]) is None for m in wechat_app.sent_messages)


def test_marking_read_and_the_unread_count(app, quarantined, as_user):
    resident = as_user(quarantined.resident_a)
    _lifecycle(app, quarantined, as_user, drain_each_step=False)  # no acceptance reported: inbox only
    assert resident.get("/api/v1/me/messages/unread").json == {"unread": 7}
    first = resident.get("/api/v1/me/messages").json["items"][-1]
    read = resident.post(f"/api/v1/me/messages/{first['id']}/read")
    assert read.status_code == 200 and read.json["read"] is True and read.json["read_at"]
    assert resident.post(f"/api/v1/me/messages/{first['id']}/read").json["read_at"] == read.json["read_at"]
    assert resident.get("/api/v1/me/messages/unread").json == {"unread": 6}
    unread = resident.get("/api/v1/me/messages?unread=true").json
    assert unread["total"] == 6 and first["id"] not in [m["id"] for m in unread["items"]]
    # Another person's message does not exist for me.
    other = as_user(quarantined.resident_b)
    assert other.post(f"/api/v1/me/messages/{first['id']}/read").status_code == 404
    assert other.get("/api/v1/me/messages").json == {"items": [], "total": 0, "page": 1, "page_size": 20,
                                                     "unread": 0}
    assert resident.post("/api/v1/me/messages/read-all").json == {"unread": 0}
    assert resident.get("/api/v1/me/messages/unread").json == {"unread": 0}
    assert resident.get("/api/v1/me/messages?page_size=101").status_code == 422


def test_reports_are_validated(app, world, as_user, templates):
    resident = as_user(world.resident_a)
    for body in ({}, {"accepted": []}, {"accepted": [{"count": 1}]},
                 {"accepted": [{"kind": "alert", "template_id": ALERT_TEMPLATE}]},
                 {"accepted": [{"kind": "alert", "count": 0}]}, {"accepted": [{"kind": "alert", "count": 11}]},
                 {"accepted": [{"kind": "alert", "extra": 1}]}):
        assert resident.post("/api/v1/me/subscriptions", json=body).status_code == 422, body
    unknown = resident.post("/api/v1/me/subscriptions", json={"accepted": [{"template_id": "not-ours"}]})
    assert unknown.status_code == 422 and unknown.json["reason"] == "template_unknown"
    unknown = resident.post("/api/v1/me/subscriptions", json={"results": {"not-ours": "accept"}})
    assert unknown.status_code == 422 and unknown.json["reason"] == "template_unknown"
    # A staff member without a bound WeChat has nothing to report.
    unbound = as_user(world.staff_a).post("/api/v1/me/subscriptions", json={"accepted": [{"kind": "alert"}]})
    assert unbound.status_code == 409 and unbound.json["reason"] == "wechat_not_bound"
    # Acceptances add up, by kind or template (one template serving two kinds), and are capped.
    for _ in range(6):
        resident.post("/api/v1/me/subscriptions", json={"accepted": [{"kind": "alert", "count": 10}]})
    held = resident.post("/api/v1/me/subscriptions", json={"accepted": [{"kind": "report_reminder"}]}).json
    alert = next(t for t in held["templates"] if t["template_id"] == ALERT_TEMPLATE)
    assert alert == {"template_id": ALERT_TEMPLATE, "kinds": ["alert", "report_reminder"], "remaining": 50}


def test_the_inbox_keeps_whole_values_and_wechat_gets_them_fitted(app, quarantined, as_user, wechat_app):
    resident = as_user(quarantined.resident_a)
    resident.post("/api/v1/me/subscriptions", json={"accepted": [{"kind": "delivery_status", "count": 10}]})
    long_name = "东北五常稻花香大米(真空包装,十斤装,挑日期最近的)"
    body = order(items=[{"name": long_name, "quantity": 1, "unit": "袋"}])
    assert resident.post("/api/v1/deliveries", json=body).status_code == 201
    _drain(app)
    [message] = resident.get("/api/v1/me/messages").json["items"]
    assert message["fields"]["thing2"] == long_name
    [sent] = wechat_app.sent_messages
    assert sent["data"]["thing2"]["value"] == fit_subscribe_data({"thing2": long_name})["thing2"]
    assert len(sent["data"]["thing2"]["value"]) <= 20 and sent["data"]["thing2"]["value"].endswith("…")
    # One date format everywhere: 2026年3月2日 09:00.
    assert sent["data"]["time4"]["value"] == message["fields"]["time4"]
    assert "年" in sent["data"]["time4"]["value"] and "-" not in sent["data"]["time4"]["value"]
