"""A person's consent to the processing of their health and movement data."""

from marshmallow import Schema, fields, validate


class ConsentGiveSchema(Schema):
    """Consent to the text version the client showed."""

    text_version = fields.String(load_default="v1", validate=validate.Length(min=1, max=16))


class ConsentRecordSchema(Schema):
    """One consent, given and perhaps withdrawn."""

    id = fields.Integer()
    purpose = fields.String()
    text_version = fields.String()
    given_at = fields.AwareDateTime()
    withdrawn_at = fields.AwareDateTime(allow_none=True)


class ConsentStateSchema(Schema):
    """Whether consent is in force, whether an emergency applies anyway, and the history."""

    consented = fields.Boolean()
    health_emergency = fields.Boolean()
    lawful_basis = fields.String(allow_none=True)
    current = fields.Nested(ConsentRecordSchema, allow_none=True)
    history = fields.List(fields.Nested(ConsentRecordSchema))
    deleted = fields.Dict(keys=fields.String(), values=fields.Integer())
