"""Satisfaction ratings: residents rate their property service; companies are ranked; comments, exports."""

from flask import jsonify

from server.auth import current_user, roles_required
from server.errors import NotFoundError
from server.plumbing.audit import record
from server.plumbing.csv_export import Sheet, sheet_response
from server.plumbing.pagination import PageArgs, paged
from server.request_parser import Blueprint
from server.schemas.ratings import (
    CommentSchema,
    PeriodArgs,
    PeriodExportArgs,
    RankingSchema,
    RateServiceSchema,
    RatingSchema,
)
from server.services.alliance import ratings
from server.services.alliance.rankings import ranking
from server.services.alliance.statistics_exports import ranking_chart, ranking_table

blp = Blueprint("ratings", __name__, url_prefix="/ratings", description="Satisfaction ratings and rankings")


@blp.route("", methods=["POST"])
@roles_required("resident")
@blp.arguments(RateServiceSchema)
@blp.response(201, RatingSchema)
def rate_service(args):
    """Rate the property service of my compound for this period (once; a second is 409)."""
    return ratings.rate_service(current_user(), args["score"], args.get("comment", ""))


@blp.route("/mine", methods=["GET"])
@roles_required("resident")
@blp.arguments(PeriodArgs, location="query")
@blp.response(200, RatingSchema)
def my_rating(args):
    """My rating of a period (the current one by default), or 404 if I gave none."""
    rating = ratings.own_rating(current_user(), args.get("period"))
    if rating is None:
        raise NotFoundError("not_found")
    return rating


@blp.route("/rankings", methods=["GET"])
@roles_required("alliance_admin", "staff")
@blp.arguments(PeriodArgs, location="query")
@blp.response(200, RankingSchema)
def rankings(args):
    """The alliance's companies ranked by average score in a period; too few ratings: listed apart."""
    return ranking(current_user(), args.get("period") or ratings.current_period())


@blp.route("/rankings/export", methods=["GET"])
@roles_required("alliance_admin", "staff")
@blp.arguments(PeriodExportArgs, location="query")
@blp.response(200, description="text/csv, .xlsx or chart JSON")
def export_rankings(args):
    """The ranking as CSV, Excel or chart JSON (audited)."""
    period = args.get("period") or ratings.current_period()
    body = ranking(current_user(), period)
    record("ratings.ranking_export", object_type="ranking", object_id=period, detail={"format": args["format"]})
    if args["format"] == "chart":
        return jsonify(ranking_chart(body))
    header, rows = ranking_table(body)
    return sheet_response(Sheet("满意度排名", header, rows), f"ranking-{period}", args["format"])


@blp.route("/comments", methods=["GET"])
@roles_required("alliance_admin", "staff")
@blp.arguments(PeriodArgs, location="query")
@blp.arguments(PageArgs, location="query")
@paged(blp, CommentSchema)
def comments(period_args, args):
    """Comments of a period, authors masked: staff see their company's, the alliance admin all (audited)."""
    period = period_args.get("period") or ratings.current_period()
    return ratings.comments_page(current_user(), period, args)


@blp.route("/incidents/<int:incident_id>", methods=["POST"])
@roles_required("resident")
@blp.arguments(RateServiceSchema)
@blp.response(201, RatingSchema)
def rate_incident(args, incident_id):
    """Rate how an emergency at my compound was handled, once it is closed (once per incident: 409)."""
    return ratings.rate_incident(current_user(), incident_id, args["score"], args.get("comment", ""))
