"""Two `flask wuye notify` processes drain one outbox at once against the fake WeChat: nothing twice."""

from __future__ import annotations

import json
import re
from collections import Counter

from sqlalchemy import select

from server.extensions import db
from server.models.alliance import Alliance
from server.models.notifications import Notification, WeChatSubscription
from server.models.people import User
from server.plumbing.notifications import enqueue
from server.plumbing.wechat_token import access_token
from server.services.people.sign_in import wechat_client
from tests.factories import make_user
from tests.fakes.wechat_server import STABLE_TOKEN, SUBSCRIBE_SEND
from tests.hosts.processes import service_environ, start_command

TEMPLATE = "tmpl-alert-0001"
MESSAGES = 30
ACCEPTED = 100
SEND_SECONDS = 0.2  # each send stalls, so one drain alone would take 6 s: the two surely overlap


def _outbox(world, fake) -> list[int]:
    """Three residents who accepted the template, and MESSAGES notifications queued among them."""
    residents = [db.session.get(User, world.resident_a.id), db.session.get(User, world.resident_b.id),
                 make_user(db.session.get(Alliance, world.alliance.id), "resident", name="李桂芳")]
    for user in residents:
        fake.subscribe(user.openid, TEMPLATE)
        db.session.add(WeChatSubscription(user_id=user.id, template_id=TEMPLATE, remaining=ACCEPTED))
    for n in range(MESSAGES):
        enqueue(residents[n % 3].id, "alert", {"thing1": f"测试消息{n:02d}", "time3": "2026-03-02 09:00"},
                dedupe_key=f"hosts:{n}")
    db.session.commit()
    return [user.id for user in residents]


def test_two_drains_at_once_send_each_message_exactly_once(app, wechat_app, world, database_url):
    fake = wechat_app
    with app.app_context():
        residents = _outbox(world, fake)
        # The shared access token is fetched once beforehand, as an earlier run would have left it.
        client = wechat_client()
        access_token(client)
        client.close()
    for _ in range(MESSAGES):
        fake.delay_next(SUBSCRIBE_SEND, SEND_SECONDS)

    environ = service_environ(database_url, WUYE_WECHAT_API_BASE=fake.base_url,
                              WUYE_WECHAT_TEMPLATES=json.dumps({"alert": TEMPLATE}))
    workers = [start_command(["notify", "--batch", "3"], environ) for _ in range(2)]
    outputs = [worker.communicate(timeout=120)[0] for worker in workers]
    assert [worker.returncode for worker in workers] == [0, 0], outputs

    sent_by = [int(m.group(1)) if (m := re.search(r"sent (\d+)", out)) else 0 for out in outputs]
    assert sum(sent_by) == MESSAGES, outputs
    assert min(sent_by) > 0, f"the two drains did not overlap: {outputs}"

    # WeChat received every message exactly once ...
    bodies = [m["data"]["thing1"]["value"] for m in fake.sent_messages]
    assert sorted(bodies) == sorted(f"测试消息{n:02d}" for n in range(MESSAGES))
    assert len([r for r in fake.requests if r["path"] == SUBSCRIBE_SEND]) == MESSAGES
    assert len([r for r in fake.requests if r["path"] == STABLE_TOKEN]) == 1  # the shared token, fetched once
    # ... every row is sent once, and each send spent exactly one acceptance.
    with app.app_context():
        rows = db.session.execute(select(Notification.status, Notification.attempts, Notification.user_id)).all()
        assert Counter(status for status, _attempts, _user in rows) == {"sent": MESSAGES}
        assert {attempts for _status, attempts, _user in rows} == {1}
        per_user = Counter(user for _status, _attempts, user in rows)
        remaining = dict(db.session.execute(select(WeChatSubscription.user_id, WeChatSubscription.remaining)).all())
        assert {user: ACCEPTED - remaining[user] for user in residents} == dict(per_user)
