"""Field types shared by the schemas: bounded text, aware timestamps."""

from __future__ import annotations

from marshmallow import fields, validate


def text(max_length: int, *, required: bool = False, min_length: int = 0, **kwargs) -> fields.String:
    """A string field with a length bound (over-long input is a 422, never a truncation)."""
    return fields.String(required=required, validate=validate.Length(min=min_length, max=max_length), **kwargs)


def label(max_length: int = 50, *, required: bool = True, **kwargs) -> fields.String:
    """A non-blank name or label (required unless said otherwise)."""
    return fields.String(required=required, validate=[validate.Length(min=1, max=max_length),
                                                  validate.Regexp(r".*\S.*", error="must not be blank")], **kwargs)


class AwareDateTime(fields.AwareDateTime):
    """ISO 8601 with an offset; input without one is refused."""

    def __init__(self, **kwargs):
        super().__init__(format="iso", **kwargs)
