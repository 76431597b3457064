"""The in-app inbox: messages, read and unread."""

from marshmallow import Schema, fields

from server.plumbing.pagination import PageArgs


class InboxArgs(PageArgs):
    """A page of my messages; only unread ones with `unread=true`."""

    unread = fields.Boolean(load_default=False)


class MessageSchema(Schema):
    """One message: its title and text, the fields it carried, where it leads, read or not."""

    id = fields.Integer()
    kind = fields.String()
    title = fields.String()
    body = fields.String()
    fields_ = fields.Dict(keys=fields.String(), values=fields.String(), data_key="fields", attribute="fields")
    page = fields.String()
    created_at = fields.DateTime()
    read = fields.Boolean()
    read_at = fields.DateTime(allow_none=True)
    sent_on_wechat = fields.Boolean()


class MessagePageSchema(Schema):
    """A page of messages, newest first, and how many are unread in all."""

    items = fields.List(fields.Nested(MessageSchema))
    total = fields.Integer()
    page = fields.Integer()
    page_size = fields.Integer()
    unread = fields.Integer()


class UnreadSchema(Schema):
    """How many of my messages are unread."""

    unread = fields.Integer()
