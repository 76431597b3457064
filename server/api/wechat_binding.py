"""Staff and admins bind their WeChat to their password account, so alerts reach them there."""

from flask import g

from server.auth import current_user, public, roles_required
from server.plumbing.clock import utcnow
from server.rate_limits import rate_limited
from server.request_parser import Blueprint
from server.schemas.auth import TokenPairSchema
from server.schemas.wechat_binding import BindCodeSchema, BindRedeemSchema, WeChatBindingSchema
from server.services.people.wechat_binding import issue_bind_code, redeem_bind_code, unbind_wechat

blp = Blueprint("wechat_binding", __name__, url_prefix="", description="Binding a WeChat to a password account")


@blp.route("/me/wechat", methods=["GET"])
@roles_required("staff", "alliance_admin")
@blp.response(200, WeChatBindingSchema)
def my_wechat():
    """Whether my account has a WeChat bound (alerts reach it there)."""
    return {"bound": current_user().openid is not None}


@blp.route("/me/wechat/bind-code", methods=["POST"])
@roles_required("staff", "alliance_admin")
@blp.response(201, BindCodeSchema)
def new_bind_code():
    """A one-time bind code (10 minutes, a few per hour) to enter in the mini-program; earlier ones stop working."""
    code, expires_at = issue_bind_code(current_user())
    expires_in = max(0, int((expires_at - utcnow()).total_seconds()))
    return {"code": code, "expires_at": expires_at, "expires_in": expires_in}, 201, {"Cache-Control": "no-store"}


@blp.route("/auth/wechat/bind", methods=["POST"])
@public
@rate_limited("10/minute")
@blp.arguments(BindRedeemSchema)
@blp.response(200, TokenPairSchema)
def redeem(args):
    """The mini-program: bind this WeChat (wx.login code) to the account that showed the bind code, signed in as it."""
    _user, tokens = redeem_bind_code(args["bind_code"], args["code"])
    return tokens


@blp.route("/me/wechat", methods=["DELETE"])
@roles_required("staff", "alliance_admin")
@blp.response(204)
def unbind():
    """Unbind my WeChat: alerts stop reaching it, and its other sign-ins end."""
    unbind_wechat(current_user(), keep_session_id=g.session_id)
