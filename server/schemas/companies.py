"""Companies."""

from marshmallow import Schema, fields

from server.schemas.fields import label, text


class CompanySchema(Schema):
    """A company as everyone in scope sees it."""

    id = fields.Integer(dump_only=True)
    name = label(100)
    contact_phone = text(20)
    created_at = fields.AwareDateTime(dump_only=True)
    membership = fields.String(dump_only=True)
    invited_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    joined_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    suspended_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    suspended_reason = fields.String(dump_only=True)


class CompanyUpdateSchema(Schema):
    """Fields an admin may change."""

    name = label(100, required=False)
    contact_phone = text(20)
