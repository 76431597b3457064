"""The seed's story on the demo data: 黄平路8号院 has no property company, and the alliance admin runs it.

The admin signs in, lists its households, invites a resident (who joins and is approved), and sees
and acknowledges the alerts its residents raised, which used to sit unseen.
"""

from __future__ import annotations

from sqlalchemy import select

from server.cli import wuye_cli
from server.extensions import db
from server.models.alerts import Alert
from server.models.compounds import Compound
from server.models.people import User
from server.plumbing.alerts import notify_staff
from server.plumbing.caretakers import compound_actors


def _bearer(response) -> dict:
    assert response.status_code == 200, response.json
    return {"Authorization": f"Bearer {response.json['access_token']}"}


def test_the_alliance_admin_runs_huangpinglu_8(app, client, wechat_app):
    assert app.test_cli_runner().invoke(wuye_cli, ["demo-data"]).exit_code == 0
    admin = _bearer(client.post("/api/v1/auth/password", json={"username": "admin", "password": "wuye-demo-2020"}))

    compounds = client.get("/api/v1/compounds", headers=admin).json["items"]
    [hp] = [c for c in compounds if c["name"] == "黄平路8号院"]
    assert hp["company_id"] is None
    summary = client.get("/api/v1/alliance", headers=admin).json
    assert {"id": hp["id"], "name": "黄平路8号院", "households": 276, "run_by": "alliance",
            "caretaker_company_id": None} in summary["compounds_without_company"]

    households = client.get(f"/api/v1/compounds/{hp['id']}/households?page_size=100", headers=admin)
    assert households.status_code == 200 and households.json["total"] == 276
    household = households.json["items"][-1]

    invite = client.post(f"/api/v1/households/{household['id']}/invites", headers=admin)
    assert invite.status_code == 201, invite.json
    wechat_app.add_code("code-newcomer", "openid-newcomer")
    newcomer = _bearer(client.post("/api/v1/auth/wechat", json={"code": "code-newcomer"}))
    joined = client.post("/api/v1/me/invite", json={"code": invite.json["code"]}, headers=newcomer)
    assert joined.status_code == 200 and joined.json["household_id"] == household["id"]
    pending = client.get(f"/api/v1/compounds/{hp['id']}/residents?residency=pending", headers=admin).json["items"]
    assert [p["id"] for p in pending] == [joined.json["id"]]
    assert client.post(f"/api/v1/residents/{joined.json['id']}/approve", headers=admin).status_code == 200

    alerts = client.get(f"/api/v1/alerts?compound_id={hp['id']}&open=true", headers=admin)
    assert alerts.status_code == 200
    with app.app_context():
        expected = db.session.scalars(select(Alert.id).where(Alert.compound_id == hp["id"],
                                                             Alert.acknowledged_at.is_(None))).all()
    assert len(expected) >= 3 and sorted(a["id"] for a in alerts.json["items"]) == sorted(expected)
    assert {a["kind"] for a in alerts.json["items"]} >= {"fever", "missed_report", "welfare"}
    for alert in alerts.json["items"]:
        done = client.post(f"/api/v1/alerts/{alert['id']}/acknowledge", json={"note": "已上门处理"}, headers=admin)
        assert done.status_code == 200 and done.json["acknowledged_at"] is not None
    assert client.get(f"/api/v1/alerts?compound_id={hp['id']}&open=true", headers=admin).json["total"] == 0

    # Alerts of the compound are addressed to the admins who run it (reached on WeChat once bound).
    with app.app_context():
        compound = db.session.get(Compound, hp["id"])
        actors = db.session.scalars(select(User.username).where(compound_actors(compound))).all()
        assert actors == ["admin"]
        admin_user = db.session.scalar(select(User).where(User.username == "admin"))
        admin_user.openid = "openid-admin"
        alert = db.session.get(Alert, expected[0])
        assert notify_staff(alert) == 1
        db.session.rollback()
