"""The audit log as the alliance admin reads it."""

from marshmallow import Schema, fields

from server.schemas.fields import AwareDateTime, Id


class AuditArgsSchema(Schema):
    """Filters of the audit log."""

    action = fields.String()
    actor_id = Id(strict=False)
    compound_id = Id(strict=False)
    since = AwareDateTime()
    until = AwareDateTime()


class AuditEntrySchema(Schema):
    """Who did what to which personal data, when and why."""

    id = fields.Integer()
    at = fields.AwareDateTime()
    actor_id = fields.Integer(allow_none=True)
    actor_role = fields.String()
    action = fields.String()
    object_type = fields.String()
    object_id = fields.String()
    compound_id = fields.Integer(allow_none=True)
    reason = fields.String()
    detail = fields.Dict()
    ip = fields.String()
