"""The request's one commit, made early by a write that only renders its answer afterwards."""

from __future__ import annotations

from sqlalchemy import select

from server import create_app
from server.errors import ConflictError
from server.extensions import db
from server.models.alliance import Alliance
from server.models.compounds import Gate
from server.request_commit import commit_request
from tests.conftest import TEST_SECRET


def _app_with_routes(tmp_path):
    app = create_app({"WUYE_ENV": "testing", "WUYE_SECRET_KEY": TEST_SECRET,
                      "WUYE_DATABASE_URL": f"sqlite:///{tmp_path / 'commit.db'}"})
    with app.app_context():
        db.create_all(bind_key=None)  # the app's own database (another test may have registered a replica bind)

    @app.post("/early/<name>")
    def early(name):
        db.session.add(Alliance(name=name))
        commit_request()
        return {"saved": name}

    @app.post("/dangling")
    def dangling():
        db.session.add(Gate(compound_id=424242, name="x", code="dangling"))
        commit_request()
        return {"saved": True}

    @app.post("/early-then-refused")
    def early_then_refused():
        db.session.add(Alliance(name="先存"))
        commit_request()
        raise ConflictError("conflict")

    return app


def _alliances(app) -> list[str]:
    with app.app_context():
        return db.session.scalars(select(Alliance.name).order_by(Alliance.name)).all()


def test_an_early_commit_keeps_the_write_and_the_end_of_the_request_adds_nothing(tmp_path):
    app = _app_with_routes(tmp_path)
    response = app.test_client().post("/early/黄平路联盟")
    assert response.status_code == 200 and response.json == {"saved": "黄平路联盟"}
    assert _alliances(app) == ["黄平路联盟"]


def test_a_write_the_database_refuses_at_the_early_commit_is_409_and_nothing_is_kept(tmp_path):
    app = _app_with_routes(tmp_path)
    response = app.test_client().post("/dangling")
    assert response.status_code == 409 and response.json["reason"] == "conflict"
    with app.app_context():
        assert db.session.scalars(select(Gate)).all() == []


def test_work_committed_early_stays_when_the_answer_is_an_error(tmp_path):
    # Why only an answer that renders what was written may follow commit_request: an error after it
    # cannot take the write back.
    app = _app_with_routes(tmp_path)
    assert app.test_client().post("/early-then-refused").status_code == 409
    assert _alliances(app) == ["先存"]
