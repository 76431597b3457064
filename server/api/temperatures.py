"""Temperature readings: guards at a gate, residents' self-reports, histories and daily counts."""

from datetime import timedelta

from flask import Response
from flask_smorest import Blueprint
from sqlalchemy import select

from server.auth import current_user, roles_required
from server.errors import ConflictError, NotFoundError, UnprocessableError
from server.extensions import db
from server.messages import message_for
from server.models.compounds import Compound, Gate, Household
from server.models.people import User
from server.pagination import PageArgs, page_of, paginate, total_header
from server.schemas.temperatures import (
    DailyArgs,
    DailyCountSchema,
    GateReadingSchema,
    HistoryArgs,
    ReadingListArgs,
    ReadingResultSchema,
    ReadingSchema,
    SelfReadingSchema,
)
from server.scope import compound_condition, get_compound, get_in_compound_scope
from server.services.clock import local_today
from server.services.consent import record_bulk_read
from server.services.temperatures import (
    daily_counts,
    history_of,
    readings_csv,
    readings_of_day,
    record_reading,
)

blp = Blueprint("temperatures", __name__, url_prefix="", description="Temperature readings and fever workflow")

MAX_DAYS = 31


def _result(reading, outcome: str) -> dict:
    body = {c.key: getattr(reading, c.key) for c in reading.__table__.columns}
    body["outcome"] = outcome
    body["message"] = message_for(outcome) if outcome != "normal" else ""
    return body


@blp.route("/gates/<int:gate_id>/temperatures", methods=["POST"])
@roles_required("guard")
@blp.arguments(GateReadingSchema)
@blp.response(201, ReadingResultSchema)
def measure_at_gate(args, gate_id):
    """A guard's reading at a checkpoint: normal, remeasure (first high), or fever (entry refused)."""
    guard = current_user()
    gate = get_in_compound_scope(guard, Gate, gate_id)
    if args.get("subject_user_id") is not None:
        subject = db.session.get(User, args["subject_user_id"])
        if subject is None or subject.alliance_id != guard.alliance_id:
            raise NotFoundError("not_found")
    if args.get("visitor_id") is not None:
        _check_visitor(gate.compound_id, args["visitor_id"])
    reading, outcome = record_reading(
        guard, compound_id=gate.compound_id, subject_user_id=args.get("subject_user_id"), household_id=None,
        visitor_id=args.get("visitor_id"), gate_id=gate.id, celsius=args["celsius"], source="gate",
        client_id=args.get("client_id"), device_time=args.get("device_time"))
    return _result(reading, outcome)


@blp.route("/me/temperatures", methods=["POST"])
@roles_required("resident")
@blp.arguments(SelfReadingSchema)
@blp.response(201, ReadingResultSchema)
def report_own(args):
    """A resident's self-report (due twice a day in home quarantine)."""
    resident = current_user()
    household = (db.session.get(Household, resident.approved_household_id)
                 if resident.approved_household_id else None)
    if household is None:
        raise ConflictError("not_registered")
    reading, outcome = record_reading(
        resident, compound_id=household.compound_id, subject_user_id=resident.id, household_id=household.id,
        visitor_id=None, gate_id=None, celsius=args["celsius"], source="self", client_id=args.get("client_id"),
        device_time=args.get("device_time"))
    return _result(reading, outcome)


@blp.route("/me/temperatures", methods=["GET"])
@roles_required("resident", "guard")
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_of(ReadingSchema))
def my_history(args):
    """My own readings, newest first."""
    body = paginate(history_of(current_user().id), args)
    return body, 200, total_header(body)


@blp.route("/people/<int:user_id>/temperatures", methods=["GET"])
@roles_required("staff")
@blp.arguments(HistoryArgs, location="query")
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_of(ReadingSchema))
def person_history(audit_args, args, user_id):
    """A person's readings at the caller's compounds (audited)."""
    staff = current_user()
    in_scope = select(Compound.id).where(compound_condition(staff, Compound.id))
    query = history_of(user_id, in_scope)
    if db.session.scalar(query.limit(1)) is None and not _lives_in_scope(staff, user_id):
        raise NotFoundError("not_found")
    body = paginate(query, args)
    record_bulk_read(staff, "temperature.history", compound_id=None, purpose=audit_args.get("purpose"),
                     object_type="user", object_id=user_id, detail={"rows": len(body["items"])})
    return body, 200, total_header(body)


@blp.route("/compounds/<int:compound_id>/temperatures", methods=["GET"])
@roles_required("staff", "alliance_admin")
@blp.arguments(ReadingListArgs, location="query")
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_of(ReadingSchema))
def compound_readings(filters, args, compound_id):
    """One local day of a compound's readings (a bulk read: audited; the alliance must give a purpose)."""
    user = current_user()
    compound = get_compound(user, compound_id)
    day = filters.get("day") or local_today(compound.timezone)
    record_bulk_read(user, "temperature.list", compound_id=compound.id, purpose=filters.get("purpose"),
                     object_type="compound", object_id=compound.id,
                     detail={"day": day.isoformat(), "high_only": filters["high_only"]})
    body = paginate(readings_of_day(compound, day, filters["high_only"]), args)
    return body, 200, total_header(body)


@blp.route("/compounds/<int:compound_id>/temperatures/export", methods=["GET"])
@roles_required("staff", "alliance_admin")
@blp.arguments(ReadingListArgs, location="query")
@blp.response(200, description="text/csv")
def export_readings(filters, compound_id):
    """One local day of readings as CSV (an export: audited; the alliance must give a purpose)."""
    user = current_user()
    compound = get_compound(user, compound_id)
    day = filters.get("day") or local_today(compound.timezone)
    body, count = readings_csv(user, compound, day)
    record_bulk_read(user, "temperature.export", compound_id=compound.id, purpose=filters.get("purpose"),
                     object_type="compound", object_id=compound.id, detail={"day": day.isoformat(), "rows": count})
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": f"attachment; filename=temperatures-{compound.id}-{day.isoformat()}.csv"})


@blp.route("/compounds/<int:compound_id>/temperatures/daily", methods=["GET"])
@roles_required("staff", "alliance_admin")
@blp.arguments(DailyArgs, location="query")
@blp.response(200, DailyCountSchema(many=True))
def compound_daily_counts(args, compound_id):
    """Counts per local day (aggregates, no personal data): the last 7 days unless told."""
    compound = get_compound(current_user(), compound_id)
    end = args.get("end") or local_today(compound.timezone)
    start = args.get("start") or end - timedelta(days=6)
    if start > end or (end - start).days >= MAX_DAYS:
        raise UnprocessableError("validation_failed", errors={"query": {"from": [f"from <= to, at most {MAX_DAYS} days"]}})
    return daily_counts(compound, start, end)


def _lives_in_scope(staff: User, user_id: int) -> bool:
    return db.session.scalar(
        select(User.id).join(Household, Household.id == User.household_id)
        .where(User.id == user_id, compound_condition(staff, Household.compound_id))) is not None


def _check_visitor(compound_id: int, visitor_id: int) -> None:
    try:
        from server.models.checkins import Visitor
    except ImportError:  # the gate issue's model is not there yet
        return
    visitor = db.session.get(Visitor, visitor_id)
    if visitor is None or visitor.compound_id != compound_id:
        raise NotFoundError("not_found")
