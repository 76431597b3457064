"""Gate codes on paper and on screen: posters for staff, the rotating code for the guard's screen, and
the small public H5 page a gate URL opens in scanners other than the mini-program (/g/<code>)."""

from __future__ import annotations

import html
from urllib.parse import quote

from flask import Blueprint as FlaskBlueprint
from flask import Response, current_app

from server.auth import current_user, public, roles_required
from server.errors import ConflictError
from server.extensions import db
from server.messages import register
from server.models.compounds import Compound, Gate
from server.plumbing.clock import utcnow
from server.request_parser import Blueprint
from server.schemas.passes import LiveGateCodeSchema
from server.scope import get_in_compound_scope
from server.services.gate.gate_posters import poster_html, poster_png, poster_svg
from server.services.gate.gates import resolve_gate_code, rotating_code
from server.services.gate.qr_images import qr_svg

blp = Blueprint("gate_pages", __name__, url_prefix="", description="Gate posters and codes (场所码)")
bp = FlaskBlueprint("gate_h5", __name__)

register({"gate_not_rotating": ("此门未启用动态门禁码", "This gate does not use a rotating code")})


def gate_url(code: str) -> str:
    """The URL a gate's QR holds: PUBLIC_BASE_URL/g/<code>."""
    return f"{current_app.config['PUBLIC_BASE_URL']}/g/{code}"


def _poster_gate(gate_id: int) -> tuple[Gate, Compound]:
    gate = get_in_compound_scope(current_user(), Gate, gate_id)
    return gate, db.session.get(Compound, gate.compound_id)


def _download(body, mimetype: str, gate: Gate, ext: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'inline; filename="gate-{gate.id}.{ext}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@blp.route("/gates/<int:gate_id>/poster.png", methods=["GET"])
@roles_required("staff", "alliance_admin")
@blp.response(200, content_type="image/png")
def poster_as_png(gate_id):
    """The gate's printable poster (A4, 150 dpi PNG)."""
    gate, compound = _poster_gate(gate_id)
    return _download(poster_png(compound.name, gate.name, gate_url(gate.code)), "image/png", gate, "png")


@blp.route("/gates/<int:gate_id>/poster.svg", methods=["GET"])
@roles_required("staff", "alliance_admin")
@blp.response(200, content_type="image/svg+xml")
def poster_as_svg(gate_id):
    """The gate's printable poster as SVG."""
    gate, compound = _poster_gate(gate_id)
    return _download(poster_svg(compound.name, gate.name, gate_url(gate.code)), "image/svg+xml", gate, "svg")


@blp.route("/gates/<int:gate_id>/poster.html", methods=["GET"])
@roles_required("staff", "alliance_admin")
@blp.response(200, content_type="text/html")
def poster_as_html(gate_id):
    """The gate's poster as a print-ready HTML page (one A4 sheet)."""
    gate, compound = _poster_gate(gate_id)
    return _download(poster_html(compound.name, gate.name, gate_url(gate.code)), "text/html", gate, "html")


@blp.route("/gates/<int:gate_id>/live-code", methods=["GET"])
@roles_required("guard", "staff")
@blp.response(200, LiveGateCodeSchema)
def live_code(gate_id):
    """The rotating code for the guard's screen (valid at most 60 s; the screen refreshes it)."""
    gate = get_in_compound_scope(current_user(), Gate, gate_id)
    if not gate.rotating_code:
        raise ConflictError("gate_not_rotating")
    code, expires_at = rotating_code(gate, utcnow())
    url = gate_url(code)
    return ({"gate_id": gate.id, "code": code, "url": url, "expires_at": expires_at, "svg": qr_svg(url)},
            200, {"Cache-Control": "no-store"})


_PAGE = """<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>body{{font-family:'PingFang SC','Microsoft YaHei',sans-serif;margin:0;padding:32px 20px;text-align:center;
color:#111}}h1{{font-size:22px;margin:0 0 8px}}p{{font-size:16px;line-height:1.6;margin:8px 0}}
.gate{{font-size:18px;color:#1a7f37}}.note{{color:#666;font-size:14px}}</style></head>
<body><main>{body}</main></body></html>"""


def _page(title: str, body: str, status: int) -> Response:
    response = Response(_PAGE.format(title=html.escape(title), body=body), status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/g/<code>")
@public
def gate_h5(code: str):
    """The fallback page behind a gate's QR: which gate this is and how to check in with the mini-program."""
    gate, fresh = resolve_gate_code(code, utcnow()) if len(code) <= 64 else (None, False)
    if gate is None:
        return _page("未知的门禁码", "<h1>无法识别的门禁码</h1><p>请扫描小区出入口张贴的二维码。</p>", 404)
    compound = db.session.get(Compound, gate.compound_id)
    status = ("<p>请使用微信扫一扫,在“物业”小程序中登记出入;无智能手机请向门岗保安登记。</p>" if fresh else
              "<p><strong>此二维码已过期</strong>,请扫描保安屏幕上的最新二维码。</p>")
    web = (f"<p><a href='/m/checkin?code={html.escape(quote(code, safe=''))}'>没有小程序?在网页上登记</a></p>"
           if fresh else "")
    body = (f"<h1>{html.escape(compound.name)}</h1><p class='gate'>{html.escape(gate.name)}"
            f"{'' if gate.is_open else '(已关闭)'}</p>{status}{web}"
            f"<p class='note'>出入登记信息仅用于疫情防控。</p>")
    return _page(f"{compound.name} {gate.name}", body, 200)
