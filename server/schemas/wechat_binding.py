"""Binding a password account's WeChat: the bind code shown to the account, and its redemption."""

from marshmallow import Schema, fields

from server.schemas.fields import text


class BindCodeSchema(Schema):
    """A bind code, shown once: enter it in the mini-program within `expires_in` seconds."""

    code = fields.String()
    expires_at = fields.DateTime()
    expires_in = fields.Integer()


class BindRedeemSchema(Schema):
    """What the mini-program sends: the bind code and a fresh wx.login code (`dev:<openid>` in development)."""

    bind_code = text(32, required=True, min_length=1)
    code = text(128, required=True, min_length=1)


class WeChatBindingSchema(Schema):
    """Whether the caller's account has a WeChat bound."""

    bound = fields.Boolean()
