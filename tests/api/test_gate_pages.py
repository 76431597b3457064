"""Gate posters and the H5 page behind a gate's QR; a real decoder reads exactly the intended URL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine

from server.extensions import db
from server.models.compounds import Gate
from tests.api.test_passes import decode_svg_qr
from tests.qr_reading import read_qr_texts

T0 = datetime(2020, 2, 3, 0, 30, tzinfo=UTC)


def test_poster_png_holds_the_gate_url(app, world, as_user):
    staff = as_user(world.staff_a)
    response = staff.get(f"/api/v1/gates/{world.gate_a.id}/poster.png")
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert read_qr_texts(response.data) == [f"https://wuye.example.cn/g/{world.gate_a.code}"]
    assert as_user(world.staff_b).get(f"/api/v1/gates/{world.gate_a.id}/poster.png").status_code == 404
    assert as_user(world.guard_a).get(f"/api/v1/gates/{world.gate_a.id}/poster.png").status_code == 403


def test_poster_svg_and_html_name_the_compound_and_gate(app, world, as_user):
    staff = as_user(world.staff_a)
    svg = staff.get(f"/api/v1/gates/{world.gate_a.id}/poster.svg")
    assert svg.mimetype == "image/svg+xml"
    text = svg.data.decode()
    url = f"https://wuye.example.cn/g/{world.gate_a.code}"
    assert "甲小区" in text and "正门" in text and decode_svg_qr(text) == url
    page = staff.get(f"/api/v1/gates/{world.gate_a.id}/poster.html").data.decode()
    assert "甲小区" in page and "正门" in page and "@page" in page and "请使用微信扫码登记出入" in page
    assert decode_svg_qr(page) == url


def test_h5_page_for_other_scanners(app, world, client):
    page = client.get(f"/g/{world.gate_a.code}")
    assert page.status_code == 200 and page.mimetype == "text/html"
    text = page.data.decode()
    assert "甲小区" in text and "正门" in text and "小程序" in text
    assert client.get("/g/nosuchcode").status_code == 404
    assert client.get("/g/" + "x" * 300).status_code == 404
    for odd in ("%00abc", "ab%00", "%F0%9F%98%80", "ABC"):  # NUL is refused by PostgreSQL: still the HTML 404
        page = client.get(f"/g/{odd}")
        assert page.status_code == 404 and page.mimetype == "text/html", odd
    assert client.get(f"/g/{world.gate_a.code}-1f-门禁").status_code == 404


@time_machine.travel(T0, tick=False)
def test_live_code_on_the_guards_screen(app, world, as_user, client):
    guard = as_user(world.guard_a)
    assert guard.get(f"/api/v1/gates/{world.gate_a.id}/live-code").status_code == 409
    with app.app_context():
        db.session.get(Gate, world.gate_a.id).rotating_code = True
        db.session.commit()
    live = guard.get(f"/api/v1/gates/{world.gate_a.id}/live-code").json
    assert live["url"] == f"https://wuye.example.cn/g/{live['code']}" and decode_svg_qr(live["svg"]) == live["url"]
    assert "请使用微信扫一扫" in client.get(f"/g/{live['code']}").data.decode()
    assert "已过期" in client.get(f"/g/{world.gate_a.code}").data.decode()
    with time_machine.travel(T0 + timedelta(seconds=90), tick=False):
        assert "已过期" in client.get(f"/g/{live['code']}").data.decode()
