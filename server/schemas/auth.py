"""Sign-in requests and the token pair."""

from marshmallow import Schema, fields

from server.schemas.fields import text


class WeChatLoginSchema(Schema):
    """A mini-program login code (wx.login); `dev:<openid>` in development."""

    code = text(128, required=True, min_length=1)


class PasswordLoginSchema(Schema):
    """Staff and alliance-admin sign-in."""

    username = text(64, required=True, min_length=1)
    password = text(128, required=True, min_length=1)


class RefreshSchema(Schema):
    """A refresh token to rotate."""

    refresh_token = text(1024, required=True, min_length=1)


class TokenPairSchema(Schema):
    """Tokens answered by sign-in and refresh."""

    access_token = fields.String()
    refresh_token = fields.String()
    token_type = fields.String()
    expires_in = fields.Integer()
