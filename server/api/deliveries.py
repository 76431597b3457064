"""Grocery delivery (送菜上门): residents ask, staff (and guards where allowed) run, the alliance counts."""

from server.auth import current_user, roles_required
from server.models.people import User
from server.plumbing.pagination import PageArgs, paged, paginate
from server.request_parser import Blueprint
from server.schemas.deliveries import (
    DeliveryCancelSchema,
    DeliveryCostSchema,
    DeliveryCreateSchema,
    DeliveryEventSchema,
    DeliveryFiguresArgs,
    DeliveryFiguresSchema,
    DeliveryListArgs,
    DeliveryQueueArgs,
    DeliveryRatingInSchema,
    DeliveryRatingSchema,
    DeliveryRejectSchema,
    DeliverySchema,
    DeliverySettingsSchema,
    DeliverySubstitutionsSchema,
)
from server.scope import get_compound
from server.services.delivery import delivery_lifecycle as lifecycle
from server.services.delivery.deliveries import (
    deliveries_query,
    delivery_history,
    delivery_settings,
    get_delivery,
    queue_query,
    rate_delivery,
    set_delivery_settings,
)
from server.services.delivery.deliveries import submit_delivery as submit
from server.services.delivery.delivery_figures import service_figures
from server.services.delivery.delivery_views import RUNNERS, present_deliveries, present_delivery
from server.services.people.consent import record_bulk_read

blp = Blueprint("deliveries", __name__, url_prefix="", description="Grocery delivery for households in quarantine")


def _paged(viewer: User, query, args: dict):
    body = paginate(query, args)
    body["items"] = present_deliveries(viewer, body["items"])
    return body


@blp.route("/deliveries", methods=["POST"])
@roles_required("resident")
@blp.arguments(DeliveryCreateSchema)
@blp.response(201, DeliverySchema)
def submit_delivery(args):
    """Ask for groceries (households in home quarantine or in a compound in lockdown); a retry answers 200."""
    user = current_user()
    request, replayed = submit(user, args)
    return present_delivery(user, request), 200 if replayed else 201


@blp.route("/deliveries", methods=["GET"])
@roles_required("resident", "staff")
@blp.arguments(DeliveryListArgs, location="query")
@blp.arguments(PageArgs, location="query")
@paged(blp, DeliverySchema)
def list_deliveries(filters, args):
    """Requests, newest first: a resident's household's, or staff's compounds' (filter by compound, status)."""
    user = current_user()
    return _paged(user, deliveries_query(user, filters), args)


@blp.route("/compounds/<int:compound_id>/delivery-queue", methods=["GET"])
@roles_required(*RUNNERS)
@blp.arguments(DeliveryQueueArgs, location="query")
@blp.arguments(PageArgs, location="query")
@paged(blp, DeliverySchema)
def delivery_queue(filters, args, compound_id):
    """A compound's open requests: most urgent first (medicine, infant, elderly), then longest waiting."""
    user = current_user()
    compound = get_compound(user, compound_id)
    query = queue_query(user, compound, filters)
    record_bulk_read(user, "delivery.queue", compound_id=compound.id, purpose=None,
                     object_type="compound", object_id=compound.id)
    return _paged(user, query, args)


@blp.route("/deliveries/<int:delivery_id>", methods=["GET"])
@roles_required("resident", *RUNNERS)
@blp.response(200, DeliverySchema)
def read_delivery(delivery_id):
    """One request (read by staff or a guard: audited, as it tells a household's needs and health)."""
    user = current_user()
    delivery = get_delivery(user, delivery_id)
    if user.role != "resident":
        record_bulk_read(user, "delivery.read", compound_id=delivery.compound_id, purpose=None,
                         object_type="delivery_request", object_id=delivery.id)
    return present_delivery(user, delivery)


@blp.route("/deliveries/<int:delivery_id>/events", methods=["GET"])
@roles_required("resident", *RUNNERS)
@blp.response(200, DeliveryEventSchema(many=True))
def delivery_events(delivery_id):
    """The history of a request, oldest first."""
    return delivery_history(get_delivery(current_user(), delivery_id))


@blp.route("/deliveries/<int:delivery_id>/claim", methods=["POST"])
@roles_required(*RUNNERS)
@blp.response(200, DeliverySchema)
def claim(delivery_id):
    """Claim a submitted request; if someone else was quicker, 409."""
    user = current_user()
    return present_delivery(user, lifecycle.claim_delivery(user, get_delivery(user, delivery_id)))


@blp.route("/deliveries/<int:delivery_id>/start", methods=["POST"])
@roles_required(*RUNNERS)
@blp.response(200, DeliverySchema)
def start(delivery_id):
    """Start purchasing (the resident can no longer cancel)."""
    user = current_user()
    return present_delivery(user, lifecycle.start_purchasing(user, get_delivery(user, delivery_id)))


@blp.route("/deliveries/<int:delivery_id>/dispatch", methods=["POST"])
@roles_required(*RUNNERS)
@blp.arguments(DeliveryCostSchema)
@blp.response(200, DeliverySchema)
def dispatch(args, delivery_id):
    """The groceries are on the way (the cost may be given now)."""
    user = current_user()
    return present_delivery(user, lifecycle.dispatch_delivery(user, get_delivery(user, delivery_id), args))


@blp.route("/deliveries/<int:delivery_id>/deliver", methods=["POST"])
@roles_required(*RUNNERS)
@blp.arguments(DeliveryCostSchema)
@blp.response(200, DeliverySchema)
def deliver(args, delivery_id):
    """The groceries are at the drop point."""
    user = current_user()
    return present_delivery(user, lifecycle.mark_delivered(user, get_delivery(user, delivery_id), args))


@blp.route("/deliveries/<int:delivery_id>/items", methods=["PATCH"])
@roles_required(*RUNNERS)
@blp.arguments(DeliverySubstitutionsSchema)
@blp.response(200, DeliverySchema)
def substitutions(args, delivery_id):
    """Record items bought, out of stock, or replaced by something else."""
    user = current_user()
    return present_delivery(user, lifecycle.record_substitutions(user, get_delivery(user, delivery_id), args["items"]))


@blp.route("/deliveries/<int:delivery_id>/reject", methods=["POST"])
@roles_required("staff")
@blp.arguments(DeliveryRejectSchema)
@blp.response(200, DeliverySchema)
def reject(args, delivery_id):
    """Decline a request, saying why."""
    user = current_user()
    return present_delivery(user, lifecycle.reject_delivery(user, get_delivery(user, delivery_id), args["reason"]))


@blp.route("/deliveries/<int:delivery_id>/cancel", methods=["POST"])
@roles_required("resident")
@blp.arguments(DeliveryCancelSchema)
@blp.response(200, DeliverySchema)
def cancel(args, delivery_id):
    """Withdraw a request before purchasing starts."""
    user = current_user()
    return present_delivery(user, lifecycle.cancel_delivery(user, get_delivery(user, delivery_id), args.get("reason", "")))


@blp.route("/deliveries/<int:delivery_id>/confirm", methods=["POST"])
@roles_required("resident")
@blp.response(200, DeliverySchema)
def confirm(delivery_id):
    """Confirm receipt (otherwise confirmed automatically 24 hours after delivery)."""
    user = current_user()
    return present_delivery(user, lifecycle.confirm_delivery(user, get_delivery(user, delivery_id)))


@blp.route("/deliveries/<int:delivery_id>/rate", methods=["POST"])
@roles_required("resident")
@blp.arguments(DeliveryRatingInSchema)
@blp.response(201, DeliveryRatingSchema)
def rate(args, delivery_id):
    """Rate a confirmed delivery once: 1 to 5 and a comment."""
    user = current_user()
    return rate_delivery(user, get_delivery(user, delivery_id), args["score"], args.get("comment", ""))


@blp.route("/compounds/<int:compound_id>/delivery-settings", methods=["GET"])
@roles_required("staff")
@blp.response(200, DeliverySettingsSchema)
def read_settings(compound_id):
    """Whether guards may claim and run deliveries in this compound."""
    return delivery_settings(get_compound(current_user(), compound_id))


@blp.route("/compounds/<int:compound_id>/delivery-settings", methods=["PUT"])
@roles_required("staff")
@blp.arguments(DeliverySettingsSchema)
@blp.response(200, DeliverySettingsSchema)
def write_settings(args, compound_id):
    """Allow or forbid guards to run deliveries in this compound."""
    user = current_user()
    return set_delivery_settings(user, get_compound(user, compound_id), args)


@blp.route("/deliveries/figures", methods=["GET"])
@roles_required("staff", "alliance_admin")
@blp.arguments(DeliveryFiguresArgs, location="query")
@blp.response(200, DeliveryFiguresSchema)
def figures(args):
    """Time to claim and to deliver, counts and ratings: staff for their company, the alliance for all."""
    return service_figures(current_user(), args.get("since"), args.get("until"))
