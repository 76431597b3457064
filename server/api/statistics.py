"""District statistics for the alliance, a company or a compound (aggregates only), and their exports."""

from flask import Response, jsonify

from server.auth import current_user, roles_required
from server.plumbing.audit import record
from server.plumbing.csv_export import sheets_response
from server.request_parser import Blueprint
from server.schemas.statistics import ExportArgs
from server.services.alliance.statistics import district_statistics, resolve_scope
from server.services.alliance.statistics_exports import statistics_chart, statistics_sheets

blp = Blueprint("statistics", __name__, url_prefix="/statistics",
                description="District statistics: organisation, gate traffic, health, delivery, roster")


def _answer(level: str, object_id: int | None = None) -> dict:
    return district_statistics(resolve_scope(current_user(), level, object_id))


def _export(level: str, object_id: int | None, export_format: str) -> Response:
    """The answer as CSV, .xlsx or chart JSON; every export is audited."""
    answer = _answer(level, object_id)
    scope = answer["scope"]
    record("statistics.export", object_type=level, object_id=scope["id"],
           compound_id=scope["id"] if level == "compound" else None,
           detail={"format": export_format, "day": answer["day"]})
    filename = f"statistics-{level}-{scope['id']}-{answer['day']}"
    if export_format == "chart":
        return jsonify(statistics_chart(answer))
    return sheets_response(statistics_sheets(answer), filename, export_format)


@blp.route("/alliance", methods=["GET"])
@roles_required("alliance_admin")
@blp.response(200, description="the alliance's figures, totals and a row per company")
def alliance_statistics():
    """The alliance's figures today: totals per area and a row per company."""
    return _answer("alliance")


@blp.route("/companies/<int:company_id>", methods=["GET"])
@roles_required("alliance_admin", "staff")
@blp.response(200, description="a company's figures, totals and a row per compound")
def company_statistics(company_id):
    """A company's figures today (staff: their own company only, else 404)."""
    return _answer("company", company_id)


@blp.route("/compounds/<int:compound_id>", methods=["GET"])
@roles_required("alliance_admin", "staff")
@blp.response(200, description="a compound's figures")
def compound_statistics(compound_id):
    """A compound's figures today (in the caller's scope, else 404)."""
    return _answer("compound", compound_id)


@blp.route("/alliance/export", methods=["GET"])
@roles_required("alliance_admin")
@blp.arguments(ExportArgs, location="query")
@blp.response(200, description="text/csv, .xlsx or chart JSON")
def export_alliance(args):
    """The alliance's figures as CSV, Excel or chart JSON (audited)."""
    return _export("alliance", None, args["format"])


@blp.route("/companies/<int:company_id>/export", methods=["GET"])
@roles_required("alliance_admin", "staff")
@blp.arguments(ExportArgs, location="query")
@blp.response(200, description="text/csv, .xlsx or chart JSON")
def export_company(args, company_id):
    """A company's figures as CSV, Excel or chart JSON (audited)."""
    return _export("company", company_id, args["format"])


@blp.route("/compounds/<int:compound_id>/export", methods=["GET"])
@roles_required("alliance_admin", "staff")
@blp.arguments(ExportArgs, location="query")
@blp.response(200, description="text/csv, .xlsx or chart JSON")
def export_compound(args, compound_id):
    """A compound's figures as CSV, Excel or chart JSON (audited)."""
    return _export("compound", compound_id, args["format"])
