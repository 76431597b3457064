"""Staff and admins bind their WeChat with a one-time code, so alerts reach them through WeChat."""

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from server.extensions import db
from server.models.audit import AuditEntry
from server.models.compounds import Compound
from server.models.notifications import Notification, WeChatSubscription
from server.models.people import User
from server.models.wechat_bindings import WeChatBindCode
from server.plumbing.alerts import ALERT_TITLES, notify_staff, raise_alert
from server.plumbing.notify_drain import drain
from server.services.people.sign_in import wechat_client
from server.services.people.wechat_binding import ALPHABET, BIND_CODES_PER_HOUR, CODE_LENGTH

ALERT_TEMPLATE = "tmpl-alert-staff"
T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai


@pytest.fixture
def templates(app):
    app.config["WECHAT_TEMPLATES"] = {"alert": ALERT_TEMPLATE}
    yield
    app.config["WECHAT_TEMPLATES"] = {}


def _bind(console, client, fake, openid, wx_code="wx-code-1"):
    """Bind from a signed-in console (`as_user(...)`, made before: as_user merges the test's stale copy)."""
    code = console.post("/api/v1/me/wechat/bind-code")
    assert code.status_code == 201, code.json
    fake.add_code(wx_code, openid)
    return code.json["code"], client.post("/api/v1/auth/wechat/bind", json={"bind_code": code.json["code"],
                                                                            "code": wx_code})


def test_a_bind_code_is_shown_once_hashed_at_rest_short_lived_and_single_use(app, world, as_user, client,
                                                                              wechat_app):
    with time_machine.travel(T0, tick=False):
        answer = as_user(world.staff_a).post("/api/v1/me/wechat/bind-code")
    assert answer.status_code == 201 and answer.headers["Cache-Control"] == "no-store"
    code = answer.json["code"]
    assert len(code) == CODE_LENGTH and set(code) <= set(ALPHABET) and answer.json["expires_in"] == 600
    with app.app_context():
        [row] = db.session.scalars(select(WeChatBindCode)).all()
        assert row.code_hash == hashlib.sha256(code.encode()).hexdigest() and code not in row.code_hash
    # Ten minutes later it is worth nothing, and WeChat was not even asked.
    wechat_app.add_code("late", "o-staff-a")
    with time_machine.travel(T0 + timedelta(minutes=10, seconds=1), tick=False):
        late = client.post("/api/v1/auth/wechat/bind", json={"bind_code": code, "code": "late"})
    assert late.status_code == 422 and late.json["reason"] == "bind_code_invalid"
    assert "bind_code" in late.json["errors"]["json"]
    assert not [r for r in wechat_app.requests if r["path"] == "/sns/jscode2session"]

    # A fresh one works once (typed in lower case with a dash), and signs the mini-program in as the staff member.
    console = as_user(world.staff_a)
    code = console.post("/api/v1/me/wechat/bind-code").json["code"]
    wechat_app.add_code("wx-1", "o-staff-a")
    bound = client.post("/api/v1/auth/wechat/bind", json={"bind_code": f"{code[:5].lower()}-{code[5:]}",
                                                          "code": "wx-1"})
    assert bound.status_code == 200, bound.json
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {bound.json['access_token']}"}).json
    assert me["id"] == world.staff_a.id and me["role"] == "staff" and me["wechat_bound"] is True
    assert console.get("/api/v1/me/wechat").json == {"bound": True}
    wechat_app.add_code("wx-2", "o-someone-else")
    again = client.post("/api/v1/auth/wechat/bind", json={"bind_code": code, "code": "wx-2"})
    assert again.status_code == 422 and again.json["reason"] == "bind_code_invalid"
    with app.app_context():
        assert db.session.get(User, world.staff_a.id).openid == "o-staff-a"
        assert db.session.scalar(select(AuditEntry.action).where(AuditEntry.action == "wechat_bound")) is not None
    # Signing in with WeChat from now on reaches the same account.
    wechat_app.add_code("wx-3", "o-staff-a")
    later = client.post("/api/v1/auth/wechat", json={"code": "wx-3"})
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {later.json['access_token']}"}).json
    assert me["id"] == world.staff_a.id


def test_a_new_bind_code_cancels_the_last_and_codes_are_rate_limited(app, world, as_user, client, wechat_app):
    admin = as_user(world.admin)
    first = admin.post("/api/v1/me/wechat/bind-code").json["code"]
    second = admin.post("/api/v1/me/wechat/bind-code").json["code"]
    wechat_app.add_code("wx-1", "o-admin")
    stale = client.post("/api/v1/auth/wechat/bind", json={"bind_code": first, "code": "wx-1"})
    assert stale.status_code == 422
    for _ in range(BIND_CODES_PER_HOUR - 2):
        assert admin.post("/api/v1/me/wechat/bind-code").status_code == 201
    refused = admin.post("/api/v1/me/wechat/bind-code")
    assert refused.status_code == 429 and refused.json["reason"] == "bind_codes_exhausted"
    assert 0 < int(refused.headers["Retry-After"]) <= 3600
    # The second code was cancelled by the later ones: only the newest works.
    wechat_app.add_code("wx-2", "o-admin")
    assert client.post("/api/v1/auth/wechat/bind", json={"bind_code": second, "code": "wx-2"}).status_code == 422


@pytest.mark.parametrize("role", ["resident", "guard"])
def test_wechat_accounts_have_nothing_to_bind(world, as_user, role):
    user = world.by_role()[role]
    assert as_user(user).post("/api/v1/me/wechat/bind-code").status_code == 403
    assert as_user(user).delete("/api/v1/me/wechat").status_code == 403


def test_an_openid_bound_to_another_account_is_refused_and_the_code_survives(app, world, as_user, client,
                                                                             wechat_app):
    with app.app_context():
        resident_openid = db.session.get(User, world.resident_a.id).openid
    code, taken = _bind(as_user(world.staff_a), client, wechat_app, resident_openid)
    assert taken.status_code == 409 and taken.json["reason"] == "wechat_already_bound"
    # A WeChat that fails to answer, or a bad login code, does not spend the bind code either.
    wechat_app.fail_next("/sns/jscode2session", -1)
    busy = client.post("/api/v1/auth/wechat/bind", json={"bind_code": code, "code": "anything"})
    assert busy.status_code == 503
    bad = client.post("/api/v1/auth/wechat/bind", json={"bind_code": code, "code": "never-issued"})
    assert bad.status_code == 401 and bad.json["reason"] == "wechat_code_invalid"
    wechat_app.add_code("wx-ok", "o-staff-a")
    ok = client.post("/api/v1/auth/wechat/bind", json={"bind_code": code, "code": "wx-ok"})
    assert ok.status_code == 200
    # The same WeChat cannot serve a second staff account.
    _, second = _bind(as_user(world.staff_b), client, wechat_app, "o-staff-a", wx_code="wx-b")
    assert second.status_code == 409 and second.json["reason"] == "wechat_already_bound"


def test_bind_requests_are_validated(client, world):
    assert client.post("/api/v1/auth/wechat/bind", json={"bind_code": "ABC"}).status_code == 422
    assert client.post("/api/v1/auth/wechat/bind", json={"bind_code": "A" * 33, "code": "x"}).status_code == 422
    unknown = client.post("/api/v1/auth/wechat/bind", json={"bind_code": "ABCDEFGHJK", "code": "x"})
    assert unknown.status_code == 422 and unknown.json["reason"] == "bind_code_invalid"


def _fever(app, world):
    with app.app_context(), time_machine.travel(T0, tick=False):
        alert = raise_alert(world.compound_a.id, "fever", subject_user_id=world.resident_a.id,
                            dedupe_key=f"fever:{world.resident_a.id}")
        queued = notify_staff(alert)
        db.session.commit()
        return alert.id, queued


def test_alerts_reach_a_bound_staff_member_through_wechat_and_every_staff_member_in_the_inbox(
        app, world, as_user, client, wechat_app, templates):
    console = as_user(world.staff_a)
    _, bound = _bind(console, client, wechat_app, "o-staff-a")
    assert bound.status_code == 200
    with app.app_context():
        other = User(role="staff", alliance_id=world.alliance.id, company_id=world.company_a.id,
                     username="unbound-staff", display_name="乙")
        db.session.add(other)
        db.session.commit()
        other_id = other.id
    # In the mini-program (signed in as the staff member) they accepted the alert template twice.
    mini = {"Authorization": f"Bearer {bound.json['access_token']}"}
    wechat_app.subscribe("o-staff-a", ALERT_TEMPLATE)
    held = client.post("/api/v1/me/subscriptions", headers=mini, json={"accepted": [{"kind": "alert", "count": 2}]})
    assert held.status_code == 200
    assert held.json["templates"] == [{"template_id": ALERT_TEMPLATE, "kinds": ["alert"], "remaining": 2}]

    alert_id, queued = _fever(app, world)
    assert queued == 2  # both staff members of company A: the bound one and the one without WeChat
    with app.app_context():
        assert drain(wechat_client()) == {"sent": 1, "inbox_only": 1}
        statuses = dict(db.session.execute(select(Notification.user_id, Notification.status)).all())
    assert statuses == {world.staff_a.id: "sent", other_id: "inbox_only"}
    [message] = wechat_app.sent_messages
    assert message["touser"] == "o-staff-a" and message["template_id"] == ALERT_TEMPLATE
    assert message["page"] == f"pages/alerts/detail?id={alert_id}"
    assert message["data"] == {"thing1": {"value": ALERT_TITLES["fever"]}, "thing2": {"value": "甲小区"},
                               "time3": {"value": "2026年3月2日 09:00"}}
    # Both read it in their inbox; company B's staff got nothing.
    with app.app_context():
        unbound = as_user(db.session.get(User, other_id))
    for reader, on_wechat in ((console, True), (unbound, False)):
        inbox = reader.get("/api/v1/me/messages").json
        assert inbox["unread"] == 1 and inbox["items"][0]["title"] == "小区预警"
        assert inbox["items"][0]["body"] == f"{ALERT_TITLES['fever']} · 甲小区 · 2026年3月2日 09:00"
        assert inbox["items"][0]["sent_on_wechat"] is on_wechat
    assert as_user(world.staff_b).get("/api/v1/me/messages").json["total"] == 0
    with app.app_context():
        assert db.session.scalar(select(WeChatSubscription.remaining)) == 1


def test_unbinding_stops_wechat_messages_and_ends_the_wechat_sign_ins(app, world, as_user, client, wechat_app,
                                                                       templates):
    console = as_user(world.staff_a)
    _, bound = _bind(console, client, wechat_app, "o-staff-a")
    mini = {"Authorization": f"Bearer {bound.json['access_token']}"}
    wechat_app.subscribe("o-staff-a", ALERT_TEMPLATE)
    reported = client.post("/api/v1/me/subscriptions", headers=mini, json={"accepted": [{"kind": "alert"}]})
    assert reported.status_code == 200
    assert console.delete("/api/v1/me/wechat").status_code == 204
    assert console.get("/api/v1/me").json["wechat_bound"] is False  # the console's own session goes on
    assert client.get("/api/v1/me", headers=mini).status_code == 401  # the mini-program's session ended
    with app.app_context():
        assert db.session.get(User, world.staff_a.id).openid is None
        assert db.session.scalars(select(WeChatSubscription)).all() == []
    _fever(app, world)
    with app.app_context():
        assert drain(wechat_client())["inbox_only"] == 1
    assert wechat_app.sent_messages == []
    assert console.get("/api/v1/me/messages/unread").json == {"unread": 1}
    # The freed WeChat can be bound again (to this or another account).
    _, again = _bind(as_user(world.staff_b), client, wechat_app, "o-staff-a", wx_code="wx-again")
    assert again.status_code == 200


def test_alliance_admin_binds_too(app, world, as_user, client, wechat_app):
    _, bound = _bind(as_user(world.admin), client, wechat_app, "o-admin")
    assert bound.status_code == 200
    with app.app_context():
        assert db.session.get(User, world.admin.id).openid == "o-admin"
        assert db.session.get(Compound, world.compound_orphan.id) is not None
