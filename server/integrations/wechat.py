"""The WeChat client: login (code2session), the stable access token, and subscribe messages.

No Flask here: the app builds a ``WeChatClient`` from its ``WUYE_WECHAT_*`` settings. Every reply
is validated, every call has a timeout, and an error becomes a ``WeChatError`` that carries the
status our API should answer. Secrets (app secret, access token, session_key) never appear in
exception messages or reprs; ``session_key`` must never leave the server.
"""

from __future__ import annotations

import json
import string
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

import requests

MAX_OPENID_LENGTH = 128
MAX_ERRMSG_LENGTH = 200
# getwxacodeunlimit: the scene is at most 32 visible characters of this set (WeChat's documentation).
MAX_SCENE_LENGTH = 32
SCENE_CHARS = frozenset(string.ascii_letters + string.digits + "!#$&'()*+,/:;=?@-._~")
MAX_WXACODE_BYTES = 2 * 1024 * 1024
_IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")


class WeChatError(Exception):
    """An error answered by WeChat (``errcode``/``errmsg``), with the HTTP status our API should answer."""

    http_status = 502
    reason = "wechat_error"

    def __init__(self, errcode: int | None, errmsg: str):
        self.errcode = errcode
        self.errmsg = errmsg
        super().__init__(f"WeChat error {errcode}: {errmsg}" if errcode is not None else f"WeChat: {errmsg}")


class WeChatInvalidCode(WeChatError):
    """The login code is invalid (40029) or was already used (40163)."""

    http_status = 401
    reason = "wechat_invalid_code"


class WeChatBusy(WeChatError):
    """WeChat is busy (-1); try again later."""

    http_status = 503
    reason = "wechat_busy"


class WeChatRateLimited(WeChatError):
    """The API's minute quota is used up (45011)."""

    http_status = 429
    reason = "wechat_rate_limited"


class WeChatTokenExpired(WeChatError):
    """The access token is invalid (40001) or expired (42001); fetch a new one."""

    http_status = 503
    reason = "wechat_token_expired"


class WeChatNotSubscribed(WeChatError):
    """The user has not accepted (or has refused) this subscribe-message template (43101)."""

    http_status = 409
    reason = "wechat_not_subscribed"


class WeChatUnavailable(WeChatError):
    """WeChat could not be reached or gave a reply we cannot use (network, timeout, 5xx, bad body)."""

    http_status = 503
    reason = "wechat_unavailable"

    def __init__(self, errmsg: str):
        super().__init__(None, errmsg)


_ERRORS: dict[int, type[WeChatError]] = {
    40029: WeChatInvalidCode,
    40163: WeChatInvalidCode,
    -1: WeChatBusy,
    45011: WeChatRateLimited,
    40001: WeChatTokenExpired,
    42001: WeChatTokenExpired,
    43101: WeChatNotSubscribed,
}


def error_for(errcode: int, errmsg: str) -> WeChatError:
    """Map a WeChat ``errcode`` to the matching exception (a plain ``WeChatError`` when unknown)."""
    return _ERRORS.get(errcode, WeChatError)(errcode, errmsg)


@dataclass(frozen=True)
class WeChatSession:
    """What code2session answers: the user's openid, the session key (server only) and the unionid."""

    openid: str
    session_key: str = field(repr=False)
    unionid: str | None = None


@dataclass(frozen=True)
class AccessToken:
    """An access token from stable_token and its lifetime in seconds."""

    value: str = field(repr=False)
    expires_in: int


class WeChatClient:
    """A small client for the WeChat server API, one ``requests.Session`` per client."""

    def __init__(self, base_url: str, app_id: str, app_secret: str, timeout: float = 5.0):
        self.base_url = base_url.rstrip("/")
        self.app_id = app_id
        self._app_secret = app_secret
        self.timeout = timeout
        self._http = requests.Session()

    def __repr__(self) -> str:
        return f"WeChatClient({self.base_url!r}, app_id={self.app_id!r})"

    def close(self) -> None:
        """Close the underlying HTTP session."""
        self._http.close()

    def code2session(self, js_code: str) -> WeChatSession:
        """Exchange a mini-program login code for the user's openid and session key."""
        reply = self._call("GET", "/sns/jscode2session", params={
            "appid": self.app_id,
            "secret": self._app_secret,
            "js_code": js_code,
            "grant_type": "authorization_code",
        })
        openid = reply.get("openid")
        session_key = reply.get("session_key")
        unionid = reply.get("unionid")
        if not _is_text(openid) or len(openid) > MAX_OPENID_LENGTH:
            raise WeChatUnavailable("jscode2session: bad openid in reply")
        if not _is_text(session_key):
            raise WeChatUnavailable("jscode2session: bad session_key in reply")
        if unionid is not None and not _is_text(unionid):
            raise WeChatUnavailable("jscode2session: bad unionid in reply")
        return WeChatSession(openid=openid, session_key=session_key, unionid=unionid)

    def stable_token(self, force_refresh: bool = False) -> AccessToken:
        """Fetch the app's stable access token (a new one when ``force_refresh``)."""
        reply = self._call("POST", "/cgi-bin/stable_token", json_body={
            "grant_type": "client_credential",
            "appid": self.app_id,
            "secret": self._app_secret,
            "force_refresh": bool(force_refresh),
        })
        value = reply.get("access_token")
        expires_in = reply.get("expires_in")
        if not _is_text(value):
            raise WeChatUnavailable("stable_token: bad access_token in reply")
        if not isinstance(expires_in, int) or isinstance(expires_in, bool) or expires_in <= 0:
            raise WeChatUnavailable("stable_token: bad expires_in in reply")
        return AccessToken(value=value, expires_in=expires_in)

    def send_subscribe_message(self, access_token: str, touser: str, template_id: str,
                               data: dict[str, str], page: str | None = None,
                               state: str = "formal", lang: str = "zh_CN") -> None:
        """Send a subscribe message to one user; ``data`` maps field keys (``thing1``) to values."""
        body: dict[str, Any] = {
            "touser": touser,
            "template_id": template_id,
            "data": {key: {"value": value} for key, value in data.items()},
            "miniprogram_state": state,
            "lang": lang,
        }
        if page is not None:
            body["page"] = page
        self._call("POST", "/cgi-bin/message/subscribe/send",
                   params={"access_token": access_token}, json_body=body)

    def unlimited_wxacode(self, access_token: str, scene: str, *, page: str | None = None, width: int = 430,
                          check_path: bool = True, env_version: str = "release") -> bytes:
        """A mini-program code (小程序码) opening ``page`` with ``scene`` (getwxacodeunlimit): image bytes.

        WeChat answers the image itself, or a JSON error (e.g. 40169 invalid scene, 41030 invalid page).
        """
        if not isinstance(scene, str) or not 0 < len(scene) <= MAX_SCENE_LENGTH or not set(scene) <= SCENE_CHARS:
            raise ValueError("scene must be 1-32 characters of letters, digits and !#$&'()*+,/:;=?@-._~")
        body: dict[str, Any] = {"scene": scene, "width": width, "check_path": check_path,
                                "env_version": env_version}
        if page:
            body["page"] = page
        response = self._request("POST", "/wxa/getwxacodeunlimit", params={"access_token": access_token},
                                 json_body=body)
        content = response.content
        if content.startswith(_IMAGE_MAGIC):
            if len(content) > MAX_WXACODE_BYTES:
                raise WeChatUnavailable("/wxa/getwxacodeunlimit: image too large")
            return content
        # Not an image: WeChat's JSON error (labelled as JSON or not), or something we cannot use.
        self._json_of(response, "/wxa/getwxacodeunlimit")
        raise WeChatUnavailable("/wxa/getwxacodeunlimit: reply is neither an image nor an error")

    def _request(self, method: str, path: str, *, params: dict[str, str] | None = None,
                 json_body: dict[str, Any] | None = None) -> requests.Response:
        """Make one request; a 200 response, or a ``WeChatError`` (network, timeout, HTTP status)."""
        try:
            response = self._http.request(method, self.base_url + path, params=params, json=json_body,
                                          timeout=(self.timeout, self.timeout))
        except requests.Timeout:
            # The requests exception text holds the URL, and so the secret or token: drop it.
            raise WeChatUnavailable(f"{path}: timed out") from None
        except requests.RequestException as exc:
            raise WeChatUnavailable(f"{path}: {type(exc).__name__}") from None
        if response.status_code >= 500:
            raise WeChatUnavailable(f"{path}: HTTP {response.status_code}")
        if response.status_code != 200:
            raise WeChatError(None, f"{path}: HTTP {response.status_code}")
        return response

    def _call(self, method: str, path: str, *, params: dict[str, str] | None = None,
              json_body: dict[str, Any] | None = None) -> dict[str, Any]:
        """Make one request and return its validated JSON object; raise a ``WeChatError`` otherwise."""
        return self._json_of(self._request(method, path, params=params, json_body=json_body), path)

    @staticmethod
    def _json_of(response: requests.Response, path: str) -> dict[str, Any]:
        """The validated JSON object of a reply; a ``WeChatError`` for an errcode or an unusable body."""
        try:
            # WeChat may label JSON as text/plain: parse the body whatever the content type says.
            reply = json.loads(response.content)
        except ValueError:
            raise WeChatUnavailable(f"{path}: reply is not JSON") from None
        if not isinstance(reply, dict):
            raise WeChatUnavailable(f"{path}: reply is not a JSON object")
        errcode = reply.get("errcode", 0)
        if not isinstance(errcode, int) or isinstance(errcode, bool):
            raise WeChatUnavailable(f"{path}: bad errcode in reply")
        if errcode != 0:
            raise error_for(errcode, str(reply.get("errmsg", ""))[:MAX_ERRMSG_LENGTH])
        return reply


def _is_text(value: Any) -> bool:
    """True for a non-empty string."""
    return isinstance(value, str) and value != ""


# Subscribe-message field rules, by the key's kind ("thing1" -> "thing"); WeChat's own table:
# thing 20 characters, name 10 Chinese characters or 20 letters, phrase 5 Chinese characters,
# number/letter/character_string 32, phone_number 17, car_number 8, symbol 5; amount, date and time
# have formats rather than lengths (`wechat_amount`, `wechat_datetime`).
_MAX_LENGTHS = {
    "thing": 20,
    "name": 10,
    "phrase": 5,
    "character_string": 32,
    "letter": 32,
    "number": 32,
    "phone_number": 17,
    "car_number": 8,
    "symbol": 5,
}
NAME_LATIN_MAX = 20
# Values whose meaning a cut would change: sent whole (WeChat refuses a bad one; the inbox keeps it).
_NEVER_CUT = frozenset({"amount", "date", "time", "number", "phone_number"})
_ALLOWED_CHARS = {
    "number": frozenset(string.digits + "."),
    "letter": frozenset(string.ascii_letters),
    "character_string": frozenset(string.ascii_letters + string.digits + string.punctuation),
}
_ELLIPSIS = "…"


def wechat_datetime(at: datetime, tz_name: str, *, with_time: bool = True) -> str:
    """A moment as WeChat's date and time fields read it, in the local zone: 2020年2月1日 09:05.

    The one date format of every message (a date field takes it too); never cut.
    """
    local = at.astimezone(ZoneInfo(tz_name))
    day = f"{local.year}年{local.month}月{local.day}日"
    return f"{day} {local:%H:%M}" if with_time else day


def wechat_amount(amount: Decimal | int | str) -> str:
    """An amount of money as WeChat's amount field takes it: ¥12.50 (yuan, two decimals); never cut."""
    value = Decimal(str(amount)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return f"{'-' if value < 0 else ''}¥{abs(value)}"


def _clusters(value: str) -> list[str]:
    """The user-perceived characters of a value: a base with its combining marks, variation selectors,
    emoji modifiers and tags, joiner sequences, and regional-indicator pairs (flags) kept together."""
    clusters: list[str] = []
    for ch in value:
        code = ord(ch)
        joins = bool(clusters) and (
            unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Mc")
            or 0xFE00 <= code <= 0xFE0F or 0x1F3FB <= code <= 0x1F3FF or 0xE0020 <= code <= 0xE007F
            or ch == "\u200d" or clusters[-1].endswith("\u200d")
            or (0x1F1E6 <= code <= 0x1F1FF and len(clusters[-1]) == 1 and 0x1F1E6 <= ord(clusters[-1]) <= 0x1F1FF))
        if joins:
            clusters[-1] += ch
        else:
            clusters.append(ch)
    return clusters


def cut_text(value: str, limit: int, ellipsis: str = "") -> str:
    """At most ``limit`` characters, cut between whole characters (never inside an emoji or an accent)."""
    if len(value) <= limit:
        return value
    kept, room = [], limit - len(ellipsis)
    for cluster in _clusters(value):
        if room < len(cluster):
            break
        kept.append(cluster)
        room -= len(cluster)
    return "".join(kept).rstrip() + ellipsis


def fit_subscribe_value(kind: str, value: str) -> str:
    """Make a value fit WeChat's rule for its field kind: names and things cut at a character boundary
    (a thing with "…"), amounts, dates, times, numbers and phone numbers never cut."""
    value = str(value)
    allowed = _ALLOWED_CHARS.get(kind)
    if allowed is not None:
        value = "".join(ch for ch in value if ch in allowed)
    if kind in _NEVER_CUT:
        return value
    limit = _MAX_LENGTHS.get(kind)
    if kind == "name" and value.isascii():
        limit = NAME_LATIN_MAX
    if limit is None:
        return value
    return cut_text(value, limit, _ELLIPSIS if kind == "thing" else "")


def fit_subscribe_data(data: dict[str, str]) -> dict[str, str]:
    """Apply ``fit_subscribe_value`` to every field of subscribe-message data, by key kind."""
    return {key: fit_subscribe_value(key.rstrip(string.digits), value) for key, value in data.items()}
