"""A fake WeChat server for tests: the real JSON over real HTTP on 127.0.0.1.

    with FakeWeChat() as fake:
        fake.add_code("code-1", "openid-1")
        client = WeChatClient(fake.base_url, fake.app_id, fake.app_secret)

It serves ``GET /sns/jscode2session``, ``POST /cgi-bin/stable_token``,
``POST /cgi-bin/message/subscribe/send`` and ``POST /wxa/getwxacodeunlimit`` (a PNG: here a plain QR of
``wxacode:<page>?scene=<scene>`` that a decoder can read, where WeChat draws its round code) as WeChat does (errmsg with a ``rid`` suffix, jscode2session
labelled text/plain), and can be scripted to fail (``fail_next``, ``reply_next``) or stall
(``delay_next``). Import the ``fake_wechat`` fixture into a conftest to use it.
"""

from __future__ import annotations

import json
import re
import secrets
import string
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

JSCODE2SESSION = "/sns/jscode2session"
STABLE_TOKEN = "/cgi-bin/stable_token"
SUBSCRIBE_SEND = "/cgi-bin/message/subscribe/send"
WXACODE_UNLIMIT = "/wxa/getwxacodeunlimit"
PATHS = (JSCODE2SESSION, STABLE_TOKEN, SUBSCRIBE_SEND, WXACODE_UNLIMIT)
SCENE_CHARS = frozenset(string.ascii_letters + string.digits + "!#$&'()*+,/:;=?@-._~")

ERRMSGS = {
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest",
    40002: "invalid grant_type",
    40003: "invalid openid",
    40013: "invalid appid",
    40029: "invalid code",
    40125: "invalid appsecret",
    40163: "code been used",
    41001: "access_token missing",
    41008: "missing code",
    42001: "access_token expired",
    43101: "user refuse to accept the msg",
    40169: "invalid length for scene, or the data is not json string",
    41030: "invalid page rid",
    45011: "api minute-quota reach limit  mustslower  retry next minute",
    47001: "data format error",
}
JSON_TYPE = "application/json; encoding=utf-8"
TEXT_TYPE = "text/plain"

# Subscribe-message field rules as WeChat checks them: kind -> (max length, allowed chars or None).
FIELD_RULES: dict[str, tuple[int, frozenset[str] | None]] = {
    "thing": (20, None),
    "name": (10, None),
    "phrase": (5, None),
    "number": (32, frozenset(string.digits + ".")),
    "letter": (32, frozenset(string.ascii_letters)),
    "character_string": (32, frozenset(string.ascii_letters + string.digits + string.punctuation)),
    "phone_number": (17, None),
    "car_number": (8, None),
    "symbol": (5, None),
}

# Fields WeChat checks by format rather than length: "15:01", "2019年10月1日 15:01", ranges with "~";
# an amount is one currency sign and at most 10 digits, maybe decimals, maybe "元" at the end.
_DAY = r"(?:\d{4}年\d{1,2}月\d{1,2}日|\d{4}-\d{1,2}-\d{1,2})"
_CLOCK = r"\d{1,2}:\d{2}(?::\d{2})?"
_TIME_POINT = rf"(?:{_DAY} ?)?{_CLOCK}"
_DATE_POINT = rf"{_DAY}(?: ?{_CLOCK})?"
FIELD_FORMATS: dict[str, re.Pattern] = {
    "time": re.compile(rf"\A{_TIME_POINT}(?:~{_TIME_POINT})?\Z"),
    "date": re.compile(rf"\A{_DATE_POINT}(?:~{_DATE_POINT})?\Z"),
    "amount": re.compile(r"\A[¥￥$€£]?-?\d{1,10}(?:\.\d{1,2})?元?\Z"),
}

Reply = tuple[int, bytes, str]


def _rid() -> str:
    """A request id like the one WeChat appends to every errmsg."""
    return "-".join(secrets.token_hex(4) for _ in range(3))


def _json_reply(payload: dict[str, Any], content_type: str = JSON_TYPE) -> Reply:
    return 200, json.dumps(payload, ensure_ascii=False).encode(), content_type


def _error(errcode: int, errmsg: str | None = None, content_type: str = JSON_TYPE) -> Reply:
    message = errmsg if errmsg is not None else ERRMSGS.get(errcode, "error")
    return _json_reply({"errcode": errcode, "errmsg": f"{message} rid: {_rid()}"}, content_type)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self._answer("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._answer("POST")

    def _answer(self, method: str) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        status, body, content_type = self.server.fake.handle(method, url.path, dict(parse_qsl(url.query)), raw)
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeWeChat


class FakeWeChat:
    """A scriptable WeChat server on 127.0.0.1 (port chosen by the OS)."""

    def __init__(self, app_id: str = "wx-fake-appid", app_secret: str = "fake-app-secret",
                 token_ttl: int = 7200):
        self.app_id = app_id
        self.app_secret = app_secret
        self.token_ttl = token_ttl
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._codes: dict[str, dict[str, Any]] = {}  # code -> session reply, plus "used"
        self._users: set[str] = set()
        self._subscriptions: dict[tuple[str, str], int | None] = {}  # None: until unsubscribed
        self._tokens: dict[str, dict[str, Any]] = {}  # value -> {"expires_at", "expired"}
        self._current_token: str | None = None
        self._scripts: dict[str, list[Reply]] = {path: [] for path in PATHS}
        self._delays: dict[str, list[float]] = {path: [] for path in PATHS}
        self._requests: list[dict[str, Any]] = []
        self._sent: list[dict[str, Any]] = []
        self.published_pages: set[str] | None = None  # None: every page exists (check_path passes)

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> FakeWeChat:
        """Start serving in a daemon thread."""
        self._stopping.clear()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        name="fake-wechat", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; requests still being delayed are cut short."""
        if self._server is None:
            return
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
        self._server = self._thread = None

    def __enter__(self) -> FakeWeChat:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """The URL to give the client, e.g. ``http://127.0.0.1:54321``."""
        assert self._server is not None, "FakeWeChat is not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # -- setup and scripting ------------------------------------------------------------------

    def add_code(self, code: str, openid: str, session_key: str | None = None,
                 unionid: str | None = None) -> None:
        """Make ``code`` a valid, single-use login code for ``openid``."""
        reply = {"openid": openid, "session_key": session_key or secrets.token_urlsafe(16)}
        if unionid is not None:
            reply["unionid"] = unionid
        with self._lock:
            self._codes[code] = {"reply": reply, "used": False}
            self._users.add(openid)

    def subscribe(self, openid: str, template_id: str, times: int | None = None) -> None:
        """Mark the user as having accepted the template (``times`` messages, or until unsubscribed)."""
        with self._lock:
            self._users.add(openid)
            self._subscriptions[(openid, template_id)] = times

    def unsubscribe(self, openid: str, template_id: str) -> None:
        """Forget the user's acceptance of the template."""
        with self._lock:
            self._subscriptions.pop((openid, template_id), None)

    def fail_next(self, path: str, errcode: int, errmsg: str | None = None, times: int = 1) -> None:
        """Answer the next ``times`` requests to ``path`` with this WeChat error."""
        self._script(path, [_error(errcode, errmsg)] * times)

    def reply_next(self, path: str, body: str | bytes, status: int = 200,
                   content_type: str = "text/html", times: int = 1) -> None:
        """Answer the next ``times`` requests to ``path`` with this raw body (non-JSON, 5xx ...)."""
        raw = body.encode() if isinstance(body, str) else body
        self._script(path, [(status, raw, content_type)] * times)

    def delay_next(self, path: str, seconds: float) -> None:
        """Stall the next request to ``path`` for ``seconds`` before answering."""
        self._check_path(path)
        with self._lock:
            self._delays[path].append(seconds)

    def expire_all_tokens(self) -> None:
        """Expire every issued access token: the next send answers 42001."""
        with self._lock:
            for token in self._tokens.values():
                token["expired"] = True

    # -- what was received --------------------------------------------------------------------

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Every request received: dicts of path, method, query (dict) and json (or None)."""
        with self._lock:
            return list(self._requests)

    @property
    def sent_messages(self) -> list[dict[str, Any]]:
        """The JSON bodies of subscribe messages WeChat accepted (errcode 0)."""
        with self._lock:
            return list(self._sent)

    @property
    def issued_tokens(self) -> list[str]:
        """Every access token issued so far."""
        with self._lock:
            return list(self._tokens)

    # -- serving --------------------------------------------------------------------------------

    def handle(self, method: str, path: str, query: dict[str, str], raw: bytes) -> Reply:
        """Answer one request: (status, body, content type)."""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        with self._lock:
            self._requests.append({"path": path, "method": method, "query": query, "json": body})
            delay = self._delays[path].pop(0) if self._delays.get(path) else 0.0
        if delay:
            self._stopping.wait(delay)
        with self._lock:
            if self._scripts.get(path):
                return self._scripts[path].pop(0)
            route = {
                ("GET", JSCODE2SESSION): self._jscode2session,
                ("POST", STABLE_TOKEN): self._stable_token,
                ("POST", SUBSCRIBE_SEND): self._subscribe_send,
                ("POST", WXACODE_UNLIMIT): self._wxacode_unlimit,
            }.get((method, path))
            if route is None:
                return 404, b"<html><body>404 Not Found</body></html>", "text/html"
            return route(query, body)

    def _jscode2session(self, query: dict[str, str], body: Any) -> Reply:
        def error(errcode: int) -> Reply:
            return _error(errcode, content_type=TEXT_TYPE)

        if query.get("appid") != self.app_id:
            return error(40013)
        if query.get("secret") != self.app_secret:
            return error(40125)
        if query.get("grant_type") != "authorization_code":
            return error(40002)
        if not query.get("js_code"):
            return error(41008)
        code = self._codes.get(query["js_code"])
        if code is None:
            return error(40029)
        if code["used"]:
            return error(40163)
        code["used"] = True
        return _json_reply(code["reply"], TEXT_TYPE)

    def _stable_token(self, query: dict[str, str], body: Any) -> Reply:
        if not isinstance(body, dict):
            return _error(47001)
        if body.get("grant_type") != "client_credential":
            return _error(40002)
        if body.get("appid") != self.app_id:
            return _error(40013)
        if body.get("secret") != self.app_secret:
            return _error(40125)
        now = time.monotonic()
        current = self._tokens.get(self._current_token or "")
        if body.get("force_refresh") is True or current is None or self._is_expired(current, now):
            self._current_token = secrets.token_urlsafe(96)
            current = self._tokens[self._current_token] = {"expires_at": now + self.token_ttl,
                                                           "expired": False}
        return _json_reply({"access_token": self._current_token,
                            "expires_in": max(1, int(current["expires_at"] - now))})

    def _subscribe_send(self, query: dict[str, str], body: Any) -> Reply:
        token = query.get("access_token")
        if not token:
            return _error(41001)
        if token not in self._tokens:
            return _error(40001)
        if self._is_expired(self._tokens[token], time.monotonic()):
            return _error(42001)
        if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
            return _error(47001)
        if body.get("touser") not in self._users:
            return _error(40003)
        invalid = self._invalid_field(body["data"])
        if invalid:
            return _error(47003, f"argument invalid! {invalid}")
        key = (body["touser"], body.get("template_id"))
        if key not in self._subscriptions:
            return _error(43101)
        remaining = self._subscriptions[key]
        if remaining is not None:
            if remaining <= 1:
                del self._subscriptions[key]
            else:
                self._subscriptions[key] = remaining - 1
        self._sent.append(body)
        return _json_reply({"errcode": 0, "errmsg": "ok"})

    def _wxacode_unlimit(self, query: dict[str, str], body: Any) -> Reply:
        token = query.get("access_token")
        if not token:
            return _error(41001)
        if token not in self._tokens:
            return _error(40001)
        if self._is_expired(self._tokens[token], time.monotonic()):
            return _error(42001)
        if not isinstance(body, dict):
            return _error(47001)
        scene = body.get("scene")
        if not isinstance(scene, str) or not 0 < len(scene) <= 32 or not set(scene) <= SCENE_CHARS:
            return _error(40169)
        page = body.get("page") or ""
        if page.startswith("/") or (page and body.get("check_path", True) is not False
                                    and self.published_pages is not None and page not in self.published_pages):
            return _error(41030)
        width = body.get("width", 430)
        if not isinstance(width, int) or isinstance(width, bool) or not 280 <= width <= 1280:
            return _error(40097, "invalid args")
        return 200, _png_code(f"wxacode:{page}?scene={scene}", width), "image/png"

    @staticmethod
    def _is_expired(token: dict[str, Any], now: float) -> bool:
        return token["expired"] or now >= token["expires_at"]

    @staticmethod
    def _invalid_field(data: dict[str, Any]) -> str | None:
        """The first field WeChat would reject, described as in its errmsg, or None."""
        for key, field in data.items():
            value = field.get("value") if isinstance(field, dict) else None
            if not isinstance(value, str) or value == "":
                return f"data.{key}.value is empty"
            kind = key.rstrip(string.digits)
            pattern = FIELD_FORMATS.get(kind)
            if pattern is not None and not pattern.match(value):
                return f"data.{key}.value invalid"
            rule = FIELD_RULES.get(kind)
            if rule is None:
                continue
            max_length, allowed = rule
            if len(value) > max_length or (allowed is not None and not set(value) <= allowed):
                return f"data.{key}.value invalid"
        return None

    def _script(self, path: str, replies: list[Reply]) -> None:
        self._check_path(path)
        with self._lock:
            self._scripts[path].extend(replies)

    @staticmethod
    def _check_path(path: str) -> None:
        if path not in PATHS:
            raise ValueError(f"FakeWeChat does not serve {path!r}; one of {PATHS}")


def _png_code(text: str, width: int) -> bytes:
    """A PNG of about ``width`` pixels holding ``text`` as a QR (WeChat's round code is not decodable here)."""
    import io

    import qrcode
    from PIL import Image

    image = qrcode.make(text, border=4).get_image().convert("L").resize((width, width), Image.NEAREST)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def fake_wechat():
    """A started FakeWeChat, stopped after the test."""
    with FakeWeChat() as fake:
        yield fake
