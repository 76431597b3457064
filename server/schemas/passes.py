"""Personal passes and the published verify keys."""

from __future__ import annotations

from marshmallow import Schema, fields, validate


class PassArgs(Schema):
    """Which QR renderings to include: none by default (the client draws the QR from the code)."""

    qr = fields.String(load_default="none", validate=validate.OneOf(("svg", "png", "both", "none")),
                       metadata={"description": "none (default): the code only; svg, png or both add an image"})


class PassSchema(Schema):
    """A signed pass code valid until expires_at; the client refreshes it before then."""

    code = fields.String(metadata={"pattern": r"^WY1\.[A-Z2-7]{128}$",
                                   "description": "132 characters: see the wire format of GET /me/pass"})
    kid = fields.Integer()
    issued_at = fields.DateTime()
    expires_at = fields.DateTime()
    refresh_after_seconds = fields.Integer()
    svg = fields.String(allow_none=True)
    png_base64 = fields.String(allow_none=True)


class JwkSchema(Schema):
    """An Ed25519 public key (RFC 8037 OKP JWK)."""

    kty = fields.String()
    crv = fields.String()
    x = fields.String()
    kid = fields.String()
    use = fields.String()
    alg = fields.String()
    exp = fields.Integer()


class JwksSchema(Schema):
    """The key set a guard's device verifies passes with, offline."""

    keys = fields.List(fields.Nested(JwkSchema))


class LiveGateCodeSchema(Schema):
    """A gate's rotating code for the guard's screen (valid at most 60 seconds)."""

    gate_id = fields.Integer()
    code = fields.String()
    url = fields.String()
    expires_at = fields.DateTime()
    svg = fields.String()
