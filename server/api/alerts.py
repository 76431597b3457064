"""Alerts (fever, missed report, returnee, welfare) that staff see and acknowledge."""

from server.auth import current_user, roles_required
from server.plumbing.pagination import PageArgs, paged, paginate
from server.request_parser import Blueprint
from server.schemas.alerts import AcknowledgeSchema, AlertArgsSchema, AlertSchema
from server.services.organisation.alerts import acknowledge, alerts_query
from server.services.people.consent import record_bulk_read

blp = Blueprint("alerts", __name__, url_prefix="/alerts", description="Alerts for staff")


@blp.route("", methods=["GET"])
@roles_required("staff")
@blp.arguments(AlertArgsSchema, location="query")
@blp.arguments(PageArgs, location="query")
@paged(blp, AlertSchema)
def list_alerts(filters, args):
    """Alerts of my compounds, newest first (open ones only with ?open=true).

    A bulk read of personal data (temperatures, travel, last sightings, names): audited.
    """
    staff = current_user()
    query = alerts_query(staff, compound_id=filters.get("compound_id"), kind=filters.get("kind"),
                         open_only=filters["open"])
    body = paginate(query, args)
    record_bulk_read(staff, "alert.list", compound_id=filters.get("compound_id"), purpose=None,
                     object_type="alert", detail={"kind": filters.get("kind"), "open": filters["open"],
                                                  "rows": len(body["items"]),
                                                  "alert_ids": [a.id for a in body["items"]]})
    return body


@blp.route("/<int:alert_id>/acknowledge", methods=["POST"])
@roles_required("staff")
@blp.arguments(AcknowledgeSchema)
@blp.response(200, AlertSchema)
def acknowledge_alert(args, alert_id):
    """Mark an alert as handled (once)."""
    return acknowledge(current_user(), alert_id, args.get("note", ""))
