"""Personal passes: a resident's rotating code, and the public keys guards' devices verify it with."""

from __future__ import annotations

import base64

from flask import Response, jsonify, request

from server.auth import current_caller, current_user, public, roles_required
from server.plumbing.clock import utcnow
from server.request_parser import Blueprint
from server.schemas.passes import JwksSchema, PassArgs, PassSchema
from server.services.gate import passes
from server.services.gate.pass_tokens import WIRE_FORMAT, IssuedPass
from server.services.gate.qr_images import qr_png, qr_svg

blp = Blueprint("passes", __name__, url_prefix="", description="Personal passes (通行码)")

# The client refreshes a little before expiry so the code on screen is never stale.
REFRESH_MARGIN_SECONDS = 10


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


_QR_PARAMETER = {"in": "query", "name": "qr", "required": False,
                 "schema": {"type": "string", "enum": ["none", "svg", "png", "both"], "default": "none"},
                 "description": "none (default): the code only; svg, png or both add an image"}


@blp.route("/me/pass", methods=["GET"])
@roles_required("resident")
@blp.doc(parameters=[_QR_PARAMETER])
@blp.response(200, PassSchema)
@blp.doc(description="Valid 55 seconds (accepted up to 60 s after issue). By default the code alone: the "
                     "mini-program draws the QR itself (QR, error correction M, alphanumeric mode), and every "
                     "shown pass is refreshed each minute. `?qr=svg`, `png` or `both` add a rendered image "
                     "(each costs the server about ten times the code alone).\n\n" + WIRE_FORMAT)
def my_pass():
    """My pass code (with a rendered QR only when asked)."""
    # A phone's plain refresh (no query, no Origin) is answered below Flask (`pass_refresh`) when it ends in
    # a pass. Here come a query (parsed, 422), a browser's call (CORS) and any refresh that failed there.
    args = blp.ARGUMENTS_PARSER.parse(PassArgs, location="query") if request.args else {"qr": "none"}
    issued = passes.issue_for(current_caller())
    body = pass_answer(issued)
    if args["qr"] in ("svg", "both"):
        body["svg"] = qr_svg(issued.code)
    if args["qr"] in ("png", "both"):
        body["png_base64"] = base64.b64encode(qr_png(issued.code)).decode()
    return _no_store(jsonify(body))


def pass_answer(issued: IssuedPass) -> dict:
    """The body of a pass refresh without an image, as `PassSchema` would dump it (a test holds the two equal)."""
    return {"code": issued.code, "kid": issued.kid, "issued_at": issued.issued_at.isoformat(),
            "expires_at": issued.expires_at.isoformat(),
            "refresh_after_seconds": max(1, passes.PASS_TTL_SECONDS - REFRESH_MARGIN_SECONDS)}


@blp.route("/me/pass.png", methods=["GET"])
@roles_required("resident")
@blp.response(200, content_type="image/png")
def my_pass_png():
    """My pass as a PNG QR; the code and its expiry are in the X-Pass-Code and X-Pass-Expires-At headers."""
    issued = passes.issue_for(current_user())
    response = Response(qr_png(issued.code), mimetype="image/png")
    response.headers["X-Pass-Code"] = issued.code
    response.headers["X-Pass-Expires-At"] = issued.expires_at.isoformat()
    return _no_store(response)


@blp.route("/passes/keys", methods=["GET"])
@public
@blp.response(200, JwksSchema)
@blp.doc(description="Devices cache the key set and verify pass codes offline.\n\n" + WIRE_FORMAT)
def pass_keys():
    """The Ed25519 public keys (JWKS) that verify pass codes; devices cache them and verify offline."""
    passes.ensure_signing_key(utcnow())  # a new deployment publishes its first key before any pass exists
    return passes.public_keys(), 200, {"Cache-Control": "public, max-age=60"}
