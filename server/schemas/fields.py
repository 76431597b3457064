"""Field types shared by the schemas: bounded text, ids, aware timestamps and days.

Every input is bounded so that no value can overflow the database or Python's datetime arithmetic:
an out-of-range value is a 422 naming its field, never a 500.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime

from marshmallow import ValidationError, fields, validate

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
MAX_ID = 2**31 - 1


def text(max_length: int, *, required: bool = False, min_length: int = 0, **kwargs) -> fields.String:
    """A string field with a length bound (over-long input is a 422, never a truncation)."""
    return fields.String(required=required, validate=validate.Length(min=min_length, max=max_length), **kwargs)


def _not_blank(value: str) -> None:
    # Blank also when it holds only invisible characters: zero-width spaces, BOMs, control characters.
    if not any(not ch.isspace() and unicodedata.category(ch) not in ("Cc", "Cf") for ch in value):
        raise ValidationError("must not be blank")


def label(max_length: int = 50, *, required: bool = True, **kwargs) -> fields.String:
    """A non-blank name or label (required unless said otherwise)."""
    return fields.String(required=required, validate=[validate.Length(min=1, max=max_length), _not_blank],
                         **kwargs)


def optional_phone() -> fields.String:
    """A phone number or "": 5-19 ASCII digits, an optional leading +, at most the column's 20 characters."""
    # \A..\Z and [0-9]: `$` would let a trailing newline through and `\d` any script's digits.
    return fields.String(load_default="", validate=validate.Regexp(r"\A(?:\+?[0-9]{5,19})?\Z",
                                                                   error="digits only, at most 19"))


def Id(**kwargs) -> fields.Integer:  # noqa: N802 - reads like a field class
    """A row id: a positive integer the database's integer column can hold."""
    kwargs.setdefault("strict", True)
    return fields.Integer(validate=validate.Range(min=1, max=MAX_ID), **kwargs)


class StrictBoolean(fields.Boolean):
    """JSON `true` or `false` only: not "yes", "on" or 1 (a declaration is confirmed in so many words)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class AwareDateTime(fields.AwareDateTime):
    """ISO 8601 with an offset, between the years 2000 and 2100; input without an offset is refused."""

    def __init__(self, **kwargs):
        kwargs.setdefault("validate", validate.Range(min=EARLIEST, max=LATEST))
        super().__init__(format="iso", **kwargs)


class Day(fields.Date):
    """An ISO calendar date between the years 2000 and 2100."""

    def __init__(self, **kwargs):
        kwargs.setdefault("validate", validate.Range(min=EARLIEST.date(), max=LATEST.date()))
        super().__init__(**kwargs)
