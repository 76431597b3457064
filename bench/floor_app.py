"""The floor under the guard check-in: a bare Flask endpoint that decodes a JWT and inserts one check-in row.

Issue #3 set the check-in's budget against /healthz and gave this floor for scale: "a bare Flask endpoint
that only decodes a JWT and inserts one row reaches about 0.25x of a bare hello endpoint on SQLite and
0.13x on PostgreSQL, so a full check-in decision should cost little beyond its one write".
`bench/checkin_load.py --floor` serves this app under gunicorn with gunicorn.conf.py, on the database
the check-in was just measured on, so the check-in's rate can be read against the most any check-in
could reach there: the same table with its indexes and keys, one insert, one commit.

    POST /floor   Authorization: Bearer <HS256 token signed with WUYE_FLOOR_SECRET>   -> 201 {"id": ...}
    GET  /healthz -> 200 {"status": "ok"}   (the bare hello endpoint)

Not part of the product: nothing imports it but the benchmark.
"""

from __future__ import annotations

import itertools
import os
from datetime import UTC, datetime

import jwt
from flask import Flask, abort, jsonify, request
from sqlalchemy import create_engine, select

from server import _install_sqlite_pragmas
from server.models.checkins import CheckIn

_install_sqlite_pragmas()  # WAL, NORMAL sync and the busy timeout, as the product's connections have
SECRET = os.environ["WUYE_FLOOR_SECRET"]
engine = create_engine(os.environ["WUYE_DATABASE_URL"])
table = CheckIn.__table__
insert = table.insert().returning(table.c.id)
app = Flask(__name__)
_counter = itertools.count()
_template: dict = {}


def _row_template() -> dict:
    """The columns of a stored guard scan (its gate, compound and guard), read once per worker."""
    if not _template:
        with engine.connect() as connection:
            row = connection.execute(select(table).where(table.c.method == "guard_scan")
                                     .order_by(table.c.id.desc()).limit(1)).one()
        _template.update(row._asdict())
        for key in ("id", "pass_nonce", "pass_issued_at", "first_pass_nonce"):
            _template.pop(key)
    return _template


@app.get("/healthz")
def healthz():
    """The bare hello endpoint."""
    return jsonify(status="ok")


@app.post("/floor")
def floor():
    """Decode the bearer token, insert one check-in row, commit."""
    try:
        claims = jwt.decode(request.headers.get("Authorization", "").removeprefix("Bearer "), SECRET,
                            algorithms=["HS256"])
    except jwt.InvalidTokenError:
        abort(401)
    now = datetime.now(UTC)
    values = {**_row_template(), "author_id": int(claims["sub"]), "server_time": now, "occurred_at": now,
              "client_id": f"floor-{os.getpid()}-{next(_counter)}-{now.timestamp()}"}
    with engine.begin() as connection:
        new_id = connection.execute(insert, values).scalar_one()
    return jsonify(id=new_id), 201
