"""API fuzzing: schemathesis generates requests for every operation of /api/v1/openapi.json, valid and
invalid, as each role (and anonymously) against the demo alliance; no answer is a server error and
every answer conforms to the document (status code, content type, body schema, headers).

Bounded: WUYE_FUZZ_EXAMPLES examples per operation, role and mode (default 2; about a minute of CPU in all
on SQLite). On PostgreSQL it runs only with WUYE_FUZZ_POSTGRES=1 (the same code, three times slower).
Not checked (by choice, not hidden): `positive_data_acceptance` and `negative_data_rejection`, since
a valid body naming an id out of the caller's scope is rightly a 404, and schemathesis' own
stateful checks (use-after-free and the like), which need links the document does not declare.
"""

from __future__ import annotations

import collections
import os

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import select

from server.auth import start_session
from server.extensions import db, limiter
from server.models.compounds import Compound, Gate, Household
from server.models.people import User
from server.scope import compound_condition

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance]
EXAMPLES = int(os.environ.get("WUYE_FUZZ_EXAMPLES", "2"))
ROLES = ("anonymous", "resident", "guard", "staff", "alliance_admin")
DEMO_USERS = {"resident": ("openid", "resident-hp-1"), "guard": ("openid", "guard-zhang"),
              "staff": ("username", "wanlong"), "alliance_admin": ("username", "admin")}


@pytest.fixture
def demo(app):
    """The demo alliance (every domain's demo data), committed."""
    from server.demo.load import load_demo

    with app.app_context():
        load_demo()
        db.session.commit()


def _caller(app, role: str) -> tuple[dict, dict]:
    """A fresh session's Authorization header for the role's demo user, and ids in that user's scope."""
    if role == "anonymous":
        return {}, {}
    column, value = DEMO_USERS[role]
    with app.app_context():
        user = db.session.scalar(select(User).where(getattr(User, column) == value))
        compound_id = db.session.scalar(select(Compound.id).where(compound_condition(user, Compound.id))
                                         .order_by(Compound.id).limit(1))
        ids = {"compound_id": compound_id, "user_id": user.id, "resident_id": user.id, "guard_id": user.id,
               "company_id": user.company_id,
               "gate_id": db.session.scalar(select(Gate.id).where(Gate.compound_id == compound_id).limit(1)),
               "household_id": user.household_id or db.session.scalar(
                   select(Household.id).where(Household.compound_id == compound_id).limit(1))}
        tokens = start_session(user)
        db.session.commit()
    return {"Authorization": f"Bearer {tokens.access_token}"}, {k: v for k, v in ids.items() if v is not None}


@pytest.mark.parametrize("role", ROLES)
def test_every_answer_conforms_and_none_is_a_server_error(app, demo, wechat_app, database_url, role):
    if database_url.startswith("postgresql") and not os.environ.get("WUYE_FUZZ_POSTGRES"):
        pytest.skip("fuzzing runs on SQLite (WUYE_FUZZ_POSTGRES=1 runs it on PostgreSQL too)")
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    failures: dict[str, list[str]] = collections.defaultdict(list)
    statuses: collections.Counter = collections.Counter()
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        # A fresh session per operation: the fuzzer may well log out, and nothing else should suffer.
        headers, ids = _caller(app, role)
        path_ids = {name: ids[name] for name in operation.path_parameters.keys() if name in ids} \
            if hasattr(operation.path_parameters, "keys") else {}
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz(operation, mode, path_ids, headers, failures, statuses)
    assert operations > 100
    assert statuses, "nothing was sent"
    if role != "anonymous":
        assert statuses[200] + statuses[201] > 20, statuses  # the fuzzer got past authentication
    assert not failures, "\n".join(f"{op}: {msgs[0]}" for op, msgs in sorted(failures.items()))


def _fuzz(operation, mode, path_ids, headers, failures, statuses) -> None:
    name = f"{operation.method.upper()} {operation.path} ({mode.value})"
    strategy = operation.as_strategy(generation_mode=mode, path_parameters=path_ids or None)

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def run(case):
        limiter.reset()  # the limits have their own tests; here they would only hide the routes
        response = case.call(headers=headers)
        statuses[response.status_code] += 1
        try:
            case.validate_response(response, checks=CHECKS)
        except (AssertionError, Exception, BaseExceptionGroup) as exc:
            failures[name].append(f"[{response.status_code}] " + " | ".join(
                line.strip() for line in str(exc).splitlines()[:8] if line.strip())[:600])

    try:
        run()
    except (Exception, BaseExceptionGroup) as exc:  # a strategy the document makes impossible
        failures[name].append(f"generation: {exc!r}"[:600])
