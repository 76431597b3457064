"""Compounds, buildings and households."""

from zoneinfo import available_timezones

from marshmallow import Schema, fields, validate

from server.plumbing.pagination import PageArgs
from server.schemas.fields import Id, label, text


class CompoundSchema(Schema):
    """A compound."""

    id = fields.Integer(dump_only=True)
    name = label(100)
    address = text(200)
    company_id = fields.Integer(allow_none=True)
    timezone = fields.String(validate=validate.OneOf(sorted(available_timezones())))
    lockdown = fields.Boolean()
    health_emergency = fields.Boolean()
    is_residential = fields.Boolean()
    total_households = fields.Integer(allow_none=True, validate=validate.Range(min=0, max=1_000_000))
    created_at = fields.AwareDateTime(dump_only=True)


class CompoundListArgs(PageArgs):
    """Query of the compound list: `runs=true` keeps those where I hold the staff role's functions
    (staff: their company's and those entrusted to it; the alliance admin: those nobody else runs)."""

    runs = fields.Boolean(load_default=False)


class CompoundUpdateSchema(Schema):
    """What may change on a compound (company_id by the alliance admin only)."""

    name = label(100, required=False)
    address = text(200)
    company_id = fields.Integer(allow_none=True)
    timezone = fields.String(validate=validate.OneOf(sorted(available_timezones())))
    lockdown = fields.Boolean()
    health_emergency = fields.Boolean()
    is_residential = fields.Boolean()
    total_households = fields.Integer(allow_none=True, validate=validate.Range(min=0, max=1_000_000))


class BuildingSchema(Schema):
    """A building."""

    id = fields.Integer(dump_only=True)
    compound_id = fields.Integer(dump_only=True)
    name = label(50)


class HouseholdSchema(Schema):
    """A household."""

    id = fields.Integer(dump_only=True)
    compound_id = fields.Integer(dump_only=True)
    building_id = fields.Integer(required=True)
    unit = text(20)
    room = label(20)
    label = fields.String(dump_only=True)


class HouseholdArgsSchema(Schema):
    """Filters of the household list."""

    building_id = fields.Integer()


class InviteSlipsSchema(Schema):
    """Which households to print invite slips for: the whole compound, or one building of it."""

    building_id = Id()
