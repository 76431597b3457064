"""Home-quarantine orders: staff place, extend, lift and list them; a resident sees their own."""

from server.auth import current_user, roles_required
from server.extensions import db
from server.models.compounds import Compound
from server.models.health import QuarantineOrder
from server.plumbing.clock import utcnow
from server.plumbing.pagination import PageArgs, paged, paginate
from server.request_parser import Blueprint
from server.schemas.quarantine import (
    ExtendOrderSchema,
    LiftOrderSchema,
    MyQuarantineSchema,
    OrderArgsSchema,
    OrderSchema,
    PlaceOrderSchema,
)
from server.scope import get_compound, get_in_compound_scope
from server.services.health.quarantine import (
    active_order,
    extend_quarantine,
    extensions_of,
    lift_quarantine,
    order_status,
    orders_of_person,
    orders_query,
    place_quarantine,
)
from server.services.health.welfare import report_slot, reports_in_slot, reports_today
from server.services.people.consent import record_bulk_read

blp = Blueprint("quarantine", __name__, url_prefix="", description="Home-quarantine orders")


def _dump(order: QuarantineOrder, with_history: bool = False) -> dict:
    body = {c.key: getattr(order, c.key) for c in order.__table__.columns}
    body["status"] = order_status(order)
    if with_history:
        body["extensions"] = extensions_of(order)
    return body


@blp.route("/compounds/<int:compound_id>/quarantine-orders", methods=["POST"])
@roles_required("staff")
@blp.arguments(PlaceOrderSchema)
@blp.response(201, OrderSchema)
def place(args, compound_id):
    """Place a resident or a whole household under home quarantine (14 days unless told)."""
    user = current_user()
    return _dump(place_quarantine(user, get_compound(user, compound_id), **args))


@blp.route("/compounds/<int:compound_id>/quarantine-orders", methods=["GET"])
@roles_required("staff", "alliance_admin")
@blp.arguments(OrderArgsSchema, location="query")
@blp.arguments(PageArgs, location="query")
@paged(blp, OrderSchema)
def list_orders(filters, args, compound_id):
    """A compound's orders, newest first (a bulk read: audited; the alliance must give a purpose)."""
    user = current_user()
    compound = get_compound(user, compound_id)
    record_bulk_read(user, "quarantine.list", compound_id=compound.id, purpose=filters.get("purpose"),
                     object_type="compound", object_id=compound.id, detail={"status": filters.get("status")})
    return paginate(orders_query(compound.id, filters.get("status")), args, each=_dump)


@blp.route("/quarantine-orders/<int:order_id>", methods=["GET"])
@roles_required("staff")
@blp.response(200, OrderSchema)
def get_order(order_id):
    """One order with its extensions (a read of health data: audited)."""
    user = current_user()
    order = get_in_compound_scope(user, QuarantineOrder, order_id)
    record_bulk_read(user, "quarantine.read", compound_id=order.compound_id, purpose=None,
                     object_type="quarantine_order", object_id=order.id)
    return _dump(order, with_history=True)


@blp.route("/quarantine-orders/<int:order_id>/extend", methods=["POST"])
@roles_required("staff")
@blp.arguments(ExtendOrderSchema)
@blp.response(200, OrderSchema)
def extend(args, order_id):
    """Move a current order's end later."""
    user = current_user()
    order = get_in_compound_scope(user, QuarantineOrder, order_id)
    return _dump(extend_quarantine(user, order, **args), with_history=True)


@blp.route("/quarantine-orders/<int:order_id>/lift", methods=["POST"])
@roles_required("staff")
@blp.arguments(LiftOrderSchema)
@blp.response(200, OrderSchema)
def lift(args, order_id):
    """End a current order early, with a reason."""
    user = current_user()
    order = get_in_compound_scope(user, QuarantineOrder, order_id)
    return _dump(lift_quarantine(user, order, args["reason"]), with_history=True)


@blp.route("/me/quarantine", methods=["GET"])
@roles_required("resident")
@blp.response(200, MyQuarantineSchema)
def my_quarantine():
    """The order confining me now (if any), all my orders, and my self-reports today."""
    resident = current_user()
    household_id = resident.approved_household_id
    now = utcnow()
    order = active_order(resident.id, household_id, now)
    compound = db.session.get(Compound, order.compound_id) if order else None
    return {
        "active": _dump(order) if order else None,
        "orders": [_dump(o) for o in orders_of_person(resident)],
        "reports_required_per_day": 2 if order else 0,
        "reports_today": reports_today(resident.id, compound.timezone, now) if compound else 0,
        "current_slot_reported": bool(compound) and reports_in_slot(resident.id, report_slot(compound.timezone, now)) > 0,
    }
