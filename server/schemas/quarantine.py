"""Home-quarantine orders as staff place, extend, lift and list them, and as a resident sees theirs."""

from marshmallow import Schema, fields, validate

from server.models.health import QUARANTINE_REASONS
from server.schemas.fields import AwareDateTime, Id, label, text
from server.services.health.quarantine import MAX_DAYS, ORDER_STATUSES


class PlaceOrderSchema(Schema):
    """A new order: one resident or one household, a reason, a start (now) and an end (14 days)."""

    user_id = Id()
    household_id = Id()
    reason = fields.String(required=True, validate=validate.OneOf(QUARANTINE_REASONS))
    from_city = text(50)
    note = text(500)
    starts_at = AwareDateTime()
    ends_at = AwareDateTime()
    days = fields.Integer(validate=validate.Range(min=1, max=MAX_DAYS))


class ExtendOrderSchema(Schema):
    """A later end (or a number of extra days, 14 by default), and why."""

    ends_at = AwareDateTime()
    days = fields.Integer(validate=validate.Range(min=1, max=MAX_DAYS))
    reason = text(200)


class LiftOrderSchema(Schema):
    """Why an order ends early."""

    reason = label(200)


class OrderArgsSchema(Schema):
    """Filters of the order list; bulk reads say why (audit log)."""

    status = fields.String(validate=validate.OneOf(ORDER_STATUSES))
    purpose = fields.String(validate=validate.Length(min=1, max=200))


class ExtensionSchema(Schema):
    """One change of an order's end."""

    previous_ends_at = fields.AwareDateTime()
    new_ends_at = fields.AwareDateTime()
    reason = fields.String()
    by_id = fields.Integer(allow_none=True)
    at = fields.AwareDateTime()


class OrderSchema(Schema):
    """An order and its status now (scheduled, active, ended, lifted)."""

    id = fields.Integer()
    compound_id = fields.Integer()
    household_id = fields.Integer(allow_none=True)
    user_id = fields.Integer(allow_none=True)
    reason = fields.String()
    from_city = fields.String()
    note = fields.String()
    lawful_basis = fields.String()
    starts_at = fields.AwareDateTime()
    ends_at = fields.AwareDateTime()
    lifted_at = fields.AwareDateTime(allow_none=True)
    lifted_reason = fields.String(allow_none=True)
    status = fields.String()
    created_at = fields.AwareDateTime()
    extensions = fields.List(fields.Nested(ExtensionSchema))


class MyQuarantineSchema(Schema):
    """A resident's view: the order confining them now (if any), their orders, and today's reports."""

    active = fields.Nested(OrderSchema, allow_none=True)
    orders = fields.List(fields.Nested(OrderSchema))
    reports_required_per_day = fields.Integer()
    reports_today = fields.Integer()
    current_slot_reported = fields.Boolean()
