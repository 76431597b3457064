"""Alerts as staff see and acknowledge them."""

from marshmallow import Schema, fields, validate

from server.plumbing.alerts import ALERT_KINDS
from server.schemas.fields import Id, text


class AlertArgsSchema(Schema):
    """Filters of the alert list."""

    compound_id = Id(strict=False)
    kind = fields.String(validate=validate.OneOf(ALERT_KINDS))
    open = fields.Boolean(load_default=False)


class AcknowledgeSchema(Schema):
    """What staff did about it."""

    note = text(200)


class AlertSchema(Schema):
    """An alert for a compound's staff."""

    id = fields.Integer()
    compound_id = Id(strict=False)
    kind = fields.String()
    subject_user_id = fields.Integer(allow_none=True)
    household_id = fields.Integer(allow_none=True)
    detail = fields.Dict()
    created_at = fields.AwareDateTime()
    acknowledged_at = fields.AwareDateTime(allow_none=True)
    acknowledged_by_id = fields.Integer(allow_none=True)
