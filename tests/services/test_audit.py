"""The audit log names who acted: the explicit actor, else the authenticated caller, else "system"."""

from __future__ import annotations

from server.auth import authenticate, current_user
from server.plumbing import audit


def test_the_caller_is_the_actor_whether_or_not_the_view_built_a_user(app, world, as_user):
    headers = as_user(world.guard_a).headers
    with app.test_request_context(headers=headers):
        authenticate()  # a view that only checked the role: the row is known, no User was built
        from_row = audit.record("gate.scan_export")
        assert (from_row.actor_id, from_row.actor_role) == (world.guard_a.id, "guard")
        current_user()
        from_user = audit.record("gate.scan_export")
        assert (from_user.actor_id, from_user.actor_role) == (world.guard_a.id, "guard")
    with app.test_request_context():
        anonymous = audit.record("retention.purge")
        assert (anonymous.actor_id, anonymous.actor_role) == (None, "system")
