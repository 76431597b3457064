"""Sign-in, token refresh and logout."""

from flask import g

from server.auth import end_session, public, roles_required, rotate_refresh_token
from server.models.people import ROLES
from server.rate_limits import rate_limited
from server.request_parser import Blueprint
from server.schemas.auth import PasswordLoginSchema, RefreshSchema, TokenPairSchema, WeChatLoginSchema
from server.services.people.sign_in import sign_in_with_password, sign_in_with_wechat

blp = Blueprint("auth", __name__, url_prefix="/auth", description="Sign-in for every role")


@blp.route("/wechat", methods=["POST"])
@public
@rate_limited("30/minute")
@blp.arguments(WeChatLoginSchema)
@blp.response(200, TokenPairSchema)
def wechat_login(args):
    """Residents and guards: exchange a wx.login code (or `dev:<openid>` in development)."""
    _user, tokens = sign_in_with_wechat(args["code"])
    return tokens


@blp.route("/password", methods=["POST"])
@public
@rate_limited("10/minute")
@blp.arguments(PasswordLoginSchema)
@blp.response(200, TokenPairSchema)
def password_login(args):
    """Staff and alliance admins: username and password."""
    _user, tokens = sign_in_with_password(args["username"], args["password"])
    return tokens


@blp.route("/refresh", methods=["POST"])
@public
@blp.arguments(RefreshSchema)
@blp.response(200, TokenPairSchema)
def refresh(args):
    """Rotate a refresh token; reusing an old one ends the whole session."""
    return rotate_refresh_token(args["refresh_token"])


@blp.route("/logout", methods=["POST"])
@roles_required(*ROLES)
@blp.response(204)
def logout():
    """End this sign-in session: its access and refresh tokens stop working."""
    end_session(g.session_id)
