"""Gates."""

from marshmallow import Schema, fields, validate

from server.models.compounds import GATE_KINDS
from server.schemas.fields import label


class GateSchema(Schema):
    """A gate; the code is what its poster's QR names."""

    id = fields.Integer(dump_only=True)
    compound_id = fields.Integer(dump_only=True)
    name = label(50)
    kind = fields.String(load_default="main", validate=validate.OneOf(GATE_KINDS))
    is_open = fields.Boolean(load_default=True)
    rotating_code = fields.Boolean(load_default=False)
    code = fields.String(dump_only=True)


class GateUpdateSchema(Schema):
    """What staff may change on a gate."""

    name = label(50, required=False)
    kind = fields.String(validate=validate.OneOf(GATE_KINDS))
    is_open = fields.Boolean()
    rotating_code = fields.Boolean()
