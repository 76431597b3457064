"""Emergency mutual aid (应急互助): incidents, pledges of help, and each company's reward and penalty record."""

from server.auth import current_user, roles_required
from server.plumbing.pagination import PageArgs, paged
from server.request_parser import Blueprint
from server.schemas.incidents import (
    AllianceRecordSchema,
    CompanyRecordSchema,
    IncidentArgsSchema,
    IncidentCloseSchema,
    IncidentCreateSchema,
    IncidentSchema,
    IncidentSummarySchema,
    PledgeCreateSchema,
    PledgeSchema,
    RecordEntryCreateSchema,
    RecordEntrySchema,
)
from server.services.alliance import company_record, incident_pledges, incident_views, incidents

blp = Blueprint("incidents", __name__, url_prefix="", description="Emergency mutual aid (应急互助) and company records")
MEMBERS = ("staff", "alliance_admin")


@blp.route("/incidents", methods=["POST"])
@roles_required(*MEMBERS)
@blp.arguments(IncidentCreateSchema)
@blp.response(201, IncidentSchema)
def raise_incident(args):
    """Raise an incident at a compound of mine (admin: any compound) with its needs; the alliance is told at once."""
    user = current_user()
    return incident_views.incident_detail(user, incidents.raise_incident(user, args))


@blp.route("/incidents", methods=["GET"])
@roles_required(*MEMBERS)
@blp.arguments(IncidentArgsSchema, location="query")
@blp.arguments(PageArgs, location="query")
@paged(blp, IncidentSummarySchema)
def list_incidents(filters, args):
    """The alliance's incidents, newest first (?status=open)."""
    return incident_views.incident_page(current_user(), args, filters.get("status"))


@blp.route("/incidents/<int:incident_id>", methods=["GET"])
@roles_required(*MEMBERS)
@blp.response(200, IncidentSchema)
def get_incident(incident_id):
    """An incident: needs per stage, the dispatch clock, pledges and who is coming."""
    user = current_user()
    return incident_views.incident_detail(user, incidents.get_incident(user, incident_id))


@blp.route("/incidents/<int:incident_id>/close", methods=["POST"])
@roles_required(*MEMBERS)
@blp.arguments(IncidentCloseSchema)
@blp.response(200, IncidentSchema)
def close_incident(args, incident_id):
    """Close the incident with a summary (the raising side or the admin)."""
    user = current_user()
    incident = incidents.close_incident(user, incidents.get_incident(user, incident_id), args["summary"])
    return incident_views.incident_detail(user, incident)


@blp.route("/incidents/<int:incident_id>/pledges", methods=["POST"])
@roles_required("staff")
@blp.arguments(PledgeCreateSchema)
@blp.response(201, PledgeSchema)
def pledge_help(args, incident_id):
    """Pledge people of my company and equipment to an incident."""
    user = current_user()
    incident = incidents.get_incident(user, incident_id)
    pledge = incident_pledges.pledge_help(user, incident, args)
    return incident_views.pledge_rows(user, incident, [pledge.id])[0]


def _move(pledge_id, move):
    user = current_user()
    pledge, incident = incident_pledges.get_pledge(user, pledge_id)
    move(pledge, incident)
    return incident_views.pledge_rows(user, incident, [pledge.id])[0]


@blp.route("/incident-pledges/<int:pledge_id>/depart", methods=["POST"])
@roles_required("staff")
@blp.response(200, PledgeSchema)
def depart(pledge_id):
    """My company's pledged help sets off."""
    return _move(pledge_id, incident_pledges.depart)


@blp.route("/incident-pledges/<int:pledge_id>/arrive", methods=["POST"])
@roles_required("staff")
@blp.response(200, PledgeSchema)
def arrive(pledge_id):
    """My company's help is on site (the dispatch clock records it)."""
    return _move(pledge_id, incident_pledges.arrive)


@blp.route("/incident-pledges/<int:pledge_id>/cancel", methods=["POST"])
@roles_required("staff")
@blp.response(200, PledgeSchema)
def cancel(pledge_id):
    """Take my company's pledge back before it arrives (after departing, it counts as broken)."""
    return _move(pledge_id, incident_pledges.cancel)


@blp.route("/companies/<int:company_id>/record", methods=["GET"])
@roles_required(*MEMBERS)
@blp.response(200, CompanyRecordSchema)
def company_record_view(company_id):
    """A company's reward and penalty record (aggregates; entries' text to the company and the admin)."""
    user = current_user()
    return company_record.company_record(user, company_record.get_company(user, company_id))


@blp.route("/companies/<int:company_id>/record/entries", methods=["POST"])
@roles_required("alliance_admin")
@blp.arguments(RecordEntryCreateSchema)
@blp.response(201, RecordEntrySchema)
def add_record_entry(args, company_id):
    """Add a commendation, criticism or note to a company's record."""
    user = current_user()
    return company_record.add_entry(user, company_record.get_company(user, company_id), args)


@blp.route("/alliance/record", methods=["GET"])
@roles_required(*MEMBERS)
@blp.response(200, AllianceRecordSchema)
def alliance_record():
    """Every member company's record (aggregates only)."""
    user = current_user()
    return {"alliance_id": user.alliance_id, "companies": company_record.alliance_records(user.alliance_id)}
