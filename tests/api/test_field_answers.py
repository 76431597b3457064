"""Clear answers (issue 13): field messages in Chinese by default (English on Accept-Language: en), and
the caller's compound and household in words on /me."""

from __future__ import annotations

import pytest

from server.config import UnsafeConfiguration, load_config
from server.messages import localize_field_message


def test_field_messages_are_chinese_by_default_and_english_on_request(world, as_user):
    staff = as_user(world.staff_a)
    url = f"/api/v1/compounds/{world.compound_a.id}/quarantine-orders"
    body = {"reason": "holiday", "days": 0, "from_city": "x" * 51, "colour": "red", "user_id": "one"}
    zh = staff.post(url, json=body)
    assert zh.status_code == 422 and zh.json["message"] == "提交的数据有误"
    assert zh.json["errors"]["json"] == {
        "reason": ["应为以下之一:returned_from_city, close_contact, other"],
        "days": ["应在1到90之间"],
        "from_city": ["长度不能超过50个字符"],
        "colour": ["不允许的字段"],
        "user_id": ["应为整数"],
    }
    missing = staff.post(url, json={})
    assert missing.json["errors"]["json"] == {"reason": ["必填项"]}
    en = staff.post(url, json=body, headers={"Accept-Language": "en"})
    assert en.json["message"] == "Some fields are invalid"
    assert en.json["errors"]["json"]["reason"] == ["Must be one of: returned_from_city, close_contact, other."]
    assert en.json["errors"]["json"]["colour"] == ["Unknown field."]


@pytest.mark.parametrize(("english", "chinese"), [
    ("Missing data for required field.", "必填项"),
    ("Not a valid boolean.", "应为 true 或 false"),
    ("Field may not be null.", "不能为空值(null)"),
    ("Shorter than minimum length 4.", "长度不能少于4个字符"),
    ("Length must be between 1 and 50.", "长度应在1到50个字符之间"),
    ("Must be greater than or equal to 1.", "应不小于1"),
    ("Must be greater than 0 and less than 5.", "应大于0且小于5"),
    ("Not a valid aware datetime.", "时间无效:须为带时区的 ISO 8601 时间"),
    ("Not a valid frobnicator.", "格式无效"),
    ("something a service said", "something a service said"),
])
def test_localize_field_message(english, chinese):
    assert localize_field_message(english) == chinese


def test_me_names_the_compound_and_the_household(world, as_user):
    me = as_user(world.resident_a).get("/api/v1/me").json
    assert (me["compound_name"], me["household_label"]) == ("甲小区", f"1号楼1单元{_room(world)}")
    guard = as_user(world.guard_a).get("/api/v1/me").json
    assert (guard["compound_name"], guard["household_label"]) == ("甲小区", None)
    staff = as_user(world.staff_a).get("/api/v1/me").json
    assert (staff["compound_name"], staff["household_label"]) == (None, None)


def _room(world) -> str:
    return world.household_a.room


def test_the_verification_file_setting_is_checked():
    base = {"WUYE_ENV": "development"}
    assert load_config(base)["WECHAT_VERIFY_FILE"] is None
    assert load_config({**base, "WUYE_WECHAT_VERIFY_FILE": "abc_1-2.txt: 0123abcd "})["WECHAT_VERIFY_FILE"] == (
        "abc_1-2.txt", "0123abcd")
    for bad in ("abc.txt", "../x.txt:1", "abc.html:1", "a b.txt:1"):
        with pytest.raises(UnsafeConfiguration, match="WUYE_WECHAT_VERIFY_FILE"):
            load_config({**base, "WUYE_WECHAT_VERIFY_FILE": bad})
