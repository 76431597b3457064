"""Aggregates carry no person: a walk over a JSON document that fails on personal keys or values."""

from __future__ import annotations

import re

from sqlalchemy import select

from server.extensions import db
from server.models.people import User

FORBIDDEN_KEY_PARTS = ("user", "phone", "openid", "person", "author", "display", "username", "id_card",
                       "comment", "household_id", "resident_id", "guard_id", "subject")


def _walk(value, path="$"):
    """Every (path, key, value) of a JSON document."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield path, key, item
            yield from _walk(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield path, None, item
            yield from _walk(item, f"{path}[{index}]")


def personal_values(app) -> set[str]:
    """Every user's name, phone, openid and username in the database."""
    with app.app_context():
        users = db.session.scalars(select(User)).all()
        return {v for u in users for v in (u.display_name, u.phone, u.openid, u.username) if v}


PHONE = re.compile(r"1[3-9]\d{9}")


def assert_no_personal_data(document, personal: set[str]) -> None:
    """Fails on a key that names a person's field, or a value that is a person's name, phone or account."""
    for path, key, value in _walk(document):
        if key is not None:
            assert not any(part in key.lower() for part in FORBIDDEN_KEY_PARTS), f"{path}.{key}"
        if isinstance(value, str):
            assert value not in personal, f"{path}.{key} = {value!r}"
            assert not PHONE.search(value), f"{path}.{key} = {value!r}"
