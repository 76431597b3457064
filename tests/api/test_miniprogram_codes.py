"""Mini-program codes (小程序码) through the fake WeChat: fetched once with the stable token, cached in the
database, WeChat's errors answered clearly; and WeChat's domain-verification file at the site root."""

from __future__ import annotations

import io

from PIL import Image
from sqlalchemy import func, select

from server.extensions import db
from server.integrations.wechat import WeChatClient, WeChatError
from server.models.wechat_codes import MiniProgramCode
from server.services.gate.miniprogram_codes import GATE_PAGE
from tests.fakes.wechat_server import STABLE_TOKEN, WXACODE_UNLIMIT
from tests.qr_reading import read_qr_texts


def calls(fake, path):
    return [r for r in fake.requests if r["path"] == path]


def test_the_gates_miniprogram_code_comes_from_wechat_once_then_from_the_cache(app, world, as_user, wechat_app):
    fake = wechat_app
    staff = as_user(world.staff_a)
    first = staff.get(f"/api/v1/gates/{world.gate_a.id}/miniprogram-code")
    assert first.status_code == 200 and first.mimetype == "image/png"
    assert read_qr_texts(first.data) == [f"wxacode:{GATE_PAGE}?scene={world.gate_a.code}"]
    [request] = calls(fake, WXACODE_UNLIMIT)
    assert request["json"]["scene"] == world.gate_a.code and len(request["json"]["scene"]) <= 32
    assert request["json"]["page"] == GATE_PAGE
    assert request["query"]["access_token"] in fake.issued_tokens
    # Cached in the database (every host shares it): the second request does not reach WeChat.
    again = staff.get(f"/api/v1/gates/{world.gate_a.id}/miniprogram-code")
    assert again.data == first.data and len(calls(fake, WXACODE_UNLIMIT)) == 1
    assert len(calls(fake, STABLE_TOKEN)) == 1
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(MiniProgramCode)) == 1
    # The poster carries it in place of the URL QR.
    poster = staff.get(f"/api/v1/gates/{world.gate_a.id}/miniprogram-poster.png")
    assert poster.status_code == 200
    image = Image.open(io.BytesIO(poster.data))
    assert image.size == (1240, 1754)
    assert read_qr_texts(image) == [f"wxacode:{GATE_PAGE}?scene={world.gate_a.code}"]
    # A new gate code forgets the old image and fetches the new scene.
    code = staff.post(f"/api/v1/gates/{world.gate_a.id}/code").json["code"]
    fresh = staff.get(f"/api/v1/gates/{world.gate_a.id}/miniprogram-code")
    assert read_qr_texts(fresh.data) == [f"wxacode:{GATE_PAGE}?scene={code}"]
    with app.app_context():
        assert db.session.scalars(select(MiniProgramCode.scene)).all() == [code]
    # Out of scope: 404 without asking WeChat.
    assert as_user(world.staff_b).get(f"/api/v1/gates/{world.gate_a.id}/miniprogram-code").status_code == 404


def test_an_expired_token_is_refreshed_once(app, world, as_user, wechat_app):
    fake = wechat_app
    staff = as_user(world.staff_a)
    make = staff.get(f"/api/v1/gates/{world.gate_a.id}/miniprogram-code")
    assert make.status_code == 200
    fake.expire_all_tokens()
    with app.app_context():
        db.session.execute(MiniProgramCode.__table__.delete())
        db.session.commit()
    again = staff.get(f"/api/v1/gates/{world.gate_a.id}/miniprogram-code")
    assert again.status_code == 200, again.json
    assert [r["json"]["force_refresh"] for r in calls(fake, STABLE_TOKEN)] == [False, True]


def test_wechat_errors_are_clear_answers_and_nothing_is_cached(app, world, as_user, wechat_app):
    fake = wechat_app
    staff = as_user(world.staff_a)
    fake.fail_next(WXACODE_UNLIMIT, 45011)
    limited = staff.get(f"/api/v1/gates/{world.gate_a.id}/miniprogram-code")
    assert limited.status_code == 429 and limited.json["reason"] == "wechat_rate_limited"
    fake.fail_next(WXACODE_UNLIMIT, 41030)  # the page is not published
    bad_page = staff.get(f"/api/v1/gates/{world.gate_a.id}/miniprogram-code")
    assert bad_page.status_code == 502 and bad_page.json["wechat_errcode"] == 41030
    fake.reply_next(WXACODE_UNLIMIT, "<html>gateway</html>", status=502)
    assert staff.get(f"/api/v1/gates/{world.gate_a.id}/miniprogram-code").status_code == 503
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(MiniProgramCode)) == 0


def test_the_client_answers_wechats_json_error_for_bad_input(fake_wechat):
    client = WeChatClient(fake_wechat.base_url, fake_wechat.app_id, fake_wechat.app_secret, timeout=2)
    token = client.stable_token().value
    fake_wechat.published_pages = {"pages/index/index"}
    try:
        client.unlimited_wxacode(token, "abc", page="pages/nowhere")
    except WeChatError as exc:
        assert exc.errcode == 41030
    else:
        raise AssertionError("an unpublished page must be WeChat's error")
    png = client.unlimited_wxacode(token, "a=1&b=2", page="pages/index/index", width=280)
    assert Image.open(io.BytesIO(png)).format == "PNG" and read_qr_texts(png) == ["wxacode:pages/index/index?scene=a=1&b=2"]
    for scene in ("", "x" * 33, "中文", "a b"):
        try:
            client.unlimited_wxacode(token, scene)
        except ValueError:
            pass
        else:
            raise AssertionError(f"scene {scene!r} must be refused before asking WeChat")
    client.close()


def test_the_domain_verification_file_is_served_at_the_root_when_configured(app, client):
    assert client.get("/abc123.txt").status_code == 404
    app.config["WECHAT_VERIFY_FILE"] = ("abc123.txt", "9f8e7d6c5b4a")
    try:
        served = client.get("/abc123.txt")
        assert served.status_code == 200 and served.mimetype == "text/plain" and served.data == b"9f8e7d6c5b4a"
        assert client.get("/other.txt").status_code == 404
    finally:
        app.config["WECHAT_VERIFY_FILE"] = None
