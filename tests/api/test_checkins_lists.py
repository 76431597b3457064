"""Staff and guard views of check-ins: lists filtered and masked by role, hourly counts, scope."""

from __future__ import annotations

from datetime import timedelta

import time_machine

from server.extensions import db
from server.models.audit import AuditEntry
from tests.api.checkin_helpers import (
    T0,
    _fresh_key_cache,  # noqa: F401 - an autouse fixture
    count,
    pass_of,
    scan,
)
from tests.factories import make_household, make_user


@time_machine.travel(T0, tick=False)
def test_lists_filter_and_mask_by_role(app, world, as_user):
    guard = as_user(world.guard_a)
    scan(guard, pass_of(as_user, world.resident_a), world.gate_a.id, "out")
    scan(guard, "bogus", world.gate_a.id, "in")
    with app.app_context():
        other = make_user(world.alliance, "resident", household=make_household(world.compound_a), name="赵六")
        db.session.commit()
    scan(guard, pass_of(as_user, other), world.gate_a.id, "in")
    staff = as_user(world.staff_a)
    url = f"/api/v1/compounds/{world.compound_a.id}/checkins"
    everything = staff.get(url).json
    assert everything["total"] == 3
    assert {i["name"] for i in everything["items"]} == {"王秀兰", "赵六", None}
    assert all(i["phone"] is None or "****" in i["phone"] for i in everything["items"])
    assert staff.get(url + "?decision=denied").json["total"] == 1
    assert staff.get(url + "?direction=out").json["items"][0]["subject_user_id"] == world.resident_a.id
    assert staff.get(url + f"?user_id={other.id}").json["total"] == 1
    assert staff.get(url + "?from=2020-02-03T08:31:00%2B08:00").json["total"] == 0
    assert staff.get(url + "?from=2020-02-03T08:00:00%2B08:00&to=2020-02-03T09:00:00%2B08:00").json["total"] == 3
    masked = guard.get(f"/api/v1/gates/{world.gate_a.id}/checkins").json
    assert {i["name"] for i in masked["items"]} == {"王**", "赵*", None}
    assert all(i["phone"] is None for i in masked["items"])
    assert count(app, AuditEntry, AuditEntry.action == "checkins.list") == 7


def test_hourly_counts_for_today(app, world, as_user):
    for minutes, direction in ((0, "out"), (5, "out"), (65, "in")):
        with time_machine.travel(T0 + timedelta(minutes=minutes), tick=False):
            scan(as_user(world.guard_a), pass_of(as_user, world.resident_a), world.gate_a.id, direction)
    with time_machine.travel(T0 + timedelta(minutes=70), tick=False):
        scan(as_user(world.guard_a), "bogus", world.gate_a.id, "in")
        body = as_user(world.admin).get(f"/api/v1/compounds/{world.compound_a.id}/checkins/hourly").json
    assert body["date"] == "2020-02-03" and body["timezone"] == "Asia/Shanghai"
    rows = {(c["hour"], c["direction"]): (c["allowed"], c["denied"]) for c in body["counts"]}
    assert rows == {(8, "out"): (2, 0), (9, "in"): (1, 1)}


@time_machine.travel(T0, tick=False)
def test_guard_of_a_cannot_read_b_checkins(app, world, as_user):
    scan(as_user(world.guard_b), pass_of(as_user, world.resident_b), world.gate_b.id)
    guard_a = as_user(world.guard_a)
    assert guard_a.get(f"/api/v1/compounds/{world.compound_b.id}/checkins").status_code == 404
    assert guard_a.get(f"/api/v1/gates/{world.gate_b.id}/checkins").status_code == 404
    assert as_user(world.staff_a).get(f"/api/v1/compounds/{world.compound_b.id}/checkins").status_code == 404
    own = as_user(world.guard_b).get(f"/api/v1/compounds/{world.compound_b.id}/checkins")
    assert own.status_code == 200 and own.json["total"] == 1



@time_machine.travel(T0, tick=False)
def test_gate_list_counts_ids_by_the_gate_and_commits_its_audit_row_before_rendering(app, world, as_user):
    """The count reads the id alone (not every column of every row), by the gate's own index; the audit
    row is committed before the page is rendered, so a read never holds SQLite's write lock meanwhile."""
    from sqlalchemy import event

    guard = as_user(world.guard_a)
    scan(guard, pass_of(as_user, world.resident_a), world.gate_a.id, "out")
    staff = as_user(world.staff_a)
    statements: list[str] = []
    with app.app_context():
        engine = db.engine

    def seen(conn, cursor, statement, *args):
        statements.append(" ".join(statement.split()).lower())

    event.listen(engine, "before_cursor_execute", seen)
    try:
        body = staff.get(f"/api/v1/gates/{world.gate_a.id}/checkins").json
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert body["total"] == 1 and body["items"][0]["gate_id"] == world.gate_a.id
    counts = [s for s in statements if s.startswith("select count(*)")]
    assert len(counts) == 1
    assert "checkins.reply" not in counts[0] and "checkins.compound_id =" not in counts[0]
    assert "checkins.gate_id =" in counts[0]
    assert any(s.startswith("insert into audit_log") for s in statements)
    assert count(app, AuditEntry, AuditEntry.action == "checkins.list") == 1
