"""Temperature readings: guards at a gate, residents' self-reports, histories and daily counts."""

from server.auth import current_user, roles_required
from server.messages import message_for
from server.plumbing.clock import local_today
from server.plumbing.csv_export import XLSX_MIMETYPE, sheet_response
from server.plumbing.pagination import PageArgs, paged, paginate
from server.request_parser import Blueprint
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
from server.scope import get_compound
from server.services.health import temperatures as readings
from server.services.people.consent import record_bulk_read

blp = Blueprint("temperatures", __name__, url_prefix="", description="Temperature readings and fever workflow")


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
    """A guard's reading at a checkpoint: normal, remeasure (first high), or fever (entry refused).

    The subject is a resident of the gate's compound or a visitor registered there (else 404), or an
    unidentified passer-by (`passer_by: true`, optional `note`; the re-measure gives `remeasure_of`).
    """
    passer_by = ({"note": args.get("note", ""), "remeasure_of": args.get("remeasure_of")}
                 if args.get("passer_by") else None)
    reading, outcome = readings.measure_at_gate(
        current_user(), gate_id, subject_user_id=args.get("subject_user_id"), visitor_id=args.get("visitor_id"),
        celsius=args["celsius"], client_id=args.get("client_id"), device_time=args.get("device_time"),
        passer_by=passer_by)
    return _result(reading, outcome)


@blp.route("/me/temperatures", methods=["POST"])
@roles_required("resident")
@blp.arguments(SelfReadingSchema)
@blp.response(201, ReadingResultSchema)
def report_own(args):
    """A resident's self-report (due twice a day in home quarantine)."""
    reading, outcome = readings.report_own(current_user(), celsius=args["celsius"],
                                           client_id=args.get("client_id"), device_time=args.get("device_time"))
    return _result(reading, outcome)


@blp.route("/me/temperatures", methods=["GET"])
@roles_required("resident", "guard")
@blp.arguments(PageArgs, location="query")
@paged(blp, ReadingSchema)
def my_history(args):
    """My own readings, newest first."""
    return paginate(readings.history_of(current_user().id), args)


@blp.route("/people/<int:user_id>/temperatures", methods=["GET"])
@roles_required("staff")
@blp.arguments(HistoryArgs, location="query")
@blp.arguments(PageArgs, location="query")
@paged(blp, ReadingSchema)
def person_history(audit_args, args, user_id):
    """A person's readings at the caller's compounds (audited)."""
    staff = current_user()
    body = paginate(readings.person_history(staff, user_id), args)
    record_bulk_read(staff, "temperature.history", compound_id=None, purpose=audit_args.get("purpose"),
                     object_type="user", object_id=user_id, detail={"rows": len(body["items"])})
    return body


@blp.route("/compounds/<int:compound_id>/temperatures", methods=["GET"])
@roles_required("staff", "alliance_admin")
@blp.arguments(ReadingListArgs, location="query")
@blp.arguments(PageArgs, location="query")
@paged(blp, ReadingSchema)
def compound_readings(filters, args, compound_id):
    """One local day of a compound's readings (a bulk read: audited; the alliance must give a purpose)."""
    user = current_user()
    compound = get_compound(user, compound_id)
    day = filters.get("day") or local_today(compound.timezone)
    record_bulk_read(user, "temperature.list", compound_id=compound.id, purpose=filters.get("purpose"),
                     object_type="compound", object_id=compound.id,
                     detail={"day": day.isoformat(), "high_only": filters["high_only"]})
    return paginate(readings.readings_of_day(compound, day, filters["high_only"]), args)


@blp.route("/compounds/<int:compound_id>/temperatures/export", methods=["GET"])
@roles_required("staff", "alliance_admin")
@blp.arguments(ReadingListArgs, location="query")
@blp.response(200, content_type="text/csv")
def export_readings(filters, compound_id):
    """One local day of readings as CSV for Excel (BOM, Chinese headers, local times; an export: audited;
    the alliance must give a purpose)."""
    return _export(filters, compound_id, "csv")


@blp.route("/compounds/<int:compound_id>/temperatures/export.xlsx", methods=["GET"])
@roles_required("staff", "alliance_admin")
@blp.arguments(ReadingListArgs, location="query")
@blp.response(200, content_type=XLSX_MIMETYPE)
def export_readings_xlsx(filters, compound_id):
    """The same export as an Excel workbook (.xlsx)."""
    return _export(filters, compound_id, "xlsx")


def _export(filters: dict, compound_id: int, fmt: str):
    user = current_user()
    compound = get_compound(user, compound_id)
    day = filters.get("day") or local_today(compound.timezone)
    sheet = readings.readings_sheet(user, compound, day)
    record_bulk_read(user, "temperature.export", compound_id=compound.id, purpose=filters.get("purpose"),
                     object_type="compound", object_id=compound.id,
                     detail={"day": day.isoformat(), "rows": len(sheet.rows), "format": fmt})
    return sheet_response(sheet, f"temperatures-{compound.id}-{day.isoformat()}", fmt)


@blp.route("/compounds/<int:compound_id>/temperatures/daily", methods=["GET"])
@roles_required("staff", "alliance_admin")
@blp.arguments(DailyArgs, location="query")
@blp.response(200, DailyCountSchema(many=True))
def compound_daily_counts(args, compound_id):
    """Counts per local day (aggregates, no personal data): the last 7 days unless told."""
    return readings.daily_counts(get_compound(current_user(), compound_id), args.get("start"), args.get("end"))

