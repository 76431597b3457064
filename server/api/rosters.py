"""Guard rosters: templates, shifts, assignments, auto-fill, leave, clocking and the roster views."""

from sqlalchemy import select

from server.auth import current_user, roles_required
from server.extensions import db
from server.models.compounds import Gate
from server.models.rosters import GuardLeave, ShiftTemplate
from server.request_parser import Blueprint
from server.schemas.rosters import (
    AssignmentSchema,
    AssignSchema,
    AutofillResultSchema,
    AutofillSchema,
    ClockEventSchema,
    ClockSchema,
    GapListSchema,
    GateBoardSchema,
    GenerateResultSchema,
    LeaveCreateSchema,
    LeaveListSchema,
    LeaveSchema,
    ScheduleArgsSchema,
    ScheduleSchema,
    ShiftCreateSchema,
    ShiftSchema,
    TemplateCreateSchema,
    TemplateListSchema,
    WeekArgsSchema,
    WeekGridSchema,
)
from server.scope import get_in_compound_scope
from server.services.roster import roster_clock, roster_views, rosters
from server.services.roster.roster_autofill import autofill_roster, autofill_scope

blp = Blueprint("rosters", __name__, url_prefix="", description="Guard rosters (排班)")
MANAGERS = ("staff", "alliance_admin")


@blp.route("/gates/<int:gate_id>/shift-templates", methods=["POST"])
@roles_required(*MANAGERS)
@blp.arguments(TemplateCreateSchema)
@blp.response(201, TemplateListSchema)
def add_templates(args, gate_id):
    """Daily shifts of a gate: a preset (3x8, 2x12, ...) from start_time, or one shift of `hours`."""
    return {"items": rosters.add_templates(rosters.managed_gate(current_user(), gate_id), args)}


@blp.route("/compounds/<int:compound_id>/shift-templates", methods=["GET"])
@roles_required(*MANAGERS)
@blp.response(200, TemplateListSchema)
def list_templates(compound_id):
    """The shift templates of a compound's gates."""
    compound = rosters.managed_compound(current_user(), compound_id)
    return {"items": db.session.scalars(select(ShiftTemplate).where(ShiftTemplate.compound_id == compound.id)
                                        .order_by(ShiftTemplate.gate_id, ShiftTemplate.start_time)).all()}


@blp.route("/shift-templates/<int:template_id>", methods=["DELETE"])
@roles_required(*MANAGERS)
@blp.response(204)
def delete_template(template_id):
    """Remove a template (shifts it already generated stay)."""
    rosters.delete_template(current_user(), template_id)


@blp.route("/compounds/<int:compound_id>/shifts/generate", methods=["POST"])
@roles_required(*MANAGERS)
@blp.arguments(WeekArgsSchema)
@blp.response(201, GenerateResultSchema)
def generate_week(args, compound_id):
    """Generate the week's shifts of the open gates from their templates (existing ones are kept)."""
    return rosters.generate_week(rosters.managed_compound(current_user(), compound_id), args["week"])


@blp.route("/gates/<int:gate_id>/shifts", methods=["POST"])
@roles_required(*MANAGERS)
@blp.arguments(ShiftCreateSchema)
@blp.response(201, ShiftSchema)
def add_shift(args, gate_id):
    """A one-off shift at an open gate."""
    return rosters.create_shift(rosters.managed_gate(current_user(), gate_id), args)


@blp.route("/shifts/<int:shift_id>", methods=["DELETE"])
@roles_required(*MANAGERS)
@blp.response(200, ShiftSchema)
def cancel_shift(shift_id):
    """Cancel a shift that has not started; its guards are freed."""
    return rosters.cancel_shift(rosters.managed_shift(current_user(), shift_id))


@blp.route("/shifts/<int:shift_id>/assignments", methods=["POST"])
@roles_required(*MANAGERS)
@blp.arguments(AssignSchema)
@blp.response(201, AssignmentSchema)
def assign_guard(args, shift_id):
    """Put a guard on a shift; a broken rule answers 409 with `rule` and `shift_ids`."""
    user = current_user()
    return rosters.add_assignment(user, rosters.managed_shift(user, shift_id), args["guard_id"])


@blp.route("/shift-assignments/<int:assignment_id>", methods=["DELETE"])
@roles_required(*MANAGERS)
@blp.response(204)
def unassign_guard(assignment_id):
    """Take a guard off a shift that has not started."""
    rosters.remove_assignment(rosters.managed_assignment(current_user(), assignment_id))


@blp.route("/rosters/autofill", methods=["POST"])
@roles_required(*MANAGERS)
@blp.arguments(AutofillSchema)
@blp.response(200, AutofillResultSchema)
def autofill(args):
    """Fill the week's open shifts of a compound (or, for staff, the whole company) from available guards."""
    user = current_user()
    compounds = autofill_scope(user, args.get("compound_id"), args.get("company_id"))
    return autofill_roster(user, compounds, args["week"])


@blp.route("/compounds/<int:compound_id>/roster", methods=["GET"])
@roles_required(*MANAGERS)
@blp.arguments(WeekArgsSchema, location="query")
@blp.response(200, WeekGridSchema)
def week_grid(args, compound_id):
    """The week grid of a compound: every shift by gate with its guards (lent guards included)."""
    return roster_views.week_grid(rosters.managed_compound(current_user(), compound_id), args["week"])


@blp.route("/compounds/<int:compound_id>/roster/gaps", methods=["GET"])
@roles_required(*MANAGERS)
@blp.arguments(WeekArgsSchema, location="query")
@blp.response(200, GapListSchema)
def gaps(args, compound_id):
    """The week's gaps: open seats, and rostered guards who did not clock in."""
    return {"items": roster_views.roster_gaps(rosters.managed_compound(current_user(), compound_id), args["week"])}


@blp.route("/rosters/mine", methods=["GET"])
@roles_required("guard")
@blp.arguments(ScheduleArgsSchema, location="query")
@blp.response(200, ScheduleSchema)
def my_schedule(args):
    """My shifts, at my post or lent to another compound."""
    user, start, end = current_user(), args.get("start"), args.get("end")
    return {"items": roster_views.guard_schedule(user, start, end),
            "incident_duty": roster_views.guard_incident_duty(user, start, end)}


@blp.route("/guards/<int:guard_id>/leaves", methods=["POST"])
@roles_required("staff", "alliance_admin", "guard")
@blp.arguments(LeaveCreateSchema)
@blp.response(201, LeaveSchema)
def add_leave(args, guard_id):
    """Record leave or unavailability (a guard for themselves, staff for their guards)."""
    user = current_user()
    return rosters.add_leave(user, rosters.managed_guard(user, guard_id), args)


@blp.route("/guards/<int:guard_id>/leaves", methods=["GET"])
@roles_required("staff", "alliance_admin", "guard")
@blp.response(200, LeaveListSchema)
def list_leaves(guard_id):
    """A guard's leave and unavailability, latest first."""
    guard = rosters.managed_guard(current_user(), guard_id)
    return {"items": db.session.scalars(select(GuardLeave).where(GuardLeave.guard_id == guard.id)
                                        .order_by(GuardLeave.starts_at.desc()).limit(200)).all()}


@blp.route("/guard-leaves/<int:leave_id>", methods=["DELETE"])
@roles_required("staff", "alliance_admin", "guard")
@blp.response(204)
def delete_leave(leave_id):
    """Withdraw a leave record (a guard: only one they declared)."""
    user = current_user()
    rosters.withdraw_leave(user, rosters.managed_leave(user, leave_id))


@blp.route("/rosters/clock-in", methods=["POST"])
@roles_required("guard")
@blp.arguments(ClockSchema)
@blp.response(201, ClockEventSchema)
def clock_in(args):
    """Clock in by scanning the gate's code at the post (late after the grace window alerts staff)."""
    return roster_clock.clock_in(current_user(), args["code"])


@blp.route("/rosters/clock-out", methods=["POST"])
@roles_required("guard")
@blp.arguments(ClockSchema)
@blp.response(201, ClockEventSchema)
def clock_out(args):
    """Clock out by scanning the gate's code."""
    return roster_clock.clock_out(current_user(), args["code"])


@blp.route("/gates/<int:gate_id>/on-duty", methods=["GET"])
@roles_required("staff", "alliance_admin", "guard")
@blp.response(200, GateBoardSchema)
def gate_board(gate_id):
    """The gate board: who is on duty at this gate now."""
    gate = get_in_compound_scope(current_user(), Gate, gate_id)
    return {"gate_id": gate.id, "items": roster_clock.on_duty(gate)}
