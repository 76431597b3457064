"""Gate codes on paper and on screen: posters for staff, the rotating code for the guard's screen, and
the small public H5 page a gate URL opens in scanners other than the mini-program (/g/<code>)."""

from __future__ import annotations

import html
from urllib.parse import quote

from flask import Blueprint as FlaskBlueprint
from flask import Response, current_app
from sqlalchemy import select

from server.auth import current_user, public, roles_required
from server.errors import ConflictError
from server.extensions import db
from server.messages import register
from server.models.compounds import Compound, Gate
from server.plumbing.clock import utcnow
from server.request_parser import Blueprint
from server.schemas.passes import LiveGateCodeSchema
from server.scope import get_compound, get_in_compound_scope
from server.services.gate.gate_posters import DEFAULT_INSTRUCTION, poster_html, poster_png, poster_svg
from server.services.gate.gates import open_gates_of, poster_wording, resolve_gate_code, rotating_code
from server.services.gate.miniprogram_codes import gate_miniprogram_code
from server.services.gate.print_sheets import pdf_of, poster_pages
from server.services.gate.qr_images import qr_svg

blp = Blueprint("gate_pages", __name__, url_prefix="", description="Gate posters and codes (场所码)")
bp = FlaskBlueprint("gate_h5", __name__)

register({
    "gate_not_rotating": ("此门未启用动态门禁码", "This gate does not use a rotating code"),
    "no_static_posters": ("本小区没有可打印固定海报的出入口", "No gate of this compound has a static poster"),
})


def gate_url(code: str) -> str:
    """The URL a gate's QR holds: PUBLIC_BASE_URL/g/<code>."""
    return f"{current_app.config['PUBLIC_BASE_URL']}/g/{code}"


def _poster(gate_id: int) -> tuple[Gate, tuple[str, str, str, str]]:
    """The gate and its poster's arguments: compound name, gate line, URL and instruction."""
    gate = get_in_compound_scope(current_user(), Gate, gate_id)
    compound = db.session.get(Compound, gate.compound_id)
    name, instruction = poster_wording(gate)
    return gate, (compound.name, name, gate_url(gate.code), instruction or DEFAULT_INSTRUCTION)


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
    gate, poster = _poster(gate_id)
    return _download(poster_png(*poster), "image/png", gate, "png")


@blp.route("/gates/<int:gate_id>/poster.svg", methods=["GET"])
@roles_required("staff", "alliance_admin")
@blp.response(200, content_type="image/svg+xml")
def poster_as_svg(gate_id):
    """The gate's printable poster as SVG."""
    gate, poster = _poster(gate_id)
    return _download(poster_svg(*poster), "image/svg+xml", gate, "svg")


@blp.route("/gates/<int:gate_id>/poster.html", methods=["GET"])
@roles_required("staff", "alliance_admin")
@blp.response(200, content_type="text/html")
def poster_as_html(gate_id):
    """The gate's poster as a print-ready HTML page (one A4 sheet)."""
    gate, poster = _poster(gate_id)
    return _download(poster_html(*poster), "text/html", gate, "html")


@blp.route("/gates/<int:gate_id>/miniprogram-code", methods=["GET"])
@roles_required("staff", "alliance_admin")
@blp.response(200, content_type="image/png")
def miniprogram_code(gate_id):
    """The gate's mini-program code (小程序码, scene = the gate code), from WeChat once, then cached."""
    gate = get_in_compound_scope(current_user(), Gate, gate_id)
    image, mimetype = gate_miniprogram_code(gate)
    return _download(image, mimetype, gate, "png" if mimetype == "image/png" else "jpg")


@blp.route("/gates/<int:gate_id>/miniprogram-poster.png", methods=["GET"])
@roles_required("staff", "alliance_admin")
@blp.response(200, content_type="image/png")
def miniprogram_poster(gate_id):
    """The gate's printable poster (A4 PNG) with its mini-program code in place of the URL QR."""
    gate, poster = _poster(gate_id)
    image, _mimetype = gate_miniprogram_code(gate)
    return _download(poster_png(*poster, code_image=image), "image/png", gate, "png")


@blp.route("/compounds/<int:compound_id>/posters.pdf", methods=["GET"])
@roles_required("staff", "alliance_admin")
@blp.response(200, content_type="application/pdf")
def compound_posters(compound_id):
    """Every gate poster of the compound in one printable PDF (one A4 page per gate; closed gates marked
    closed; gates on rotating codes have no static poster and are left out, named in X-Skipped-Gates)."""
    compound = get_compound(current_user(), compound_id)
    posters, skipped = [], []
    for gate in db.session.scalars(select(Gate).where(Gate.compound_id == compound.id).order_by(Gate.id)):
        if gate.rotating_code:
            skipped.append(str(gate.id))
            continue
        name, instruction = poster_wording(gate)
        posters.append((compound.name, name, gate_url(gate.code), instruction or DEFAULT_INSTRUCTION))
    if not posters:
        raise ConflictError("no_static_posters", skipped_gate_ids=[int(i) for i in skipped])
    response = Response(pdf_of(poster_pages(posters), dpi=150, title=f"{compound.name} 场所码"),
                        mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="posters-{compound.id}.pdf"'
    response.headers["Cache-Control"] = "no-store"
    if skipped:
        response.headers["X-Skipped-Gates"] = ",".join(skipped)
    return response


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
    if not gate.is_open:
        names = "、".join(g["name"] for g in open_gates_of(gate.compound_id))
        status = f"<p><strong>此门已关闭</strong>{',请走' + html.escape(names) if names else ''}。</p>"
    web = (f"<p><a href='/m/checkin?code={html.escape(quote(code, safe=''))}'>没有小程序?在网页上登记</a></p>"
           if fresh else "")
    body = (f"<h1>{html.escape(compound.name)}</h1><p class='gate'>{html.escape(gate.name)}"
            f"{'' if gate.is_open else '(已关闭)'}</p>{status}{web}"
            f"<p class='note'>出入登记信息仅用于疫情防控。</p>")
    return _page(f"{compound.name} {gate.name}", body, 200)


@bp.get("/<name>.txt")
@public
def wechat_verify_file(name: str):
    """WeChat's domain-verification file at the site root, when configured (WUYE_WECHAT_VERIFY_FILE)."""
    configured = current_app.config.get("WECHAT_VERIFY_FILE")
    if not configured or configured[0] != f"{name}.txt":
        return _page("未找到", "<h1>未找到</h1>", 404)
    return Response(configured[1], mimetype="text/plain")


@bp.get("/i/<code>")
@public
def invite_h5(code: str):
    """The page behind an invite slip's QR in scanners other than the mini-program: how to use the code
    (the code is not looked up here: nothing about the household is shown)."""
    shown = html.escape(code[:16])
    body = (f"<h1>住户邀请码</h1><p class='gate'>{shown}</p>"
            "<p>请在微信中打开“物业”小程序,进入“绑定住户”,扫描此二维码或输入邀请码。</p>"
            "<p class='note'>邀请码仅可使用一次,请勿转给他人。</p>")
    return _page("住户邀请码", body, 200)
