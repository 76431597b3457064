"""Exposure look-ups (密接排查): staff request with a reason, the alliance admin approves, the requester reads."""

from __future__ import annotations

from flask import jsonify

from server.auth import current_user, roles_required
from server.plumbing.csv_export import XLSX_MIMETYPE, sheet_response
from server.plumbing.pagination import paged, paginate
from server.request_parser import Blueprint
from server.schemas.exposure import (
    ContactsSchema,
    ExposureDecisionSchema,
    ExposureListArgs,
    ExposureRequestCreateSchema,
    ExposureRequestSchema,
    dump_contacts,
)
from server.services.health import exposure

blp = Blueprint("exposure", __name__, url_prefix="/exposure-requests", description="Exposure look-ups (密接排查)")


@blp.route("", methods=["POST"])
@roles_required("staff")
@blp.arguments(ExposureRequestCreateSchema)
@blp.response(201, ExposureRequestSchema)
def create(args):
    """Ask who passed the same gates as a resident within ±minutes, stating why (pending approval)."""
    return exposure.request_lookup(current_user(), args)


@blp.route("", methods=["GET"])
@roles_required("staff", "alliance_admin")
@blp.arguments(ExposureListArgs, location="query")
@paged(blp, ExposureRequestSchema)
def list_requests(args):
    """Requests in the caller's scope, newest first (no results here)."""
    return paginate(exposure.requests_query(current_user(), args.get("status")), args)


@blp.route("/<int:request_id>", methods=["GET"])
@roles_required("staff", "alliance_admin")
@blp.response(200, ExposureRequestSchema)
def get_request(request_id):
    """One request."""
    return exposure.get_request(current_user(), request_id)


@blp.route("/<int:request_id>/approve", methods=["POST"])
@roles_required("alliance_admin")
@blp.arguments(ExposureDecisionSchema)
@blp.response(200, ExposureRequestSchema)
def approve(args, request_id):
    """Approve a pending request (a second person: never the requester)."""
    return exposure.decide(current_user(), request_id, True, args["note"])


@blp.route("/<int:request_id>/reject", methods=["POST"])
@roles_required("alliance_admin")
@blp.arguments(ExposureDecisionSchema)
@blp.response(200, ExposureRequestSchema)
def reject(args, request_id):
    """Reject a pending request."""
    return exposure.decide(current_user(), request_id, False, args["note"])


@blp.route("/<int:request_id>/contacts", methods=["GET"])
@roles_required("staff")
@blp.response(200, ContactsSchema)
def contacts(request_id):
    """The contacts of an approved request, for its requester; every read is audited."""
    # Written out rather than walked field by field by marshmallow (a test holds the two equal).
    return jsonify(dump_contacts(exposure.read_contacts(current_user(), request_id)))


@blp.route("/<int:request_id>/contacts.csv", methods=["GET"])
@roles_required("staff")
@blp.response(200, content_type="text/csv")
def contacts_csv(request_id):
    """The same contacts as CSV for Excel (BOM, Chinese headers, local times, formula cells escaped);
    the export is audited."""
    return sheet_response(exposure.contacts_sheet(current_user(), request_id), f"exposure-{request_id}", "csv")


@blp.route("/<int:request_id>/contacts.xlsx", methods=["GET"])
@roles_required("staff")
@blp.response(200, content_type=XLSX_MIMETYPE)
def contacts_xlsx(request_id):
    """The same contacts as an Excel workbook (text cells never formulas); the export is audited."""
    return sheet_response(exposure.contacts_sheet(current_user(), request_id), f"exposure-{request_id}", "xlsx")
