"""Trips of residents (外地返回): a declaration, staff's record, the list, the step to quarantine."""

from marshmallow import Schema, fields, validate

from server.schemas.fields import AwareDateTime, Day, label, text
from server.services.health.quarantine import MAX_DAYS
from server.services.health.trips import TRIP_STATUSES, trip_status


class TripCreateSchema(Schema):
    """Where the resident came back from and on which (local) day."""

    from_city = label(50)
    returned_on = Day(required=True)
    note = text(500)


class TripSchema(Schema):
    """A trip and where it stands: upcoming, attention (the gate flags the resident) or over."""

    id = fields.Integer()
    compound_id = fields.Integer()
    user_id = fields.Integer()
    household_id = fields.Integer(allow_none=True)
    from_city = fields.String()
    returned_at = fields.AwareDateTime()
    attention_until = fields.AwareDateTime()
    note = fields.String()
    source = fields.String(metadata={"description": "self (declared by the resident) or staff"})
    quarantine_order_id = fields.Integer(allow_none=True)
    status = fields.Function(trip_status, metadata={"description": "upcoming, attention or over"})
    created_at = fields.AwareDateTime()


class TripArgsSchema(Schema):
    """Filter of a compound's trips; bulk reads say why (audit log)."""

    status = fields.String(validate=validate.OneOf(TRIP_STATUSES))
    purpose = fields.String(validate=validate.Length(min=1, max=200))


class TripQuarantineSchema(Schema):
    """The order made from a trip: by default until the trip's attention period ends."""

    ends_at = AwareDateTime()
    days = fields.Integer(validate=validate.Range(min=1, max=MAX_DAYS))
    note = text(500)
