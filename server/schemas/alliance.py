"""The alliance: its summary (aggregates only), membership of companies, caretaking of compounds."""

from marshmallow import Schema, fields

from server.schemas.fields import AwareDateTime, Id, label, optional_phone, text


class CompoundCountSchema(Schema):
    """A compound by name and its number of households."""

    id = fields.Integer()
    name = fields.String()
    households = fields.Integer()


class CompoundWithoutCompanySchema(CompoundCountSchema):
    """A compound without a property company and who runs it: the alliance, or an entrusted company."""

    run_by = fields.String(metadata={"enum": ["alliance", "company"]})
    caretaker_company_id = fields.Integer(allow_none=True)


class MemberSummarySchema(Schema):
    """A company of the alliance in aggregate: compounds, households, staff and guards."""

    id = fields.Integer()
    name = fields.String()
    membership = fields.String()
    invited_at = fields.DateTime(allow_none=True)
    joined_at = fields.DateTime(allow_none=True)
    suspended_at = fields.DateTime(allow_none=True)
    compounds = fields.List(fields.Nested(CompoundCountSchema))
    caretaken_compounds = fields.List(fields.Nested(CompoundCountSchema))
    households = fields.Integer()
    staff = fields.Integer()
    guards = fields.Integer()


class AllianceTotalsSchema(Schema):
    """Counts over the whole alliance."""

    member_companies = fields.Integer()
    compounds = fields.Integer()
    households = fields.Integer()
    staff = fields.Integer()
    guards = fields.Integer()


class AllianceSummarySchema(Schema):
    """The alliance at a glance (no personal data)."""

    id = fields.Integer()
    name = fields.String()
    region = fields.String()
    companies = fields.List(fields.Nested(MemberSummarySchema))
    compounds_without_company = fields.List(fields.Nested(CompoundWithoutCompanySchema))
    totals = fields.Nested(AllianceTotalsSchema)


class InviteCompanySchema(Schema):
    """A company the alliance admin invites to join."""

    name = label(100)
    contact_phone = optional_phone()


class SuspendSchema(Schema):
    """Why a member is suspended."""

    reason = label(200)


class CaretakingCreateSchema(Schema):
    """Entrust a compound without a company to a member company, from now (or later) until ended (or a date)."""

    company_id = Id(required=True)
    starts_at = AwareDateTime()
    ends_at = AwareDateTime()
    note = text(500, load_default="")


class CaretakingEndSchema(Schema):
    """Why a caretaking ends."""

    note = text(500, load_default="")


class CaretakingSchema(Schema):
    """One hand-over of a compound to a company, and its end."""

    id = fields.Integer()
    compound_id = fields.Integer()
    company_id = fields.Integer()
    starts_at = fields.DateTime()
    ends_at = fields.DateTime(allow_none=True)
    note = fields.String()
    handed_over_by_id = fields.Integer(allow_none=True)
    ended_at = fields.DateTime(allow_none=True)
    ended_by_id = fields.Integer(allow_none=True)
    end_note = fields.String()
    active = fields.Boolean()
    created_at = fields.DateTime()
