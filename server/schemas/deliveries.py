"""Grocery delivery requests: what a resident submits, what each role reads, the runner's changes."""

from decimal import Decimal

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from server.models.deliveries import (
    DELIVERY_STATUSES,
    DROP_POINTS,
    ITEM_OUTCOMES,
    OPEN_STATUSES,
    URGENCY_TAGS,
)
from server.schemas.fields import AwareDateTime, Id, label, text
from server.services.delivery.deliveries import MAX_ITEMS
from server.services.delivery.delivery_figures import MAX_FIGURES_PERIOD

MAX_QUANTITY = 9999
MAX_COST_CENTS = 10_000_000


def _two_decimals(value: float) -> None:
    if Decimal(str(value)).as_tuple().exponent < -2:
        raise ValidationError("at most two decimals")


class DeliveryItemInSchema(Schema):
    """One line of a request: 白菜 2 斤 (要新鲜的)."""

    name = label(30)
    quantity = fields.Float(required=True, allow_nan=False, validate=[
        validate.Range(min=0, min_inclusive=False, max=MAX_QUANTITY), _two_decimals])
    unit = label(10)
    note = text(100)


class DeliveryCreateSchema(Schema):
    """A resident's request; client_id (or an Idempotency-Key header) makes retries safe."""

    client_id = text(64, min_length=1)
    items = fields.List(fields.Nested(DeliveryItemInSchema), required=True,
                        validate=validate.Length(min=1, max=MAX_ITEMS))
    budget_note = text(100)
    preferred_from = AwareDateTime()
    preferred_until = AwareDateTime()
    drop_point = fields.String(load_default="door", validate=validate.OneOf(DROP_POINTS))
    contactless = fields.Boolean(load_default=True)
    urgency = fields.List(fields.String(validate=validate.OneOf(URGENCY_TAGS)), load_default=list,
                          validate=validate.Length(max=len(URGENCY_TAGS)))
    note = text(200)

    @validates_schema
    def _window(self, data, **_kwargs):
        start, end = data.get("preferred_from"), data.get("preferred_until")
        if start is not None and end is not None and end <= start:
            raise ValidationError("must be after preferred_from", "preferred_until")


class DeliveryItemSchema(Schema):
    """An item as everyone reads it, with what the runner found."""

    id = fields.Integer()
    position = fields.Integer()
    name = fields.String()
    quantity = fields.Float()
    unit = fields.String()
    note = fields.String()
    outcome = fields.String()
    substitute = fields.String(allow_none=True)
    outcome_note = fields.String()


class DeliverySchema(Schema):
    """A request; household_address, requester_name, contact_phone and waited_seconds go to staff only."""

    id = fields.Integer()
    number = fields.String()
    compound_id = fields.Integer()
    household_id = fields.Integer()
    status = fields.String()
    items = fields.List(fields.Nested(DeliveryItemSchema))
    budget_note = fields.String()
    preferred_from = fields.AwareDateTime(allow_none=True)
    preferred_until = fields.AwareDateTime(allow_none=True)
    drop_point = fields.String()
    contactless = fields.Boolean()
    urgency = fields.List(fields.String())
    note = fields.String()
    claimed_by_id = fields.Integer(allow_none=True)
    runner_name = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()
    claimed_at = fields.AwareDateTime(allow_none=True)
    purchasing_at = fields.AwareDateTime(allow_none=True)
    dispatched_at = fields.AwareDateTime(allow_none=True)
    delivered_at = fields.AwareDateTime(allow_none=True)
    confirmed_at = fields.AwareDateTime(allow_none=True)
    auto_confirmed = fields.Boolean()
    closed_at = fields.AwareDateTime(allow_none=True)
    close_reason = fields.String()
    cost_cents = fields.Integer(allow_none=True)
    cost_note = fields.String()
    rating = fields.Nested(lambda: DeliveryRatingSchema(), allow_none=True)
    household_address = fields.String()
    requester_name = fields.String()
    contact_phone = fields.String(allow_none=True)
    waited_seconds = fields.Integer()


class DeliveryListArgs(Schema):
    """Filters of a list of requests."""

    compound_id = Id(strict=False)
    status = fields.String(validate=validate.OneOf(DELIVERY_STATUSES))


class DeliveryQueueArgs(Schema):
    """Filters of a compound's queue (all open requests unless told)."""

    status = fields.String(validate=validate.OneOf(OPEN_STATUSES))
    tag = fields.String(validate=validate.OneOf(URGENCY_TAGS))
    contactless = fields.Boolean()
    mine = fields.Boolean()


class DeliveryCostSchema(Schema):
    """The cost, when the runner knows it (in fen, 分)."""

    cost_cents = fields.Integer(validate=validate.Range(min=0, max=MAX_COST_CENTS))
    cost_note = text(100)


class DeliveryCancelSchema(Schema):
    """Why the resident withdraws (optional)."""

    reason = text(200)


class DeliveryRejectSchema(Schema):
    """Why staff decline the request (required)."""

    reason = label(200)


class DeliveryItemOutcomeSchema(Schema):
    """What the shop had for one item."""

    item_id = Id(required=True)
    outcome = fields.String(required=True, validate=validate.OneOf(ITEM_OUTCOMES))
    substitute = label(30, required=False)
    note = text(100)

    @validates_schema
    def _substitute_only_when_substituted(self, data, **_kwargs):
        if data["outcome"] == "substituted" and not data.get("substitute"):
            raise ValidationError("required when the item was substituted", "substitute")
        if data["outcome"] != "substituted" and data.get("substitute"):
            raise ValidationError("only for a substituted item", "substitute")


class DeliverySubstitutionsSchema(Schema):
    """Outcomes for some items of a request."""

    items = fields.List(fields.Nested(DeliveryItemOutcomeSchema), required=True,
                        validate=validate.Length(min=1, max=MAX_ITEMS))


class DeliveryRatingInSchema(Schema):
    """The resident's rating: 1 to 5 and an optional comment."""

    score = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=5))
    comment = text(200)


class DeliveryRatingSchema(Schema):
    """A stored rating."""

    request_id = fields.Integer()
    score = fields.Integer()
    comment = fields.String()
    created_at = fields.AwareDateTime()


class DeliveryEventSchema(Schema):
    """One entry of a request's history."""

    action = fields.String()
    from_status = fields.String(allow_none=True)
    to_status = fields.String()
    note = fields.String()
    at = fields.AwareDateTime()


class DeliverySettingsSchema(Schema):
    """A compound's delivery settings."""

    compound_id = fields.Integer(dump_only=True)
    guards_may_run = fields.Boolean(required=True)


class DeliveryFiguresArgs(Schema):
    """The period of the figures: requests submitted in [since, until); the last 30 days by default."""

    since = AwareDateTime()
    until = AwareDateTime()

    @validates_schema
    def _period(self, data, **_kwargs):
        if "since" in data and "until" in data and data["until"] <= data["since"]:
            raise ValidationError("must be after since", "until")
        if "since" in data and "until" in data and data["until"] - data["since"] > MAX_FIGURES_PERIOD:
            raise ValidationError(f"at most {MAX_FIGURES_PERIOD.days} days after since", "until")


class _DeliveryFigures(Schema):
    requests = fields.Integer()
    claimed = fields.Integer()
    delivered = fields.Integer()
    confirmed = fields.Integer()
    cancelled = fields.Integer()
    rejected = fields.Integer()
    open = fields.Integer()
    claim_minutes_avg = fields.Float(allow_none=True)
    claim_minutes_median = fields.Float(allow_none=True)
    deliver_minutes_avg = fields.Float(allow_none=True)
    deliver_minutes_median = fields.Float(allow_none=True)
    ratings = fields.Integer()
    rating_avg = fields.Float(allow_none=True)


class CompoundDeliveryFiguresSchema(_DeliveryFigures):
    """The figures of one compound."""

    compound_id = fields.Integer()
    compound_name = fields.String()
    company_id = fields.Integer(allow_none=True)


class CompanyDeliveryFiguresSchema(_DeliveryFigures):
    """The figures of one company (null: compounds with no company)."""

    company_id = fields.Integer(allow_none=True)
    company_name = fields.String(allow_none=True)


class DeliveryFiguresSchema(Schema):
    """Delivery service figures of a period."""

    since = fields.AwareDateTime()
    until = fields.AwareDateTime()
    compounds = fields.List(fields.Nested(CompoundDeliveryFiguresSchema))
    companies = fields.List(fields.Nested(CompanyDeliveryFiguresSchema))
