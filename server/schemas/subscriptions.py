"""Reporting the one-time subscriptions a user accepted (wx.requestSubscribeMessage), and the holdings."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from server.schemas.fields import text


class AcceptedSchema(Schema):
    """Accepted `count` times: a template id, or one of our notification kinds (alert, delivery_status ...)."""

    template_id = text(64)
    kind = text(32)
    count = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10))

    @validates_schema
    def _one_of(self, data, **_kwargs):
        if bool(data.get("template_id")) == bool(data.get("kind")):
            raise ValidationError("give a template_id or a kind", field_name="template_id")


class SubscriptionReportSchema(Schema):
    """What the client reports: `accepted` items, and/or wx.requestSubscribeMessage's answer map as is."""

    accepted = fields.List(fields.Nested(AcceptedSchema), load_default=list, validate=validate.Length(max=20))
    results = fields.Dict(keys=fields.String(validate=validate.Length(min=1, max=64)),
                          values=fields.String(validate=validate.Length(max=64)),
                          load_default=dict, validate=validate.Length(max=21))

    @validates_schema
    def _something(self, data, **_kwargs):
        if not data.get("accepted") and not data.get("results"):
            raise ValidationError("report accepted templates or results", field_name="accepted")


class HoldingSchema(Schema):
    """Unspent acceptances of one template (each lets one WeChat message through)."""

    template_id = fields.String()
    kinds = fields.List(fields.String())
    remaining = fields.Integer()


class HoldingsSchema(Schema):
    """The caller's unspent acceptances, per configured template."""

    templates = fields.List(fields.Nested(HoldingSchema))
