"""Emergency mutual aid (incidents, pledges) and the reward and penalty record of each company."""

from marshmallow import Schema, fields, validate

from server.models.incidents import INCIDENT_KINDS, INCIDENT_STATUSES, MAX_QUANTITY, RECORD_ENTRY_KINDS
from server.schemas.fields import AwareDateTime, Id, label, text

ITEM = validate.Regexp(r"\A[a-z][a-z0-9_]{0,31}\Z", error="a code of lowercase letters, digits and _ (people, pump)")
QUANTITY = validate.Range(min=1, max=MAX_QUANTITY)


class NeedSchema(Schema):
    """A line of what the incident needs."""

    item = fields.String(required=True, validate=ITEM)
    quantity = fields.Integer(required=True, strict=True, validate=QUANTITY)
    note = text(200, load_default="")


class IncidentCreateSchema(Schema):
    """Raise an incident at a compound."""

    compound_id = Id(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(INCIDENT_KINDS))
    place = label(200)
    description = text(1000, load_default="")
    needs = fields.List(fields.Nested(NeedSchema), required=True, validate=validate.Length(min=1, max=50))
    target_minutes = fields.Integer(strict=True, validate=validate.Range(min=1, max=1440))


class IncidentArgsSchema(Schema):
    """Filter of the incident list."""

    status = fields.String(validate=validate.OneOf(INCIDENT_STATUSES))


class IncidentCloseSchema(Schema):
    """Close an incident with its summary."""

    summary = label(2000)


class PledgeItemSchema(Schema):
    """Equipment pledged: an item of the incident's needs and how many."""

    item = fields.String(required=True, validate=ITEM)
    quantity = fields.Integer(required=True, strict=True, validate=QUANTITY)


class PledgeCreateSchema(Schema):
    """Pledge people of my company (user ids) and equipment."""

    people = fields.List(Id(), load_default=list, validate=validate.Length(max=200))
    items = fields.List(fields.Nested(PledgeItemSchema), load_default=list, validate=validate.Length(max=50))
    until = AwareDateTime()
    note = text(200, load_default="")


class DispatchClockSchema(Schema):
    """The dispatch clock: raising to first arrival and to every need met, against the target."""

    target_minutes = fields.Integer()
    raised_at = fields.AwareDateTime()
    first_arrival_at = fields.AwareDateTime(allow_none=True)
    seconds_to_first_arrival = fields.Integer(allow_none=True)
    first_arrival_within_target = fields.Boolean(allow_none=True)
    needs_met_at = fields.AwareDateTime(allow_none=True)
    seconds_to_needs_met = fields.Integer(allow_none=True)
    needs_met_within_target = fields.Boolean(allow_none=True)
    elapsed_seconds = fields.Integer()
    overdue = fields.Boolean()


class NeedLineSchema(Schema):
    """A need line per stage (requested, pledged, departed, arrived), what is missing and each stage's status."""

    item = fields.String()
    note = fields.String()
    requested = fields.Integer()
    pledged = fields.Integer()
    departed = fields.Integer()
    arrived = fields.Integer()
    missing = fields.Integer()
    outstanding = fields.Integer()
    pledge_status = fields.String()
    transit_status = fields.String()
    fulfil_status = fields.String()


class ResponderSchema(Schema):
    """A person pledged (name masked for viewers of other companies)."""

    user_id = fields.Integer()
    name = fields.String()
    role = fields.String()
    starts_at = fields.AwareDateTime()
    ends_at = fields.AwareDateTime()
    active = fields.Boolean()


class PledgeSchema(Schema):
    """A company's pledge and where it stands."""

    id = fields.Integer()
    incident_id = fields.Integer()
    company_id = fields.Integer()
    company_name = fields.String()
    status = fields.String()
    note = fields.String()
    pledged_at = fields.AwareDateTime()
    duty_ends_at = fields.AwareDateTime()
    departed_at = fields.AwareDateTime(allow_none=True)
    arrived_at = fields.AwareDateTime(allow_none=True)
    cancelled_at = fields.AwareDateTime(allow_none=True)
    items = fields.List(fields.Nested(PledgeItemSchema))
    people = fields.List(fields.Nested(ResponderSchema))


class IncidentSummarySchema(Schema):
    """An incident in a list (no personal data)."""

    id = fields.Integer()
    kind = fields.String()
    compound_id = fields.Integer()
    compound_name = fields.String()
    place = fields.String()
    status = fields.String()
    raised_at = fields.AwareDateTime()
    closed_at = fields.AwareDateTime(allow_none=True)
    clock = fields.Nested(DispatchClockSchema)
    missing = fields.Integer()
    outstanding = fields.Integer()


class IncidentSchema(IncidentSummarySchema):
    """An incident with its needs per stage, its pledges and who is coming."""

    description = fields.String()
    target_minutes = fields.Integer()
    raised_by_id = fields.Integer(allow_none=True)
    closed_by_id = fields.Integer(allow_none=True)
    summary = fields.String()
    needs = fields.List(fields.Nested(NeedLineSchema))
    pledges = fields.List(fields.Nested(PledgeSchema))
    can_close = fields.Boolean()


class RecordEntryCreateSchema(Schema):
    """The admin's commendation, criticism or note on a company's record."""

    kind = fields.String(required=True, validate=validate.OneOf(RECORD_ENTRY_KINDS))
    remark = label(500)
    incident_id = Id(allow_none=True)


class RecordEntrySchema(Schema):
    """An entry of a company's record."""

    id = fields.Integer()
    company_id = fields.Integer()
    kind = fields.String()
    remark = fields.String()
    incident_id = fields.Integer(allow_none=True)
    created_at = fields.AwareDateTime()


class HelpGivenSchema(Schema):
    """Help a company gave other compounds."""

    incidents = fields.Integer()
    pledges = fields.Integer()
    people_arrived = fields.Integer()
    items_arrived = fields.Integer()


class HelpReceivedSchema(Schema):
    """Help a company's compounds received."""

    incidents = fields.Integer()
    pledges = fields.Integer()
    pledges_arrived = fields.Integer()


class PledgeCountsSchema(Schema):
    """A company's pledges kept and broken."""

    total = fields.Integer()
    kept = fields.Integer()
    broken = fields.Integer()
    withdrawn = fields.Integer()
    pending = fields.Integer()


class ResponseSchema(Schema):
    """A company's response times."""

    arrivals = fields.Integer()
    mean_seconds_pledge_to_arrival = fields.Integer(allow_none=True)
    mean_seconds_raise_to_arrival = fields.Integer(allow_none=True)
    arrived_within_target = fields.Integer()


class LoanCountsSchema(Schema):
    """Guard shifts lent and borrowed through the alliance, served."""

    lent_shifts_served = fields.Integer()
    lent_hours_served = fields.Float()
    borrowed_shifts_served = fields.Integer()


class EntryCountsSchema(Schema):
    """How many entries of each kind."""

    commendation = fields.Integer()
    criticism = fields.Integer()
    note = fields.Integer()


class CompanyRecordSchema(Schema):
    """A company's reward and penalty record (aggregates only)."""

    company_id = fields.Integer()
    company_name = fields.String()
    help_given = fields.Nested(HelpGivenSchema)
    help_received = fields.Nested(HelpReceivedSchema)
    pledges = fields.Nested(PledgeCountsSchema)
    response = fields.Nested(ResponseSchema)
    loans = fields.Nested(LoanCountsSchema)
    entries = fields.Nested(EntryCountsSchema)
    entry_list = fields.List(fields.Nested(RecordEntrySchema))


class AllianceRecordSchema(Schema):
    """Every company's record."""

    alliance_id = fields.Integer()
    companies = fields.List(fields.Nested(CompanyRecordSchema))
