"""Trips of residents (外地返回): residents declare their return, staff record one, list them and turn one
into a home-quarantine order."""

from server.auth import current_user, roles_required
from server.plumbing.pagination import PageArgs, paged, paginate
from server.request_parser import Blueprint
from server.schemas.quarantine import OrderSchema
from server.schemas.trips import TripArgsSchema, TripCreateSchema, TripQuarantineSchema, TripSchema
from server.scope import get_compound
from server.services.health import trips
from server.services.health.quarantine import order_status
from server.services.people.consent import record_bulk_read

blp = Blueprint("trips", __name__, url_prefix="", description="Residents returning from other cities (外地返回)")


@blp.route("/me/trips", methods=["POST"])
@roles_required("resident")
@blp.arguments(TripCreateSchema)
@blp.response(201, TripSchema)
def declare(args):
    """Declare my return from another city (where from, which day); the gate watches for 14 days after."""
    return trips.declare_trip(current_user(), args)


@blp.route("/me/trips", methods=["GET"])
@roles_required("resident")
@blp.arguments(PageArgs, location="query")
@paged(blp, TripSchema)
def my_trips(args):
    """My declared trips, latest return first."""
    return paginate(trips.my_trips(current_user()), args)


@blp.route("/residents/<int:resident_id>/trips", methods=["POST"])
@roles_required("staff")
@blp.arguments(TripCreateSchema)
@blp.response(201, TripSchema)
def record(args, resident_id):
    """Record a trip for a resident of my compounds (e.g. told at the gate or by phone)."""
    return trips.record_trip(current_user(), resident_id, args)


@blp.route("/compounds/<int:compound_id>/trips", methods=["GET"])
@roles_required("staff", "alliance_admin")
@blp.arguments(TripArgsSchema, location="query")
@blp.arguments(PageArgs, location="query")
@paged(blp, TripSchema)
def compound_trips(filters, args, compound_id):
    """A compound's trips (?status=attention: those the gate flags now); a bulk read, audited."""
    user = current_user()
    compound = get_compound(user, compound_id)
    record_bulk_read(user, "trip.list", compound_id=compound.id, purpose=filters.get("purpose"),
                     object_type="compound", object_id=compound.id, detail={"status": filters.get("status")})
    return paginate(trips.compound_trips(compound, filters.get("status")), args)


@blp.route("/trips/<int:trip_id>/quarantine", methods=["POST"])
@roles_required("staff")
@blp.arguments(TripQuarantineSchema)
@blp.response(201, OrderSchema)
def to_quarantine(args, trip_id):
    """Turn the trip into a home-quarantine order (from the return until its attention period ends)."""
    user = current_user()
    order = trips.quarantine_from_trip(user, trips.get_trip(user, trip_id), args)
    return {**{c.key: getattr(order, c.key) for c in order.__table__.columns}, "status": order_status(order)}
