"""Visitors: a resident's pre-registration, and what each role sees of a visitor."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from server.models.checkins import VISITOR_STATUSES
from server.plumbing.pagination import PageArgs
from server.schemas.fields import Day, Id, label, optional_phone, text


class VisitorCreateSchema(Schema):
    """A resident announces a visitor for a day."""

    name = label(50)
    phone = optional_phone()
    expected_date = Day(required=True, metadata={"description": "today to 30 days ahead (compound's time)"})
    from_city = text(50, load_default="")
    purpose = text(200, load_default="")
    client_id = text(64, min_length=1)


class VisitorListArgs(PageArgs):
    """Filters of a visitor list."""

    compound_id = Id(strict=False)
    status = fields.String(validate=validate.OneOf(VISITOR_STATUSES))
    date = Day()


class VisitorSchema(Schema):
    """A visitor; name and phone masked by the viewer's role."""

    id = fields.Integer()
    compound_id = fields.Integer()
    household_id = fields.Integer(allow_none=True)
    kind = fields.String()
    name = fields.String()
    phone = fields.String()
    expected_date = fields.Date()
    from_city = fields.String()
    purpose = fields.String()
    travel_cities = fields.List(fields.String())
    returnee = fields.Boolean()
    status = fields.String()
    pass_code = fields.String(allow_none=True)
    created_at = fields.DateTime()
    arrived_at = fields.DateTime(allow_none=True)
    left_at = fields.DateTime(allow_none=True)


class VisitorPassSchema(Schema):
    """The one-day visitor pass to forward to the visitor."""

    visitor_id = fields.Integer()
    code = fields.String()
    expected_date = fields.Date()
    svg = fields.String()
