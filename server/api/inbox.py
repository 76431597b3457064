"""My in-app messages (站内消息): every notification lands here, whether or not WeChat delivered it."""

from server.auth import current_user, roles_required
from server.models.people import ROLES
from server.plumbing.pagination import total_header
from server.request_parser import Blueprint
from server.schemas.inbox import InboxArgs, MessagePageSchema, MessageSchema, UnreadSchema
from server.services.people.inbox import list_messages, mark_all_read, mark_read, unread_count

blp = Blueprint("inbox", __name__, url_prefix="/me/messages", description="My in-app messages")


@blp.route("", methods=["GET"])
@roles_required(*ROLES)
@blp.arguments(InboxArgs, location="query")
@blp.response(200, MessagePageSchema)
def my_messages(args):
    """My messages, newest first (`unread=true` for unread ones only), with the unread count."""
    body = list_messages(current_user(), args)
    return body, 200, total_header(body)


@blp.route("/unread", methods=["GET"])
@roles_required(*ROLES)
@blp.response(200, UnreadSchema)
def my_unread():
    """How many of my messages are unread (the badge)."""
    return {"unread": unread_count(current_user())}


@blp.route("/<int:message_id>/read", methods=["POST"])
@roles_required(*ROLES)
@blp.response(200, MessageSchema)
def read_message(message_id):
    """Mark one of my messages read."""
    return mark_read(current_user(), message_id)


@blp.route("/read-all", methods=["POST"])
@roles_required(*ROLES)
@blp.response(200, UnreadSchema)
def read_all():
    """Mark all my messages read."""
    mark_all_read(current_user())
    return {"unread": 0}
