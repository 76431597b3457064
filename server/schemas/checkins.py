"""Check-ins: what a guard's or a resident's device sends, what it gets back, and staff's lists."""

from __future__ import annotations

from decimal import Decimal

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates

from server.models.checkins import DECISIONS, DIRECTIONS
from server.plumbing.pagination import PageArgs
from server.schemas.fields import AwareDateTime, Id, StrictBoolean, label, optional_phone, text

MAX_BATCH = 200


LOWEST_CELSIUS, HIGHEST_CELSIUS = Decimal("34.0"), Decimal("43.0")


class Celsius(fields.Decimal):
    """A body temperature: 34.0-43.0 °C with at most one decimal (kept as a Decimal of one place)."""

    def __init__(self, **kwargs):
        super().__init__(allow_none=True, validate=validate.Range(min=LOWEST_CELSIUS, max=HIGHEST_CELSIUS),
                         **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        number = super()._deserialize(value, attr, data, **kwargs)
        if number is None:
            return None
        # The range before the decimals: quantizing a huge number (1e30) overflows Decimal's precision.
        if not LOWEST_CELSIUS <= number <= HIGHEST_CELSIUS:
            raise ValidationError(f"between {LOWEST_CELSIUS} and {HIGHEST_CELSIUS}")
        if number != number.quantize(Decimal("0.1")):
            raise ValidationError("at most one decimal")
        return number.quantize(Decimal("0.1"))


def _client_id():
    return text(64, min_length=1, metadata={"description": "the device's id for this write; a retry sends it again"})


class GuardScanSchema(Schema):
    """A guard scanned a personal pass (or a visitor pass) at a gate."""

    pass_code = fields.String(required=True, validate=validate.Length(min=1, max=200))
    gate_id = Id(required=True)
    direction = fields.String(required=True, validate=validate.OneOf(DIRECTIONS))
    temperature = Celsius()
    client_id = _client_id()
    device_time = AwareDateTime(allow_none=True)


class SelfScanSchema(Schema):
    """A resident scanned the gate's code (poster or the guard's rotating screen)."""

    gate_code = fields.String(required=True, validate=validate.Length(min=1, max=100))
    direction = fields.String(required=True, validate=validate.OneOf(DIRECTIONS))
    client_id = _client_id()


class ManualCheckInSchema(Schema):
    """A guard records someone without a phone (elderly, children) by household, with a reason."""

    gate_id = Id(required=True)
    household_id = Id(required=True)
    direction = fields.String(required=True, validate=validate.OneOf(DIRECTIONS))
    reason = label(200)
    person_name = text(50, load_default="")
    subject_user_id = Id(allow_none=True)
    temperature = Celsius()
    client_id = _client_id()
    device_time = AwareDateTime(allow_none=True)


class WalkInSchema(Schema):
    """A visitor who arrives unannounced: the guard registers them with a 14-day travel declaration."""

    gate_id = Id(required=True)
    name = label(50)
    phone = optional_phone()
    from_city = label(50)
    purpose = text(200, load_default="")
    household_id = Id(allow_none=True)
    travel_cities = fields.List(label(50), load_default=list, validate=validate.Length(max=30))
    declaration_confirmed = StrictBoolean(required=True)
    temperature = Celsius()
    client_id = _client_id()
    device_time = AwareDateTime(allow_none=True)

    @post_load
    def _direction(self, data, **kwargs):
        data["direction"] = "in"
        return data


BATCH_KINDS = {"scan": GuardScanSchema, "manual": ManualCheckInSchema, "walk_in": WalkInSchema}


class BatchSchema(Schema):
    """Scans a guard's device queued while offline; each item carries a `kind` and a device_time."""

    items = fields.List(fields.Dict(), required=True, validate=validate.Length(min=1, max=MAX_BATCH))

    @validates("items")
    def _objects(self, items, **kwargs):
        if any(not isinstance(item, dict) for item in items):
            raise ValidationError("every item must be an object")


def load_batch_items(items: list[dict]) -> list[tuple[str, dict | None, dict | None]]:
    """(kind, data, errors) per item: each is validated on its own, so one bad item spoils nothing else."""
    loaded = []
    for item in items:
        body = dict(item)
        kind = body.pop("kind", "scan")
        client_id = body.get("client_id") if isinstance(body.get("client_id"), str) else None
        schema = BATCH_KINDS.get(kind) if isinstance(kind, str) else None
        if schema is None:
            loaded.append((str(kind), {"client_id": client_id}, {"kind": ["scan, manual or walk_in"]}))
            continue
        if not client_id:
            # Each queued scan carries its own id; the batch's Idempotency-Key cannot stand for all of them.
            loaded.append((kind, {"client_id": None}, {"client_id": ["required for each item"]}))
            continue
        try:
            data = schema().load(body)
        except ValidationError as exc:
            loaded.append((kind, {"client_id": client_id}, exc.messages))
            continue
        if data.get("device_time") is None:
            loaded.append((kind, data, {"device_time": ["required for an offline upload"]}))
            continue
        loaded.append((kind, data, None))
    return loaded


class NamedRefSchema(Schema):
    """An id and a name."""

    id = fields.Integer()
    name = fields.String()


class SubjectSchema(Schema):
    """Who passed, masked for the screen."""

    kind = fields.String(metadata={"description": "resident, visitor, household or unknown"})
    name = fields.String()
    household = fields.String(allow_none=True)


class CheckInReplySchema(Schema):
    """The answer at the gate: decision, stable reason code, and what to do at one glance."""

    id = fields.Integer(allow_none=True, metadata={
        "description": "null on a self scan by a person with no tie to the compound: refused and only counted"})
    decision = fields.String(metadata={"description": "allowed or denied"})
    reason = fields.String(metadata={"description": "ok, returnee_attention, pass_expired, pass_invalid, "
                                                    "gate_code_expired, gate_closed, not_registered, "
                                                    "visitor_not_expected, fever_remeasure, fever, quarantined"})
    message = fields.String()
    status_text = fields.String()
    action = fields.String(metadata={"description": "pass, stop or remeasure"})
    color = fields.String(metadata={"description": "green, yellow, orange or red"})
    flags = fields.List(fields.String())
    direction = fields.String()
    method = fields.String()
    gate = fields.Nested(NamedRefSchema)
    compound = fields.Nested(NamedRefSchema)
    subject = fields.Nested(SubjectSchema)
    temperature = fields.String(allow_none=True)
    occurred_at = fields.DateTime()
    server_time = fields.DateTime()
    device_time = fields.DateTime(allow_none=True)
    visitor_id = fields.Integer(allow_none=True)
    open_gates = fields.List(fields.Nested(NamedRefSchema),
                             metadata={"description": "on gate_closed: the compound's open gates to go to"})
    replayed = fields.Boolean()
    offline = fields.Boolean(metadata={"description": "uploaded later from a guard's offline queue"})


_REPLY_TIMES = ("occurred_at", "server_time", "device_time")


def dump_reply(reply: dict) -> dict:
    """A check-in reply (`services.checkins.reply_of`) as `CheckInReplySchema` dumps it, built directly.

    The guard scan answers hundreds of times a second and the schema's per-field dump cost as much as
    its insert; the schema still documents the answer, and a test holds the two equal.
    """
    body = dict(reply)
    for key in _REPLY_TIMES:
        if body[key] is not None:
            body[key] = body[key].isoformat()
    return body


class BatchItemResultSchema(Schema):
    """One item's outcome: 201 stored, 200 replayed, or an error status with the error."""

    index = fields.Integer()
    client_id = fields.String(allow_none=True)
    status = fields.Integer()
    checkin = fields.Nested(CheckInReplySchema)
    error = fields.Dict()


class BatchReplySchema(Schema):
    """Per-item results, in the order sent."""

    results = fields.List(fields.Nested(BatchItemResultSchema))


class CheckInListArgs(PageArgs):
    """Filters of a check-in list."""

    gate_id = Id(strict=False)
    start = AwareDateTime(data_key="from")
    end = AwareDateTime(data_key="to")
    direction = fields.String(validate=validate.OneOf(DIRECTIONS))
    decision = fields.String(validate=validate.OneOf(DECISIONS))
    user_id = Id(strict=False)
    visitor_id = Id(strict=False)


class CheckInItemSchema(Schema):
    """A stored check-in in a staff list; names masked by the viewer's role."""

    id = fields.Integer()
    compound_id = fields.Integer()
    gate_id = fields.Integer()
    gate_name = fields.String()
    direction = fields.String()
    method = fields.String()
    decision = fields.String()
    reason = fields.String()
    flags = fields.List(fields.String())
    temperature = fields.String(allow_none=True)
    subject_kind = fields.String()
    subject_user_id = fields.Integer(allow_none=True)
    visitor_id = fields.Integer(allow_none=True)
    household_id = fields.Integer(allow_none=True)
    name = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    guard_id = fields.Integer(allow_none=True)
    occurred_at = fields.DateTime()
    server_time = fields.DateTime()
    device_time = fields.DateTime(allow_none=True)
    lawful_basis = fields.String()
    offline = fields.Boolean(metadata={"description": "uploaded later from a guard's offline queue: its time "
                                                     "is the device's word"})


class HourlyCountSchema(Schema):
    """Check-ins at one gate in one local hour of today."""

    gate_id = fields.Integer()
    gate_name = fields.String()
    hour = fields.Integer()
    direction = fields.String()
    allowed = fields.Integer()
    denied = fields.Integer()


class StrangerScanCountSchema(Schema):
    """Self scans at one gate in one local hour of today by people with no tie to the compound."""

    gate_id = fields.Integer()
    gate_name = fields.String()
    hour = fields.Integer()
    scans = fields.Integer()


class HourlyReportSchema(Schema):
    """Today's counts per gate per hour (local time of the compound)."""

    compound_id = fields.Integer()
    date = fields.Date()
    timezone = fields.String()
    counts = fields.List(fields.Nested(HourlyCountSchema))
    stranger_scans = fields.List(fields.Nested(StrangerScanCountSchema), metadata={
        "description": "self scans by people with no tie to the compound: refused, counted, not stored"})
