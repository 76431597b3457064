"""Lending guards across the alliance."""

from marshmallow import Schema, fields, validate

from server.models.roster_lending import LOAN_STATUSES
from server.schemas.fields import Id, text
from server.services.roster.roster_lending import offered_guard_name


class LoanPostSchema(Schema):
    """Post an uncovered shift to the alliance."""

    note = text(200, load_default="")


class LoanArgsSchema(Schema):
    """Filter of the loan list."""

    status = fields.String(validate=validate.OneOf(LOAN_STATUSES))


class LoanOfferCreateSchema(Schema):
    """Offer one of my company's guards."""

    guard_id = Id(required=True)


class LoanOfferSchema(Schema):
    """A company's offer of a guard."""

    id = fields.Integer()
    loan_id = fields.Integer()
    guard_id = fields.Integer()
    guard_name = fields.Function(offered_guard_name, metadata={"description": "masked (张*) except to the guard's own company"})
    company_id = fields.Integer()
    status = fields.String()
    created_at = fields.AwareDateTime()
    decided_at = fields.AwareDateTime(allow_none=True)


class LoanSummarySchema(Schema):
    """A posted shift (no personal data): where, when, how many guards are still missing."""

    id = fields.Integer()
    shift_id = fields.Integer()
    compound_id = fields.Integer()
    compound_name = fields.String()
    gate_id = fields.Integer()
    gate_name = fields.String()
    starts_at = fields.AwareDateTime()
    ends_at = fields.AwareDateTime()
    guards_needed = fields.Integer()
    open_seats = fields.Integer()
    status = fields.String()
    note = fields.String()
    created_at = fields.AwareDateTime()


class LoanSchema(LoanSummarySchema):
    """A posted shift with the offers the caller may see."""

    offers = fields.List(fields.Nested(LoanOfferSchema))

