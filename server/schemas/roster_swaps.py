"""Shift swaps."""

from marshmallow import Schema, fields, validate

from server.models.roster_swaps import SWAP_STATUSES
from server.schemas.fields import text


class SwapOfferSchema(Schema):
    """Offer one of my shifts."""

    note = text(200, load_default="")


class SwapArgsSchema(Schema):
    """Filter of the swap list."""

    status = fields.String(validate=validate.OneOf(SWAP_STATUSES))


class SwapSchema(Schema):
    """A swap request."""

    id = fields.Integer()
    assignment_id = fields.Integer(allow_none=True)
    shift_id = fields.Integer()
    compound_id = fields.Integer()
    offered_by_id = fields.Integer()
    accepted_by_id = fields.Integer(allow_none=True)
    status = fields.String()
    note = fields.String()
    decided_by_id = fields.Integer(allow_none=True)
    created_at = fields.AwareDateTime()
    decided_at = fields.AwareDateTime(allow_none=True)
