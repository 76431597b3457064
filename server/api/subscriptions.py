"""The one-time WeChat subscriptions I accepted: reported by the mini-program, spent by the outbox."""

from server.auth import current_user, roles_required
from server.models.people import ROLES
from server.request_parser import Blueprint
from server.schemas.subscriptions import HoldingsSchema, SubscriptionReportSchema
from server.services.people.subscriptions import holdings, report_acceptances

blp = Blueprint("subscriptions", __name__, url_prefix="/me/subscriptions",
                description="One-time WeChat subscriptions (一次性订阅)")


@blp.route("", methods=["GET"])
@roles_required(*ROLES)
@blp.response(200, HoldingsSchema)
def my_subscriptions():
    """My unspent acceptances per template: each lets one WeChat message through."""
    return {"templates": holdings(current_user())}


@blp.route("", methods=["POST"])
@roles_required(*ROLES)
@blp.arguments(SubscriptionReportSchema)
@blp.response(200, HoldingsSchema)
def report(args):
    """Report what wx.requestSubscribeMessage answered: `accepted` items (template_id or kind, count) or its `results` map."""
    return {"templates": report_acceptances(current_user(), args["accepted"], args["results"])}
