"""Rosters: templates, shifts, assignments, leave, clocking, the week grid and the auto-fill report."""

from marshmallow import Schema, fields, validate

from server.models.rosters import LEAVE_KINDS, MAX_GUARDS_PER_SHIFT
from server.schemas.fields import AwareDateTime, Day, Id, label, text
from server.services.roster.rosters import PRESETS

GUARDS_NEEDED = validate.Range(min=1, max=MAX_GUARDS_PER_SHIFT)


class TemplateCreateSchema(Schema):
    """Daily shifts of a gate in the compound's local time: a preset from start_time, or one of `hours`."""

    start_time = fields.Time(required=True, metadata={"example": "08:00"})
    preset = fields.String(validate=validate.OneOf(sorted(PRESETS)))
    hours = fields.Float(validate=validate.Range(min=0.5, max=24))
    guards_needed = fields.Integer(load_default=1, validate=GUARDS_NEEDED)


class TemplateSchema(Schema):
    """A daily shift template."""

    id = fields.Integer()
    gate_id = fields.Integer()
    compound_id = fields.Integer()
    start_time = fields.Time()
    duration_minutes = fields.Integer()
    guards_needed = fields.Integer()


class TemplateListSchema(Schema):
    """Templates created or listed."""

    items = fields.List(fields.Nested(TemplateSchema))


class WeekArgsSchema(Schema):
    """A week, named by any of its days (the local Monday-Sunday week containing it)."""

    week = Day(required=True)


class GenerateResultSchema(Schema):
    """What generating a week did."""

    week_start = fields.Date()
    created = fields.Integer()
    skipped = fields.Integer()
    shift_ids = fields.List(fields.Integer())


class ShiftCreateSchema(Schema):
    """A one-off shift."""

    starts_at = AwareDateTime(required=True)
    ends_at = AwareDateTime(required=True)
    guards_needed = fields.Integer(load_default=1, validate=GUARDS_NEEDED)


class ShiftSchema(Schema):
    """A shift."""

    id = fields.Integer()
    compound_id = fields.Integer()
    gate_id = fields.Integer()
    starts_at = fields.AwareDateTime()
    ends_at = fields.AwareDateTime()
    guards_needed = fields.Integer()
    status = fields.String()


class AssignSchema(Schema):
    """Put a guard on a shift."""

    guard_id = Id(required=True)


class AssignmentSchema(Schema):
    """A guard on a shift."""

    id = fields.Integer()
    shift_id = fields.Integer()
    guard_id = fields.Integer()
    compound_id = fields.Integer()
    gate_id = fields.Integer()
    starts_at = fields.AwareDateTime()
    ends_at = fields.AwareDateTime()
    source = fields.String()


class LeaveCreateSchema(Schema):
    """Leave or unavailability; release_shifts frees the guard's unstarted shifts in it."""

    starts_at = AwareDateTime(required=True)
    ends_at = AwareDateTime(required=True)
    kind = fields.String(load_default="leave", validate=validate.OneOf(LEAVE_KINDS))
    note = text(200, load_default="")
    release_shifts = fields.Boolean(load_default=False)


class LeaveSchema(Schema):
    """A leave record."""

    id = fields.Integer()
    guard_id = fields.Integer()
    starts_at = fields.AwareDateTime()
    ends_at = fields.AwareDateTime()
    kind = fields.String()
    note = fields.String()


class LeaveListSchema(Schema):
    """A guard's leave."""

    items = fields.List(fields.Nested(LeaveSchema))


class AutofillSchema(Schema):
    """Auto-fill a week: one compound, or (staff) the whole company when compound_id is left out."""

    week = Day(required=True)
    compound_id = Id()
    company_id = Id()


class AutofillPairSchema(Schema):
    """A new assignment."""

    shift_id = fields.Integer()
    guard_id = fields.Integer()


class UnfilledSchema(Schema):
    """Seats left open, and why (no_guard_available, rest_or_hours, not_solved)."""

    shift_id = fields.Integer()
    gate_id = fields.Integer()
    starts_at = fields.AwareDateTime()
    ends_at = fields.AwareDateTime()
    missing = fields.Integer()
    reason = fields.String()


class GuardHoursSchema(Schema):
    """A guard's hours on the week's shifts."""

    guard_id = fields.Integer()
    hours = fields.Float()


class AutofillResultSchema(Schema):
    """The auto-fill report."""

    status = fields.String()
    week_start = fields.Date()
    shifts_considered = fields.Integer()
    filled = fields.Integer()
    assignments = fields.List(fields.Nested(AutofillPairSchema))
    unfilled = fields.List(fields.Nested(UnfilledSchema))
    hours_by_guard = fields.List(fields.Nested(GuardHoursSchema))


class SeatSchema(Schema):
    """A guard on a shift of the week grid."""

    assignment_id = fields.Integer()
    guard_id = fields.Integer()
    guard_name = fields.String()
    source = fields.String()
    lent = fields.Boolean()
    company_id = fields.Integer(allow_none=True)
    clocked_in_at = fields.AwareDateTime(allow_none=True)
    clocked_out_at = fields.AwareDateTime(allow_none=True)


class GridShiftSchema(ShiftSchema):
    """A shift of the week grid with its guards."""

    guards = fields.List(fields.Nested(SeatSchema))
    open_seats = fields.Integer()


class GridGateSchema(Schema):
    """A gate column of the grid."""

    id = fields.Integer()
    name = fields.String()
    is_open = fields.Boolean()


class IncidentDutySchema(Schema):
    """A guard pledged to an emergency incident for a time: on the roster like a shift."""

    incident_id = fields.Integer()
    pledge_id = fields.Integer()
    pledge_status = fields.String()
    kind = fields.String()
    compound_id = fields.Integer()
    compound_name = fields.String()
    guard_id = fields.Integer()
    guard_name = fields.String()
    company_id = fields.Integer()
    starts_at = fields.AwareDateTime()
    ends_at = fields.AwareDateTime()
    source = fields.String()


class WeekGridSchema(Schema):
    """A compound's week."""

    compound_id = fields.Integer()
    timezone = fields.String()
    week_start = fields.Date()
    gates = fields.List(fields.Nested(GridGateSchema))
    shifts = fields.List(fields.Nested(GridShiftSchema))
    incident_duty = fields.List(fields.Nested(IncidentDutySchema))


class GapSchema(Schema):
    """An uncovered seat (unfilled) or a rostered guard who did not clock in (no_clock_in)."""

    kind = fields.String()
    shift_id = fields.Integer()
    gate_id = fields.Integer()
    starts_at = fields.AwareDateTime()
    ends_at = fields.AwareDateTime()
    missing = fields.Integer()
    guard_id = fields.Integer(allow_none=True)


class GapListSchema(Schema):
    """The gaps of a week."""

    items = fields.List(fields.Nested(GapSchema))


class ScheduleArgsSchema(Schema):
    """A window of my schedule (default: a day ago to two weeks ahead)."""

    start = AwareDateTime()
    end = AwareDateTime()


class ScheduleItemSchema(Schema):
    """One of my shifts."""

    assignment_id = fields.Integer()
    shift_id = fields.Integer()
    compound_id = fields.Integer()
    compound_name = fields.String()
    timezone = fields.String()
    gate_id = fields.Integer()
    gate_name = fields.String()
    starts_at = fields.AwareDateTime()
    ends_at = fields.AwareDateTime()
    source = fields.String()
    lent = fields.Boolean()
    clocked_in_at = fields.AwareDateTime(allow_none=True)
    clocked_out_at = fields.AwareDateTime(allow_none=True)


class ScheduleSchema(Schema):
    """My schedule."""

    items = fields.List(fields.Nested(ScheduleItemSchema))
    incident_duty = fields.List(fields.Nested(IncidentDutySchema))


class ClockSchema(Schema):
    """The scanned gate code."""

    code = label(64)


class ClockEventSchema(Schema):
    """A clock-in or clock-out."""

    id = fields.Integer()
    assignment_id = fields.Integer()
    gate_id = fields.Integer()
    kind = fields.String()
    at = fields.AwareDateTime()
    late = fields.Boolean()


class OnDutySchema(Schema):
    """A guard rostered at the gate now."""

    assignment_id = fields.Integer()
    shift_id = fields.Integer()
    guard_id = fields.Integer()
    guard_name = fields.String()
    starts_at = fields.AwareDateTime()
    ends_at = fields.AwareDateTime()
    lent = fields.Boolean()
    clocked_in_at = fields.AwareDateTime(allow_none=True)
    late = fields.Boolean()


class GateBoardSchema(Schema):
    """Who is on duty at a gate now."""

    gate_id = fields.Integer()
    items = fields.List(fields.Nested(OnDutySchema))
