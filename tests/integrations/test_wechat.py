"""The WeChat client against the fake WeChat server, over real HTTP (no mocks)."""

from __future__ import annotations

import threading
import time

import pytest

from server.integrations.wechat import (
    AccessToken,
    WeChatBusy,
    WeChatClient,
    WeChatError,
    WeChatInvalidCode,
    WeChatNotSubscribed,
    WeChatRateLimited,
    WeChatSession,
    WeChatTokenExpired,
    WeChatUnavailable,
    error_for,
    fit_subscribe_data,
    fit_subscribe_value,
)
from tests.fakes.wechat_server import JSCODE2SESSION, STABLE_TOKEN, SUBSCRIBE_SEND, FakeWeChat, fake_wechat

__all__ = ["fake_wechat"]  # the fixture, imported for pytest

TEMPLATE = "tmpl-delivery-arrived"
OPENID = "o-resident-1"


@pytest.fixture
def client(fake_wechat):
    wechat = WeChatClient(fake_wechat.base_url, fake_wechat.app_id, fake_wechat.app_secret, timeout=2.0)
    yield wechat
    wechat.close()


@pytest.fixture
def token(client):
    return client.stable_token().value


# -- error mapping -------------------------------------------------------------------------------

@pytest.mark.parametrize("errcode, cls, http_status", [
    (40029, WeChatInvalidCode, 401),
    (40163, WeChatInvalidCode, 401),
    (-1, WeChatBusy, 503),
    (45011, WeChatRateLimited, 429),
    (40001, WeChatTokenExpired, 503),
    (42001, WeChatTokenExpired, 503),
    (43101, WeChatNotSubscribed, 409),
    (40013, WeChatError, 502),
    (47003, WeChatError, 502),
])
def test_error_for_maps_errcodes(errcode, cls, http_status):
    error = error_for(errcode, "msg")
    assert type(error) is cls
    assert (error.errcode, error.errmsg, error.http_status) == (errcode, "msg", http_status)


def test_unavailable_has_no_errcode():
    error = WeChatUnavailable("timed out")
    assert isinstance(error, WeChatError)
    assert (error.errcode, error.http_status) == (None, 503)


# -- code2session --------------------------------------------------------------------------------

def test_code2session_success_and_wire_format(fake_wechat, client):
    fake_wechat.add_code("code-1", OPENID, session_key="sk-1", unionid="u-1")

    session = client.code2session("code-1")

    assert session == WeChatSession(openid=OPENID, session_key="sk-1", unionid="u-1")
    assert "sk-1" not in repr(session)
    [request] = fake_wechat.requests
    assert request["method"] == "GET"
    assert request["path"] == "/sns/jscode2session"
    assert request["query"] == {"appid": fake_wechat.app_id, "secret": fake_wechat.app_secret,
                                "js_code": "code-1", "grant_type": "authorization_code"}


def test_code2session_without_unionid_longest_openid(fake_wechat, client):
    fake_wechat.add_code("code-1", "o" * 128)
    session = client.code2session("code-1")
    assert (session.openid, session.unionid) == ("o" * 128, None)
    assert session.session_key


def test_code_is_single_use(fake_wechat, client):
    fake_wechat.add_code("code-1", OPENID)
    client.code2session("code-1")

    with pytest.raises(WeChatInvalidCode) as info:
        client.code2session("code-1")
    assert info.value.errcode == 40163
    assert info.value.errmsg.startswith("code been used")
    assert info.value.http_status == 401


def test_code_is_single_use_under_concurrency(fake_wechat):
    fake_wechat.add_code("code-1", OPENID)
    results = []

    def login():
        wechat = WeChatClient(fake_wechat.base_url, fake_wechat.app_id, fake_wechat.app_secret)
        try:
            results.append(wechat.code2session("code-1").openid)
        except WeChatInvalidCode as exc:
            results.append(exc.errcode)

    threads = [threading.Thread(target=login) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results, key=str) == sorted([40163] * 7 + [OPENID], key=str)


def test_unknown_code(client):
    with pytest.raises(WeChatInvalidCode) as info:
        client.code2session("never-issued")
    assert info.value.errcode == 40029


@pytest.mark.parametrize("app_id, secret, errcode", [
    ("wx-other", None, 40013),
    (None, "wrong-secret", 40125),
])
def test_wrong_credentials(fake_wechat, app_id, secret, errcode):
    fake_wechat.add_code("code-1", OPENID)
    wechat = WeChatClient(fake_wechat.base_url, app_id or fake_wechat.app_id, secret or fake_wechat.app_secret)

    with pytest.raises(WeChatError) as info:
        wechat.code2session("code-1")
    assert type(info.value) is WeChatError
    assert (info.value.errcode, info.value.http_status) == (errcode, 502)
    assert "wrong-secret" not in str(info.value)


@pytest.mark.parametrize("errcode, cls, http_status", [
    (-1, WeChatBusy, 503),
    (45011, WeChatRateLimited, 429),
    (40029, WeChatInvalidCode, 401),
    (12345, WeChatError, 502),
])
def test_scripted_errors_on_login(fake_wechat, client, errcode, cls, http_status):
    fake_wechat.add_code("code-1", OPENID)
    fake_wechat.fail_next(JSCODE2SESSION, errcode)

    with pytest.raises(WeChatError) as info:
        client.code2session("code-1")
    assert type(info.value) is cls
    assert (info.value.errcode, info.value.http_status) == (errcode, http_status)
    # The scripted failure did not consume the code.
    assert client.code2session("code-1").openid == OPENID


@pytest.mark.parametrize("body", [
    '{"openid": "", "session_key": "sk"}',
    '{"openid": "%s", "session_key": "sk"}' % ("o" * 129),
    '{"openid": 42, "session_key": "sk"}',
    '{"openid": "o-1"}',
    '{"openid": "o-1", "session_key": ""}',
    '{"openid": "o-1", "session_key": "sk", "unionid": 7}',
    '{"errcode": "40029", "errmsg": "invalid code"}',
    '["o-1", "sk"]',
    "<html>502 Bad Gateway</html>",
    "",
])
def test_bad_login_replies_are_unavailable(fake_wechat, client, body):
    fake_wechat.reply_next(JSCODE2SESSION, body, content_type="text/plain")
    with pytest.raises(WeChatUnavailable) as info:
        client.code2session("code-1")
    assert info.value.errcode is None
    assert info.value.http_status == 503


def test_json_labelled_text_plain_is_parsed(fake_wechat, client):
    fake_wechat.reply_next(JSCODE2SESSION, '{"openid": "o-9", "session_key": "sk-9"}',
                           content_type="text/plain")
    assert client.code2session("any").openid == "o-9"


@pytest.mark.parametrize("status", [500, 502, 503])
def test_http_5xx_is_unavailable(fake_wechat, client, status):
    fake_wechat.reply_next(JSCODE2SESSION, '{"errcode": 0}', status=status, content_type="application/json")
    with pytest.raises(WeChatUnavailable):
        client.code2session("code-1")


def test_timeout_is_unavailable(fake_wechat):
    fake_wechat.add_code("code-1", OPENID)
    fake_wechat.delay_next(JSCODE2SESSION, 5.0)
    wechat = WeChatClient(fake_wechat.base_url, fake_wechat.app_id, fake_wechat.app_secret, timeout=0.2)

    started = time.monotonic()
    with pytest.raises(WeChatUnavailable) as info:
        wechat.code2session("code-1")
    assert time.monotonic() - started < 2.0
    assert "timed out" in str(info.value)
    assert fake_wechat.app_secret not in str(info.value)


def test_connection_refused_is_unavailable():
    with FakeWeChat() as fake:
        base_url = fake.base_url  # a port nobody listens on once stopped
    wechat = WeChatClient(base_url, "wx-app", "very-secret", timeout=1.0)
    with pytest.raises(WeChatUnavailable) as info:
        wechat.code2session("code-1")
    assert "very-secret" not in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__


# -- stable_token --------------------------------------------------------------------------------

def test_stable_token_wire_format_and_reuse(fake_wechat, client):
    first = client.stable_token()
    second = client.stable_token()

    assert isinstance(first, AccessToken)
    assert first.value and first.value == second.value
    assert 7100 < first.expires_in <= 7200
    assert first.value not in repr(first)
    assert fake_wechat.requests[0]["method"] == "POST"
    assert fake_wechat.requests[0]["query"] == {}
    assert fake_wechat.requests[0]["json"] == {"grant_type": "client_credential", "appid": fake_wechat.app_id,
                                               "secret": fake_wechat.app_secret, "force_refresh": False}


def test_stable_token_force_refresh(fake_wechat, client):
    first = client.stable_token()
    refreshed = client.stable_token(force_refresh=True)
    assert refreshed.value != first.value
    assert fake_wechat.requests[-1]["json"]["force_refresh"] is True


def test_stable_token_wrong_secret(fake_wechat):
    wechat = WeChatClient(fake_wechat.base_url, fake_wechat.app_id, "wrong-secret")
    with pytest.raises(WeChatError) as info:
        wechat.stable_token()
    assert info.value.errcode == 40125


@pytest.mark.parametrize("body", [
    '{"access_token": "", "expires_in": 7200}',
    '{"access_token": "t", "expires_in": "7200"}',
    '{"access_token": "t", "expires_in": 0}',
    '{"access_token": "t"}',
])
def test_bad_token_replies_are_unavailable(fake_wechat, client, body):
    fake_wechat.reply_next(STABLE_TOKEN, body, content_type="application/json")
    with pytest.raises(WeChatUnavailable):
        client.stable_token()


def test_rate_limited_token(fake_wechat, client):
    fake_wechat.fail_next(STABLE_TOKEN, 45011, times=2)
    for _ in range(2):
        with pytest.raises(WeChatRateLimited):
            client.stable_token()
    assert client.stable_token().value


# -- subscribe messages --------------------------------------------------------------------------

def test_send_wire_format(fake_wechat, client, token):
    fake_wechat.subscribe(OPENID, TEMPLATE)

    client.send_subscribe_message(token, OPENID, TEMPLATE, {"thing1": "蔬菜包已送到门口", "time2": "2020-02-10 09:30"},
                                  page="pages/deliveries/detail?id=7", state="trial", lang="en_US")

    assert fake_wechat.sent_messages == [{
        "touser": OPENID,
        "template_id": TEMPLATE,
        "page": "pages/deliveries/detail?id=7",
        "data": {"thing1": {"value": "蔬菜包已送到门口"}, "time2": {"value": "2020-02-10 09:30"}},
        "miniprogram_state": "trial",
        "lang": "en_US",
    }]
    send = fake_wechat.requests[-1]
    assert (send["method"], send["path"], send["query"]) == ("POST", SUBSCRIBE_SEND, {"access_token": token})


def test_send_defaults_omit_page(fake_wechat, client, token):
    fake_wechat.subscribe(OPENID, TEMPLATE)
    client.send_subscribe_message(token, OPENID, TEMPLATE, {"thing1": "hi"})
    [message] = fake_wechat.sent_messages
    assert "page" not in message
    assert (message["miniprogram_state"], message["lang"]) == ("formal", "zh_CN")


def test_send_to_unsubscribed_user(fake_wechat, client, token):
    fake_wechat.add_code("code-1", OPENID)
    with pytest.raises(WeChatNotSubscribed) as info:
        client.send_subscribe_message(token, OPENID, TEMPLATE, {"thing1": "hi"})
    assert (info.value.errcode, info.value.http_status) == (43101, 409)
    assert fake_wechat.sent_messages == []


def test_one_time_subscription_is_used_up(fake_wechat, client, token):
    fake_wechat.subscribe(OPENID, TEMPLATE, times=1)
    client.send_subscribe_message(token, OPENID, TEMPLATE, {"thing1": "first"})
    with pytest.raises(WeChatNotSubscribed):
        client.send_subscribe_message(token, OPENID, TEMPLATE, {"thing1": "second"})
    assert [m["data"]["thing1"]["value"] for m in fake_wechat.sent_messages] == ["first"]


def test_expired_token(fake_wechat, client, token):
    fake_wechat.subscribe(OPENID, TEMPLATE)
    fake_wechat.expire_all_tokens()

    with pytest.raises(WeChatTokenExpired) as info:
        client.send_subscribe_message(token, OPENID, TEMPLATE, {"thing1": "hi"})
    assert (info.value.errcode, info.value.http_status) == (42001, 503)
    assert token not in str(info.value)
    fresh = client.stable_token()
    assert fresh.value != token
    client.send_subscribe_message(fresh.value, OPENID, TEMPLATE, {"thing1": "hi"})
    assert len(fake_wechat.sent_messages) == 1


def test_token_ages_out(fake_wechat, client):
    fake_wechat.token_ttl = 1
    fake_wechat.subscribe(OPENID, TEMPLATE)
    token = client.stable_token()
    assert token.expires_in == 1
    time.sleep(1.05)
    with pytest.raises(WeChatTokenExpired) as info:
        client.send_subscribe_message(token.value, OPENID, TEMPLATE, {"thing1": "hi"})
    assert info.value.errcode == 42001


def test_unknown_token(fake_wechat, client):
    fake_wechat.subscribe(OPENID, TEMPLATE)
    with pytest.raises(WeChatTokenExpired) as info:
        client.send_subscribe_message("not-a-token", OPENID, TEMPLATE, {"thing1": "hi"})
    assert info.value.errcode == 40001
    assert "not-a-token" not in str(info.value)


def test_send_unavailable_hides_token(fake_wechat, client, token):
    fake_wechat.subscribe(OPENID, TEMPLATE)
    fake_wechat.delay_next(SUBSCRIBE_SEND, 5.0)
    client.timeout = 0.2
    with pytest.raises(WeChatUnavailable) as info:
        client.send_subscribe_message(token, OPENID, TEMPLATE, {"thing1": "hi"})
    assert token not in str(info.value) and token not in repr(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_busy_then_ok(fake_wechat, client, token):
    fake_wechat.subscribe(OPENID, TEMPLATE)
    fake_wechat.fail_next(SUBSCRIBE_SEND, -1)
    with pytest.raises(WeChatBusy):
        client.send_subscribe_message(token, OPENID, TEMPLATE, {"thing1": "hi"})
    client.send_subscribe_message(token, OPENID, TEMPLATE, {"thing1": "hi"})
    assert len(fake_wechat.sent_messages) == 1


def test_too_long_thing_is_rejected_by_wechat(fake_wechat, client, token):
    fake_wechat.subscribe(OPENID, TEMPLATE)
    with pytest.raises(WeChatError) as info:
        client.send_subscribe_message(token, OPENID, TEMPLATE, {"thing1": "隔" * 21})
    assert info.value.errcode == 47003
    assert info.value.errmsg.startswith("argument invalid! data.thing1.value invalid")
    assert info.value.http_status == 502
    assert fake_wechat.sent_messages == []


def test_fitted_data_is_accepted_by_wechat(fake_wechat, client, token):
    fake_wechat.subscribe(OPENID, TEMPLATE)
    data = {"thing1": "您的居家隔离送菜申请已由物业人员送达门口，请及时取用", "character_string2": "订单 A-0012",
            "name3": "欧阳娜娜娜娜娜娜娜娜娜", "number4": "12.5元"}

    client.send_subscribe_message(token, OPENID, TEMPLATE, fit_subscribe_data(data))

    [message] = fake_wechat.sent_messages
    assert message["data"] == {
        "thing1": {"value": "您的居家隔离送菜申请已由物业人员送达门…"},
        "character_string2": {"value": "A-0012"},
        "name3": {"value": "欧阳娜娜娜娜娜娜娜娜"},
        "number4": {"value": "12.5"},
    }


# -- fit_subscribe_value -------------------------------------------------------------------------

@pytest.mark.parametrize("kind, value, expected", [
    ("thing", "a" * 20, "a" * 20),
    ("thing", "a" * 21, "a" * 19 + "…"),
    ("thing", "黄平路8号院一号楼二单元三〇一室业主", "黄平路8号院一号楼二单元三〇一室业主"),
    ("thing", "万龙小区一号楼二号楼积水六十厘米抢险队已到达现场", "万龙小区一号楼二号楼积水六十厘米抢险队…"),
    ("name", "张" * 10, "张" * 10),
    ("name", "张" * 11, "张" * 10),
    ("phrase", "已送达", "已送达"),
    ("phrase", "已经全部送达了", "已经全部送"),
    ("number", "体温 37.2℃", "37.2"),
    ("number", "1" * 33, "1" * 33),  # a cut number is another number: sent whole, the inbox keeps it
    ("letter", "abc123DEF", "abcDEF"),
    ("character_string", "订单No.A-12 #3", "No.A-12#3"),
    ("character_string", "x" * 40, "x" * 32),
    ("phone_number", "+86 138-0013-80001", "+86 138-0013-80001"),
    ("amount", "¥1234567.50", "¥1234567.50"),
    ("name", "Ouyang Nana Zhang Wei Li", "Ouyang Nana Zhang We"),
    ("name", "欧阳娜娜Nana", "欧阳娜娜Nana"),
    ("thing", "黄平路8号院" + "👨‍👩‍👧" + "一号楼二单元三〇一室", "黄平路8号院👨‍👩‍👧一号楼二单元三〇…"),
    ("thing", "一" * 16 + "👨‍👩‍👧" + "尾", "一" * 16 + "…"),  # never half an emoji
    ("thing", "Zoe" + "e\u0301" * 20, "Zoe" + "e\u0301" * 8 + "…"),
    ("car_number", "京A123456X", "京A123456"),
    ("symbol", "!!!!!!", "!!!!!"),
    ("time", "2020年1月30日 07:00~08:00 早班门岗", "2020年1月30日 07:00~08:00 早班门岗"),
    ("date", "2020-01-30", "2020-01-30"),
])
def test_fit_by_kind(kind, value, expected):
    assert fit_subscribe_value(kind, value) == expected


def test_fit_subscribe_data_uses_key_prefix():
    fitted = fit_subscribe_data({"thing12": "b" * 25, "character_string3": "中A1", "time4": "t" * 40})
    assert fitted == {"thing12": "b" * 19 + "…", "character_string3": "A1", "time4": "t" * 40}


@pytest.mark.parametrize("key, value, accepted", [
    ("time1", "2026年3月2日 09:00", True),
    ("time1", "15:01", True),
    ("time1", "2020年1月30日 07:00~2020年1月30日 08:00", True),
    ("time1", "早班 07:00", False),
    ("date1", "2026年3月2日", True),
    ("date1", "明天", False),
    ("amount1", "¥42.50", True),
    ("amount1", "42.50元", True),
    ("amount1", "¥12345678901", False),
    ("amount1", "费用42.50", False),
])
def test_the_fake_checks_formats_as_wechat_documents_them(fake_wechat, client, token, key, value, accepted):
    fake_wechat.subscribe(OPENID, TEMPLATE)
    if accepted:
        client.send_subscribe_message(token, OPENID, TEMPLATE, {key: value})
        assert len(fake_wechat.sent_messages) == 1
    else:
        with pytest.raises(WeChatError) as info:
            client.send_subscribe_message(token, OPENID, TEMPLATE, {key: value})
        assert info.value.errcode == 47003 and f"data.{key}.value invalid" in info.value.errmsg


def test_amounts_and_moments_have_one_format_each():
    from datetime import UTC, datetime
    from decimal import Decimal

    from server.integrations.wechat import wechat_amount, wechat_datetime

    at = datetime(2026, 3, 1, 17, 5, tzinfo=UTC)
    assert wechat_datetime(at, "Asia/Shanghai") == "2026年3月2日 01:05"
    assert wechat_datetime(at, "Asia/Shanghai", with_time=False) == "2026年3月2日"
    assert wechat_amount(Decimal("42.5")) == "¥42.50" and wechat_amount(1234567) == "¥1234567.00"
    assert fit_subscribe_value("amount", "¥1234567890.00") == "¥1234567890.00"
    assert fit_subscribe_value("date", "2026年3月2日 01:05~2026年3月16日 01:05") == "2026年3月2日 01:05~2026年3月16日 01:05"
