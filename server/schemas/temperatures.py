"""Temperature readings: a guard's at a gate, a resident's self-report, histories and daily counts."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from server.errors import UnprocessableError
from server.schemas.fields import AwareDateTime, Day, Id, StrictBoolean, text
from server.services.health.temperatures import parse_celsius

# Where bulk reads of health data ask why (written to the audit log).
PURPOSE_FIELD = {"validate": validate.Length(min=1, max=200)}


class Celsius(fields.Field):
    """A body temperature: 34.0-43.0 °C with at most one decimal, loaded as a Decimal of one place.

    The rule is services.temperatures.parse_celsius (the one source of truth); here it answers a 422
    naming the field.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("metadata", {"type": "number", "minimum": 34.0, "maximum": 43.0,
                                       "description": "°C, at most one decimal"})
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return parse_celsius(value)
        except UnprocessableError as err:
            raise ValidationError("34.0-43.0 °C, at most one decimal") from err


class GateReadingSchema(Schema):
    """A guard's reading at a gate: a person scanned by pass (user id), a registered visitor, or an
    unidentified passer-by without a pass or a phone (``passer_by``, optional ``note``; a re-measure
    names the first reading in ``remeasure_of``)."""

    subject_user_id = Id()
    visitor_id = Id()
    passer_by = StrictBoolean()
    note = text(200)
    remeasure_of = Id()
    celsius = Celsius(required=True)
    client_id = text(64, min_length=1)
    device_time = AwareDateTime()

    @validates_schema
    def _one_subject(self, data, **kwargs):
        if data.get("passer_by"):
            if "subject_user_id" in data or "visitor_id" in data:
                raise ValidationError("a passer-by has no user or visitor id", "passer_by")
        elif "note" in data or "remeasure_of" in data:
            raise ValidationError("only for a passer-by (passer_by: true)", "passer_by")


class SelfReadingSchema(Schema):
    """A resident's own reading (twice a day in home quarantine)."""

    celsius = Celsius(required=True)
    client_id = text(64, min_length=1)
    device_time = AwareDateTime()


class ReadingSchema(Schema):
    """A stored reading and the fever workflow's outcome (normal, remeasure, fever)."""

    id = fields.Integer()
    compound_id = fields.Integer()
    subject_user_id = fields.Integer(allow_none=True)
    household_id = fields.Integer(allow_none=True)
    visitor_id = fields.Integer(allow_none=True)
    gate_id = fields.Integer(allow_none=True)
    author_id = fields.Integer(allow_none=True)
    source = fields.String()
    celsius = fields.Float()
    high = fields.Boolean()
    outcome = fields.String()
    lawful_basis = fields.String()
    client_id = fields.String(allow_none=True)
    measured_at = fields.AwareDateTime()
    created_at = fields.AwareDateTime()
    passer_by = fields.Boolean()
    note = fields.String()
    remeasure_of_id = fields.Integer(allow_none=True)


class ReadingResultSchema(ReadingSchema):
    """A new reading with what the guard or resident should do next, in words."""

    message = fields.String()


class ReadingListArgs(Schema):
    """One local day of a compound's readings (today by default); bulk reads say why."""

    day = Day()
    high_only = fields.Boolean(load_default=False)
    purpose = fields.String(**PURPOSE_FIELD)


class HistoryArgs(Schema):
    """Why a person's history is read (written to the audit log)."""

    purpose = fields.String(**PURPOSE_FIELD)


class DailyArgs(Schema):
    """A range of local days, at most 31 (the last 7 by default)."""

    start = Day(data_key="from")
    end = Day(data_key="to")


class DailyCountSchema(Schema):
    """One local day of a compound: readings, people measured, high readings, re-measures, fevers."""

    day = Day()
    readings = fields.Integer()
    people = fields.Integer()
    high = fields.Integer()
    remeasure = fields.Integer()
    fever = fields.Integer()
