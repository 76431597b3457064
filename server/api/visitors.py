"""Visitors (访客): residents pre-register them, guards register walk-ins, staff see who is still inside."""

from __future__ import annotations

from flask import Response

from server.api.checkins import answer_checkin
from server.auth import current_user, roles_required
from server.errors import NotFoundError
from server.plumbing.masking import mask_name, mask_phone
from server.plumbing.pagination import paged, paginate
from server.request_parser import Blueprint
from server.schemas.checkins import CheckInReplySchema, WalkInSchema
from server.schemas.visitors import VisitorCreateSchema, VisitorListArgs, VisitorPassSchema, VisitorSchema
from server.scope import acting_role, get_compound
from server.services.gate import checkins, visitors
from server.services.gate.qr_images import qr_png, qr_svg

blp = Blueprint("visitors", __name__, url_prefix="", description="Visitors (访客)")


def _view(visitor, role: str) -> dict:
    """A visitor as the viewer may see them: the host household in full, staff masked phone, guards masked."""
    body = {c.key: getattr(visitor, c.key) for c in visitor.__table__.columns}
    if role != "resident":
        body["pass_code"] = None
        body["phone"] = mask_phone(visitor.phone) or ""
    if role == "guard":
        body["name"] = mask_name(visitor.name)
    return body


def _page(user, query, args: dict, action: str, compound_id: int | None):
    body = paginate(query, args, each=lambda visitor: _view(visitor, acting_role(user)))
    visitors.record_list_read(user, action, compound_id=compound_id, args=args, returned=len(body["items"]))
    return body


@blp.route("/visitors", methods=["POST"])
@roles_required("resident")
@blp.arguments(VisitorCreateSchema)
@blp.response(201, VisitorSchema)
def pre_register(args):
    """Announce a visitor for a day (up to 30 days ahead): the answer carries the one-day visitor pass code."""
    visitor, replayed = visitors.pre_register(current_user(), args)
    return _view(visitor, "resident"), 200 if replayed else 201


@blp.route("/visitors", methods=["GET"])
@roles_required("resident", "staff", "guard")
@blp.arguments(VisitorListArgs, location="query")
@paged(blp, VisitorSchema)
def list_visitors(args):
    """Visitors: a resident's household's, or those of the caller's compounds."""
    user = current_user()
    query = visitors.visitors_query(user, compound_id=args.get("compound_id"), status=args.get("status"),
                                    day=args.get("date"))
    return _page(user, query, args, "visitors.list", args.get("compound_id"))


@blp.route("/visitors/<int:visitor_id>", methods=["GET"])
@roles_required("resident", "staff", "guard")
@blp.response(200, VisitorSchema)
def get_visitor(visitor_id):
    """One visitor."""
    user = current_user()
    return _view(visitors.get_visitor(user, visitor_id), acting_role(user))


@blp.route("/visitors/<int:visitor_id>", methods=["DELETE"])
@roles_required("resident", "staff")
@blp.response(200, VisitorSchema)
def cancel_visitor(visitor_id):
    """Cancel an expected visitor: the visitor pass stops working."""
    user = current_user()
    return _view(visitors.cancel(user, visitor_id), acting_role(user))


@blp.route("/visitors/<int:visitor_id>/pass", methods=["GET"])
@roles_required("resident")
@blp.response(200, VisitorPassSchema)
def visitor_pass(visitor_id):
    """The visitor pass with its QR (SVG), to forward to the visitor."""
    visitor = visitors.get_visitor(current_user(), visitor_id)
    if visitor.pass_code is None:
        raise NotFoundError("not_found")
    return {"visitor_id": visitor.id, "code": visitor.pass_code, "expected_date": visitor.expected_date,
            "svg": qr_svg(visitor.pass_code)}


@blp.route("/visitors/<int:visitor_id>/pass.png", methods=["GET"])
@roles_required("resident")
@blp.response(200, content_type="image/png")
def visitor_pass_png(visitor_id):
    """The visitor pass QR as PNG."""
    visitor = visitors.get_visitor(current_user(), visitor_id)
    if visitor.pass_code is None:
        raise NotFoundError("not_found")
    return Response(qr_png(visitor.pass_code), mimetype="image/png")


@blp.route("/visitors/walk-in", methods=["POST"])
@roles_required("guard")
@blp.arguments(WalkInSchema)
@blp.response(201, CheckInReplySchema)
def walk_in(args):
    """Register a walk-in visitor at the gate with the 14-day travel declaration; records the entry."""
    return answer_checkin(checkins.record_guard(current_user(), "walk_in", args))


@blp.route("/compounds/<int:compound_id>/visitors/inside", methods=["GET"])
@roles_required("staff", "guard")
@blp.arguments(VisitorListArgs, location="query")
@paged(blp, VisitorSchema)
def inside(args, compound_id):
    """Visitors still inside the compound (came in, not yet out), earliest first."""
    user = current_user()
    compound = get_compound(user, compound_id)
    return _page(user, visitors.visitors_inside(compound.id), args, "visitors.inside", compound.id)
