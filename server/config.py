"""Settings from WUYE_* environment variables; refuses unsafe production settings."""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEV_SECRET = "wuye-development-secret-do-not-use-in-production"
ENVIRONMENTS = ("development", "testing", "production")


class UnsafeConfiguration(RuntimeError):
    """Raised when the app is asked to start with settings unsafe for its environment."""


@dataclass(frozen=True)
class Setting:
    """One WUYE_* variable: its name, default and what it is for (the README table is built from these)."""

    name: str
    default: str
    doc: str


SETTINGS = (
    Setting("WUYE_ENV", "production", "development, testing or production"),
    Setting("WUYE_DATABASE_URL", "sqlite:///instance/wuye.db",
            "SQLAlchemy URL: SQLite file (default) or postgresql+psycopg://user:pass@host/db"),
    Setting("WUYE_DATABASE_REPLICA_URL", "",
            "a PostgreSQL streaming replica that statistics and exports read from; empty: they read the primary"),
    Setting("WUYE_SECRET_KEY", "", "HMAC secret for access and refresh tokens; >= 32 bytes outside development"),
    Setting("WUYE_SECRET_KEY_FALLBACKS", "",
            "comma-separated previous secrets, still accepted for tokens and stored keys while rotating"),
    Setting("WUYE_WECHAT_APP_ID", "", "mini-program AppID"),
    Setting("WUYE_WECHAT_APP_SECRET", "", "mini-program AppSecret"),
    Setting("WUYE_WECHAT_API_BASE", "https://api.weixin.qq.com", "WeChat API base URL (a fake in tests)"),
    Setting("WUYE_WECHAT_TIMEOUT", "5", "seconds before a WeChat call is given up"),
    Setting("WUYE_WECHAT_TEMPLATES", "{}",
            'JSON object mapping a notification kind to its subscribe-message template id, e.g. {"alert": "tmpl-1"}'),
    Setting("WUYE_WECHAT_VERIFY_FILE", "",
            "WeChat's domain-verification file served at the site root, as NAME.txt:CONTENT; empty: none"),
    Setting("WUYE_RETENTION_DAYS", "28", "days health and movement records are kept before `flask wuye purge`"),
    Setting("WUYE_TIMEZONE", "Asia/Shanghai", "default time zone of new compounds"),
    Setting("WUYE_PUBLIC_BASE_URL", "http://127.0.0.1:8000", "public URL printed in gate codes (https://HOST)"),
    Setting("WUYE_MAX_BODY_BYTES", "1048576", "largest request body accepted (413 above)"),
    Setting("WUYE_CORS_ORIGINS", "", "comma-separated origins allowed to call the API from a browser"),
    Setting("WUYE_RATELIMIT_STORAGE_URI", "memory://",
            "rate-limit storage (limits library); use a shared one (redis://) with several hosts"),
    Setting("WUYE_PROXY_HOPS", "0", "trusted reverse proxies in front (X-Forwarded-For hops); 1 behind one LB"),
    Setting("WUYE_ACCESS_TOKEN_MINUTES", "15", "lifetime of an access token"),
    Setting("WUYE_REFRESH_TOKEN_DAYS", "30", "lifetime of a refresh token"),
    Setting("WUYE_LOGIN_MAX_FAILURES", "5",
            "failed password sign-ins of one username from one address before that pair is throttled"),
    Setting("WUYE_LOGIN_LOCKOUT_MINUTES", "15",
            "the window those failures are counted in (ten times as many from all addresses throttle the name)"),
    Setting("WUYE_PUBLIC_API_DOCS", "",
            "serve /api/v1/docs and /api/v1/openapi.json: 1 or 0 (default: 0 in production, 1 elsewhere)"),
    Setting("WUYE_PASS_KEY_REFRESH_SECONDS", "30",
            "how often each process re-reads the pass signing keys (a rotation reaches every host within it)"),
    Setting("WUYE_MAX_OPEN_DELIVERIES", "3", "open grocery-delivery requests a household may have at once"),
    Setting("WUYE_RATING_PERIOD", "month", "period of the satisfaction rating: month (2026-12) or quarter (2026-Q4)"),
    Setting("WUYE_RANKING_MIN_RATINGS", "5", "ratings a company needs in a period to be ranked"),
)


def _env(environ: dict, name: str) -> str:
    default = next(s.default for s in SETTINGS if s.name == name)
    return environ.get(name, default)


def _number(environ: dict, name: str, kind: type = int):
    value = _env(environ, name)
    try:
        number = kind(value)
    except ValueError as exc:
        raise UnsafeConfiguration(f"{name} must be a number, not {value!r}") from exc
    if number < 0:
        raise UnsafeConfiguration(f"{name} must not be negative")
    return number


def load_config(environ: dict | None = None, instance_path: str | None = None) -> dict:
    """Build the Flask config mapping from WUYE_* variables, refusing unsafe combinations."""
    environ = dict(os.environ if environ is None else environ)
    env = _env(environ, "WUYE_ENV")
    if env not in ENVIRONMENTS:
        raise UnsafeConfiguration(f"WUYE_ENV must be one of {', '.join(ENVIRONMENTS)}, not {env!r}")
    secret = _env(environ, "WUYE_SECRET_KEY")
    if env == "development" and not secret:
        secret = DEV_SECRET
    if env != "development" and (not secret or secret == DEV_SECRET or len(secret.encode()) < 32):
        raise UnsafeConfiguration("WUYE_SECRET_KEY must be set to a random value of at least 32 bytes")
    fallbacks = _fallbacks(_env(environ, "WUYE_SECRET_KEY_FALLBACKS"), secret, env)
    public_base_url = _public_base_url(_env(environ, "WUYE_PUBLIC_BASE_URL"), env)
    tz = _env(environ, "WUYE_TIMEZONE")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise UnsafeConfiguration(f"WUYE_TIMEZONE {tz!r} is not a known time zone") from exc

    db_url = _env(environ, "WUYE_DATABASE_URL")
    if db_url.startswith("sqlite:///") and not db_url.startswith("sqlite:////") and instance_path:
        relative = db_url.removeprefix("sqlite:///")
        if relative.startswith("instance/"):
            relative = relative.removeprefix("instance/")
            Path(instance_path).mkdir(parents=True, exist_ok=True)
            db_url = "sqlite:///" + str(Path(instance_path) / relative)
    db_url = _psycopg(db_url)
    replica_url = _replica_url(_env(environ, "WUYE_DATABASE_REPLICA_URL"), db_url)

    origins = [o.strip() for o in _env(environ, "WUYE_CORS_ORIGINS").split(",") if o.strip()]
    if "*" in origins and env == "production":
        raise UnsafeConfiguration("WUYE_CORS_ORIGINS may not be * in production")

    templates = _templates(_env(environ, "WUYE_WECHAT_TEMPLATES"))
    public_docs = _flag(environ, "WUYE_PUBLIC_API_DOCS", default=env != "production")

    return {
        "WUYE_ENV": env,
        "DEBUG": False,
        "TESTING": env == "testing",
        "SECRET_KEY": secret,
        "SECRET_KEY_FALLBACKS": fallbacks,
        "SQLALCHEMY_DATABASE_URI": db_url,
        "SQLALCHEMY_ENGINE_OPTIONS": _engine_options(db_url, env),
        # The replica, when there is one, is the bind "replica" (server.plumbing.replica reads through it).
        "SQLALCHEMY_BINDS": {"replica": _replica_options(replica_url, env)} if replica_url else {},
        "DATABASE_REPLICA_URL": replica_url,
        "MAX_CONTENT_LENGTH": _number(environ, "WUYE_MAX_BODY_BYTES"),
        "WECHAT_APP_ID": _env(environ, "WUYE_WECHAT_APP_ID"),
        "WECHAT_APP_SECRET": _env(environ, "WUYE_WECHAT_APP_SECRET"),
        "WECHAT_API_BASE": _env(environ, "WUYE_WECHAT_API_BASE").rstrip("/"),
        "WECHAT_TIMEOUT": _number(environ, "WUYE_WECHAT_TIMEOUT", float),
        "WECHAT_TEMPLATES": templates,
        "WECHAT_VERIFY_FILE": _verify_file(_env(environ, "WUYE_WECHAT_VERIFY_FILE")),
        "RETENTION_DAYS": _number(environ, "WUYE_RETENTION_DAYS"),
        "DEFAULT_TIMEZONE": tz,
        "PUBLIC_BASE_URL": public_base_url,
        "CORS_ORIGINS": origins,
        "RATELIMIT_STORAGE_URI": _env(environ, "WUYE_RATELIMIT_STORAGE_URI"),
        "PROXY_HOPS": _number(environ, "WUYE_PROXY_HOPS"),
        "ACCESS_TOKEN_MINUTES": _number(environ, "WUYE_ACCESS_TOKEN_MINUTES"),
        "REFRESH_TOKEN_DAYS": _number(environ, "WUYE_REFRESH_TOKEN_DAYS"),
        "LOGIN_MAX_FAILURES": _number(environ, "WUYE_LOGIN_MAX_FAILURES"),
        # The looser per-name ceiling, from every address together (an attack from many addresses).
        "LOGIN_ACCOUNT_MAX_FAILURES": 10 * _number(environ, "WUYE_LOGIN_MAX_FAILURES"),
        "LOGIN_LOCKOUT_MINUTES": _number(environ, "WUYE_LOGIN_LOCKOUT_MINUTES"),
        "MAX_OPEN_DELIVERIES": _number(environ, "WUYE_MAX_OPEN_DELIVERIES"),
        "RATING_PERIOD": _rating_period(_env(environ, "WUYE_RATING_PERIOD")),
        "RANKING_MIN_RATINGS": _number(environ, "WUYE_RANKING_MIN_RATINGS"),
        "PASS_KEY_REFRESH_SECONDS": _number(environ, "WUYE_PASS_KEY_REFRESH_SECONDS", float),
        "JSON_AS_ASCII": False,
        "API_TITLE": "Wuye 物业",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "PUBLIC_API_DOCS": public_docs,
        # Without a prefix flask-smorest serves neither the document nor the docs (the spec is still built).
        "OPENAPI_URL_PREFIX": "/api/v1" if public_docs else None,
        "OPENAPI_JSON_PATH": "openapi.json",
        "OPENAPI_SWAGGER_UI_PATH": "docs",
        "OPENAPI_SWAGGER_UI_URL": "/api/v1/docs/assets/",
    }


def _fallbacks(raw: str, secret: str, env: str) -> list[str]:
    """The previous secrets of WUYE_SECRET_KEY_FALLBACKS (newest first), each as strong as a current one."""
    fallbacks = []
    for value in (part.strip() for part in raw.split(",")):
        if not value or value == secret or value in fallbacks:
            continue
        if env != "development" and (value == DEV_SECRET or len(value.encode()) < 32):
            raise UnsafeConfiguration("each of WUYE_SECRET_KEY_FALLBACKS must be a former secret of at least 32 bytes")
        fallbacks.append(value)
    return fallbacks


def _public_base_url(raw: str, env: str) -> str:
    """WUYE_PUBLIC_BASE_URL without its trailing slash; in production an https URL of a public host."""
    url = raw.strip().rstrip("/")
    if env != "production":
        return url
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError:
        parts, host = None, ""
    if parts is None or parts.scheme != "https" or not host:
        raise UnsafeConfiguration(
            f"WUYE_PUBLIC_BASE_URL must be the https:// address residents reach in production, not {raw!r}: "
            "it is printed into every gate poster")
    if _is_loopback(host):
        raise UnsafeConfiguration(
            f"WUYE_PUBLIC_BASE_URL names a loopback host ({host}) in production: phones cannot reach it; "
            "set the public https:// address printed into gate posters")
    return url


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def _verify_file(raw: str) -> tuple[str, str] | None:
    """(name, content) of WeChat's domain-verification file from NAME.txt:CONTENT, or None when empty."""
    if not raw.strip():
        return None
    name, _, content = raw.strip().partition(":")
    if not re.fullmatch(r"[A-Za-z0-9_\-]{1,64}\.txt", name) or not content.strip() or len(content) > 1024:
        raise UnsafeConfiguration("WUYE_WECHAT_VERIFY_FILE must be NAME.txt:CONTENT as WeChat gave them "
                                  "(a name of letters, digits, _ and -; content at most 1024 characters)")
    return name, content.strip()


def _flag(environ: dict, name: str, *, default: bool) -> bool:
    """A yes/no setting; empty means the default."""
    value = _env(environ, name).strip().lower()
    if not value:
        return default
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise UnsafeConfiguration(f"{name} must be 1 or 0, not {value!r}")


def _rating_period(value: str) -> str:
    if value not in ("month", "quarter"):
        raise UnsafeConfiguration(f"WUYE_RATING_PERIOD must be month or quarter, not {value!r}")
    return value


def _templates(raw: str) -> dict[str, str]:
    """The kind -> template id mapping of WUYE_WECHAT_TEMPLATES, refused unless a JSON object of strings."""
    import json

    try:
        templates = json.loads(raw or "{}")
    except ValueError as exc:
        raise UnsafeConfiguration("WUYE_WECHAT_TEMPLATES must be a JSON object") from exc
    if not isinstance(templates, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and v for k, v in templates.items()):
        raise UnsafeConfiguration("WUYE_WECHAT_TEMPLATES must map kinds to non-empty template ids")
    return templates


def _psycopg(url: str) -> str:
    """A postgresql:// URL with the psycopg (3) driver named."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def _replica_url(raw: str, db_url: str) -> str:
    """The replica's URL; only a PostgreSQL replica of a PostgreSQL primary makes sense."""
    url = _psycopg(raw.strip())
    if url and not (url.startswith("postgresql") and db_url.startswith("postgresql")):
        raise UnsafeConfiguration("WUYE_DATABASE_REPLICA_URL names a PostgreSQL streaming replica, and needs "
                                  "WUYE_DATABASE_URL to be its PostgreSQL primary")
    return url


def _replica_options(url: str, env: str) -> dict:
    # Every transaction on the replica bind is READ ONLY, so a replica URL pointed at the primary by
    # mistake still cannot write (a hot standby refuses writes by itself).
    return {"url": url, **_engine_options(url, env), "execution_options": {"postgresql_readonly": True}}


def _engine_options(db_url: str, env: str) -> dict:
    # Outside development, SQL errors in logs do not carry their parameters (phones, tokens). The pool
    # hands out the connection returned last (LIFO): a request's reads and its transaction then share
    # one connection with warm caches, SQLite's page cache (which any other connection's commit
    # empties) and PostgreSQL's server process; the FIFO default rotated through them.
    common = {"hide_parameters": env != "development", "pool_use_lifo": True}
    if db_url.startswith("sqlite"):
        # Threads of one process share the file; busy_timeout lets writers queue instead of failing.
        sqlite = {**common, "connect_args": {"timeout": 15, "check_same_thread": False}}
        if db_url in ("sqlite://", "sqlite:///:memory:") or "mode=memory" in db_url:
            del sqlite["pool_use_lifo"]  # an in-memory database is one connection per thread: no queue
        return sqlite
    # No pre-ping: it costs a round trip per request. A connection the server dropped fails its
    # request with 503 + Retry-After (see errors.py) and is replaced; recycle keeps them fresh.
    return {**common, "pool_recycle": 600, "pool_size": 5, "max_overflow": 5}
