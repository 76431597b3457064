"""`flask wuye` commands: create-admin, demo-data, synth."""

from __future__ import annotations

from sqlalchemy import func, select

from server.cli import wuye_cli
from server.extensions import db
from server.models.alliance import Alliance
from server.models.compounds import Compound, Gate, Household
from server.models.people import User


def test_create_admin_then_sign_in(app, client):
    result = app.test_cli_runner().invoke(wuye_cli, ["create-admin", "--username", "chenxu",
                                                     "--password", "a strong password"])
    assert result.exit_code == 0, result.output
    login = client.post("/api/v1/auth/password", json={"username": "chenxu", "password": "a strong password"})
    assert login.status_code == 200
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {login.json['access_token']}"}).json
    assert me["role"] == "alliance_admin"
    weak = app.test_cli_runner().invoke(wuye_cli, ["create-admin", "--username", "x", "--password", "short"])
    assert weak.exit_code != 0


def test_demo_data_from_the_seeds(app):
    runner = app.test_cli_runner()
    result = runner.invoke(wuye_cli, ["demo-data", "--if-empty"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(select(Alliance.name)) == "回龙观街道物业联盟"
        hp = db.session.scalar(select(Compound).where(Compound.name == "黄平路8号院"))
        assert hp.company_id is None
        assert db.session.scalar(select(func.count()).select_from(Household)
                                 .where(Household.compound_id == hp.id)) == 276
        wl = db.session.scalar(select(Compound).where(Compound.name == "万龙小区"))
        assert wl.company_id is not None
        roles = dict(db.session.execute(select(User.role, func.count()).group_by(User.role)).all())
        assert roles["alliance_admin"] >= 1 and roles["staff"] >= 1 and roles["guard"] >= 1 and roles["resident"] >= 4
    # a second run with --if-empty leaves the data alone
    again = runner.invoke(wuye_cli, ["demo-data", "--if-empty"])
    assert again.exit_code == 0 and "already" in again.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Alliance)) == 1


def test_synth_generates_the_requested_size(app):
    result = app.test_cli_runner().invoke(wuye_cli, ["synth", "--compounds", "3", "--households", "40", "--days", "1"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Compound)) == 3
        assert db.session.scalar(select(func.count()).select_from(Household)) == 120
        assert db.session.scalar(select(func.count()).select_from(Gate)) == 9
        residents = db.session.scalar(select(func.count()).select_from(User).where(User.role == "resident"))
        assert 120 <= residents <= 480


def test_demo_data_refused_in_production(app):
    app.config["WUYE_ENV"] = "production"
    try:
        result = app.test_cli_runner().invoke(wuye_cli, ["demo-data", "--if-empty"])
    finally:
        app.config["WUYE_ENV"] = "testing"
    assert result.exit_code != 0 and "production" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Alliance)) == 0
