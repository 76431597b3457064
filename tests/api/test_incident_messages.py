"""An incident reaches every member company at once: on WeChat where a staff member bound it and holds
an acceptance of the incident template, and always in the inbox (the seed: the flood at 万龙小区)."""

import pytest
import time_machine
from sqlalchemy import select

from server.extensions import db
from server.models.notifications import Notification
from server.plumbing.notify_drain import drain
from server.services.people.sign_in import wechat_client
from tests.api.test_wechat_binding import T0, _bind

INCIDENT_TEMPLATE = "tmpl-incident"


@pytest.fixture
def templates(app):
    app.config["WECHAT_TEMPLATES"] = {"incident": INCIDENT_TEMPLATE}
    yield
    app.config["WECHAT_TEMPLATES"] = {}


def test_an_incident_reaches_other_companies_on_wechat_and_everyone_in_the_inbox(
        app, world, as_user, client, wechat_app, templates):
    helper = as_user(world.staff_b)  # the other company, which will send help
    _, bound = _bind(helper, client, wechat_app, "o-staff-b")
    assert bound.status_code == 200
    mini = {"Authorization": f"Bearer {bound.json['access_token']}"}
    wechat_app.subscribe("o-staff-b", INCIDENT_TEMPLATE)
    held = client.post("/api/v1/me/subscriptions", headers=mini, json={"accepted": [{"kind": "incident"}]})
    assert held.status_code == 200, held.json

    with time_machine.travel(T0, tick=False):
        raised = as_user(world.staff_a).post("/api/v1/incidents", json={
            "compound_id": world.compound_a.id, "kind": "flood", "place": "1号楼、2号楼地下室,积水60厘米",
            "needs": [{"item": "people", "quantity": 10}, {"item": "pump", "quantity": 2}]})
    assert raised.status_code == 201, raised.json
    with app.app_context():
        recipients = set(db.session.scalars(select(Notification.user_id).where(Notification.kind == "incident")))
        assert recipients == {world.staff_b.id, world.admin.id}  # everyone but the raiser
        outcomes = drain(wechat_client())
    assert outcomes == {"sent": 1, "inbox_only": 1}
    [message] = wechat_app.sent_messages
    assert message["touser"] == "o-staff-b" and message["template_id"] == INCIDENT_TEMPLATE
    assert message["page"] == f"pages/incidents/detail?id={raised.json['id']}"
    assert message["data"]["thing2"] == {"value": "甲小区"}
    # A WeChat "thing" holds 20 characters: the kind and the start of the place, cut with an ellipsis.
    assert message["data"]["thing1"]["value"] == "汛情抢险:1号楼、2号楼地下室,积水6…"
    for reader in (helper, as_user(world.admin)):
        inbox = reader.get("/api/v1/me/messages").json
        assert inbox["unread"] == 1 and inbox["items"][0]["title"] == "联盟应急求助"
    assert as_user(world.staff_a).get("/api/v1/me/messages").json["total"] == 0
