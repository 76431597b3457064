"""Messages meant for people, by reason code: Chinese by default, English on Accept-Language: en.

Clients branch on status and reason codes, never on this text. Each issue adds its reasons here.
"""

from __future__ import annotations

import re

from flask import g, has_request_context, request

MESSAGES: dict[str, tuple[str, str]] = {
    # reason: (zh, en)
    "bad_request": ("请求格式有误", "The request is malformed"),
    "validation_failed": ("提交的数据有误", "Some fields are invalid"),
    "unauthorized": ("请先登录", "Sign-in required"),
    "token_invalid": ("登录凭证无效", "The token is invalid"),
    "token_expired": ("登录已过期,请重新登录", "The token has expired"),
    "refresh_reused": ("登录凭证已被使用,请重新登录", "This refresh token was already used; sign in again"),
    "forbidden": ("无权进行此操作", "You may not do this"),
    "not_found": ("未找到", "Not found"),
    "method_not_allowed": ("不支持的请求方法", "Method not allowed"),
    "conflict": ("操作冲突", "Conflict"),
    "body_too_large": ("请求内容过大", "The request body is too large"),
    "unsupported_media_type": ("请求内容须为 JSON", "The request body must be JSON (Content-Type: application/json)"),
    "error": ("请求出错", "The request failed"),
    "rate_limited": ("请求过于频繁,请稍后再试", "Too many requests; try again later"),
    "server_error": ("服务器内部错误", "Internal server error"),
    "unavailable": ("服务暂时不可用,请稍后重试", "Service temporarily unavailable; retry later"),
    "bad_credentials": ("用户名或密码错误", "Wrong username or password"),
    "account_locked": ("失败次数过多,账户已暂时锁定", "Too many failures; the account is locked for a while"),
    "account_disabled": ("账户已停用", "This account is disabled"),
    "dev_login_disabled": ("开发登录仅在开发环境可用", "Development login is only available in development"),
    "wechat_code_invalid": ("微信登录凭证无效", "The WeChat login code is invalid"),
    "wechat_busy": ("微信服务繁忙,请稍后重试", "WeChat is busy; retry later"),
    "wechat_rate_limited": ("微信登录过于频繁", "Too many WeChat logins; retry later"),
    "wechat_unavailable": ("微信服务暂不可用", "WeChat is unavailable"),
    "wechat_not_configured": ("未配置微信小程序", "WeChat is not configured"),
    "not_registered": ("尚未登记为本小区居民", "Not registered as a resident"),
    "invite_invalid": ("邀请码无效或已过期", "The invite code is invalid or expired"),
    "already_bound": ("已绑定住户", "Already bound to a household"),
    "duplicate": ("已存在", "Already exists"),
    "idempotency_mismatch": ("同一请求编号对应了不同内容", "The same client id was sent with a different body"),
    "value_out_of_range": ("数值或日期超出范围", "A number or date is out of range"),
    "value_invalid": ("输入的内容无法保存", "A value could not be stored"),
    "in_use": ("仍在使用中,无法删除", "Still in use; cannot delete"),
}


def _prefers_english(accepted) -> bool:
    # The caller's most preferred language that is Chinese or English, any region: "zh-CN,en;q=0.9" is
    # Chinese (werkzeug's best_match would pick the exact "en" over the region-qualified "zh-CN").
    for tag, quality in accepted:  # ordered by quality, then as the caller listed them
        primary = tag.split("-")[0].split("_")[0].lower()
        if primary in ("zh", "en") and quality > 0:  # q=0: "not this one"
            return primary == "en"
    return False


def wants_english() -> bool:
    """True when the caller asked for English via Accept-Language."""
    if not has_request_context():
        return False
    if "wants_english" not in g:  # asked for every message of an answer: parsed once per request
        g.wants_english = _prefers_english(request.accept_languages)
    return g.wants_english


def message_for(reason: str, default: str | None = None) -> str:
    """The human message for a reason code, in the caller's language."""
    pair = MESSAGES.get(reason)
    if pair is None:
        return default or reason
    return pair[1] if wants_english() else pair[0]


def register(messages: dict[str, tuple[str, str]]) -> None:
    """Add a module's reason codes to the catalogue; one code cannot mean two things."""
    for reason, pair in messages.items():
        if MESSAGES.get(reason, pair) != pair:
            raise ValueError(f"reason code {reason!r} is already registered as {MESSAGES[reason]!r}")
    MESSAGES.update(messages)


# Field messages in `errors` (marshmallow's defaults and this project's own), in Chinese unless the
# caller asked for English. Templates first match as whole messages; anything unknown stays as it is.
_FIELD_MESSAGES_ZH: dict[str, str] = {
    "Missing data for required field.": "必填项",
    "Field may not be null.": "不能为空值(null)",
    "Unknown field.": "不允许的字段",
    "Invalid input type.": "输入类型无效",
    "Invalid type.": "类型无效",
    "Invalid value.": "值无效",
    "Invalid input.": "输入无效",
    "Not a valid string.": "应为文本",
    "Not a valid utf-8 string.": "应为 UTF-8 文本",
    "Not a valid integer.": "应为整数",
    "Not a valid number.": "应为数字",
    "Number too large.": "数值过大",
    "Special numeric values (nan or infinity) are not permitted.": "不允许 NaN 或无穷大",
    "Not a valid boolean.": "应为 true 或 false",
    "Not a valid date.": "日期无效(格式 YYYY-MM-DD)",
    "Not a valid datetime.": "时间无效(ISO 8601)",
    "Not a valid aware datetime.": "时间无效:须为带时区的 ISO 8601 时间",
    "Not a valid naive datetime.": "时间无效:不应带时区",
    "Not a valid time.": "时刻无效(格式 HH:MM)",
    "Not a valid list.": "应为列表",
    "Not a valid tuple.": "应为列表",
    "Not a valid mapping type.": "应为对象",
    "Not a valid email address.": "邮箱地址无效",
    "Not a valid URL.": "网址无效",
    "Not a valid UUID.": "UUID 无效",
    "String does not match expected pattern.": "格式不正确",
    "must not be blank": "不能为空",
    "out of range": "超出范围",
    "invalid or expired": "无效或已过期",
    "already used in this compound": "本小区内已被使用",
    "already used in this alliance": "本联盟内已被使用",
    "already taken": "已被占用",
    "digits only, at most 19": "只能是数字,最多19位",
}
_OPS_ZH = {"greater than or equal to": "不小于", "greater than": "大于", "less than or equal to": "不大于",
           "less than": "小于"}


def _range_zh(m: re.Match) -> str:
    if m[1] == "greater than or equal to" and m[3] == "less than or equal to":
        return f"应在{m[2]}到{m[4]}之间"
    return f"应{_OPS_ZH[m[1]]}{m[2]}且{_OPS_ZH[m[3]]}{m[4]}"

_OP = "(greater than or equal to|greater than|less than or equal to|less than)"
_FIELD_TEMPLATES_ZH: tuple[tuple[re.Pattern, object], ...] = (
    (re.compile(r"Longer than maximum length (\d+)\."), lambda m: f"长度不能超过{m[1]}个字符"),
    (re.compile(r"Shorter than minimum length (\d+)\."), lambda m: f"长度不能少于{m[1]}个字符"),
    (re.compile(r"Length must be between 0 and (\d+)\."), lambda m: f"长度不能超过{m[1]}个字符"),
    (re.compile(r"Length must be between (\d+) and (\d+)\."), lambda m: f"长度应在{m[1]}到{m[2]}个字符之间"),
    (re.compile(r"Length must be (\d+)\."), lambda m: f"长度应为{m[1]}"),
    (re.compile(rf"Must be {_OP} (.+) and {_OP} (.+)\.", re.S), _range_zh),
    (re.compile(rf"Must be {_OP} (.+)\.", re.S), lambda m: f"应{_OPS_ZH[m[1]]}{m[2]}"),
    (re.compile(r"Must be one of: (.*)\.", re.S), lambda m: f"应为以下之一:{m[1]}"),
    (re.compile(r"Must be equal to (.*)\.", re.S), lambda m: f"应等于 {m[1]}"),
    (re.compile(r"Not a valid .+\."), lambda m: "格式无效"),
)


def localize_field_message(message: str) -> str:
    """A field message of `errors` in Chinese (known marshmallow and project messages), else unchanged."""
    known = _FIELD_MESSAGES_ZH.get(message)
    if known is not None:
        return known
    for pattern, render in _FIELD_TEMPLATES_ZH:
        match = pattern.fullmatch(message)
        if match:
            return render(match)
    return message


def localize_errors(errors):
    """The `errors` of an error answer with every field message in the caller's language (Chinese by default)."""
    if wants_english():
        return errors
    if isinstance(errors, str):
        return localize_field_message(errors)
    if isinstance(errors, dict):
        return {key: localize_errors(value) for key, value in errors.items()}
    if isinstance(errors, list | tuple):
        return [localize_errors(value) for value in errors]
    return errors
