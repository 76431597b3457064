"""Settings: unsafe production configurations refuse to start."""

from __future__ import annotations

import pytest

from server.config import DEV_SECRET, UnsafeConfiguration, load_config


@pytest.mark.parametrize("secret", ["", "short", DEV_SECRET, "x" * 31])
def test_production_refuses_weak_secrets(secret):
    with pytest.raises(UnsafeConfiguration):
        load_config({"WUYE_ENV": "production", "WUYE_SECRET_KEY": secret})


PUBLIC = "https://wuye.example.cn"


def test_production_accepts_a_long_secret():
    config = load_config({"WUYE_ENV": "production", "WUYE_SECRET_KEY": "k" * 32, "WUYE_PUBLIC_BASE_URL": PUBLIC})
    assert config["DEBUG"] is False and config["WUYE_ENV"] == "production"


def test_default_environment_is_production():
    with pytest.raises(UnsafeConfiguration):
        load_config({})


def test_development_gets_a_dev_secret():
    assert load_config({"WUYE_ENV": "development"})["SECRET_KEY"] == DEV_SECRET


def test_wildcard_cors_refused_in_production():
    with pytest.raises(UnsafeConfiguration):
        load_config({"WUYE_ENV": "production", "WUYE_SECRET_KEY": "k" * 40, "WUYE_CORS_ORIGINS": "*"})


def test_unknown_environment_and_time_zone_refused():
    with pytest.raises(UnsafeConfiguration):
        load_config({"WUYE_ENV": "staging", "WUYE_SECRET_KEY": "k" * 40})
    with pytest.raises(UnsafeConfiguration):
        load_config({"WUYE_ENV": "development", "WUYE_TIMEZONE": "Mars/Olympus"})


def test_plain_postgresql_url_uses_psycopg3():
    config = load_config({"WUYE_ENV": "development", "WUYE_DATABASE_URL": "postgresql://u@h/db"})
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db"


def test_numbers_must_be_numbers():
    with pytest.raises(UnsafeConfiguration):
        load_config({"WUYE_ENV": "development", "WUYE_RETENTION_DAYS": "four weeks"})
    with pytest.raises(UnsafeConfiguration):
        load_config({"WUYE_ENV": "development", "WUYE_RETENTION_DAYS": "-1"})


def test_proxy_hops_give_the_client_address(tmp_path):
    from server import create_app

    app = create_app({"WUYE_ENV": "testing", "WUYE_SECRET_KEY": "k" * 40, "WUYE_PROXY_HOPS": "1",
                      "WUYE_DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}"})

    @app.get("/whoami")
    def whoami():
        from flask import request

        return {"addr": request.remote_addr}

    answer = app.test_client().get("/whoami", headers={"X-Forwarded-For": "10.1.2.3"})
    assert answer.json["addr"] == "10.1.2.3"


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000", "http://wuye.example.cn", "https://127.0.0.1",
                                 "https://localhost:8443", "https://[::1]/", "https://0.0.0.0", "wuye.example.cn",
                                 "https://", "ftp://wuye.example.cn", "https://app.localhost"])
def test_production_refuses_a_public_url_phones_cannot_use(url):
    with pytest.raises(UnsafeConfiguration, match="WUYE_PUBLIC_BASE_URL"):
        load_config({"WUYE_ENV": "production", "WUYE_SECRET_KEY": "k" * 40, "WUYE_PUBLIC_BASE_URL": url})


def test_production_refuses_the_default_public_url_and_takes_an_https_one():
    with pytest.raises(UnsafeConfiguration, match="WUYE_PUBLIC_BASE_URL"):
        load_config({"WUYE_ENV": "production", "WUYE_SECRET_KEY": "k" * 40})
    config = load_config({"WUYE_ENV": "production", "WUYE_SECRET_KEY": "k" * 40,
                          "WUYE_PUBLIC_BASE_URL": "https://wuye.example.cn:8443/"})
    assert config["PUBLIC_BASE_URL"] == "https://wuye.example.cn:8443"
    # Development and testing keep the local default.
    assert load_config({"WUYE_ENV": "development"})["PUBLIC_BASE_URL"] == "http://127.0.0.1:8000"


def test_secret_fallbacks_are_read_newest_first_and_must_be_strong():
    config = load_config({"WUYE_ENV": "production", "WUYE_SECRET_KEY": "k" * 40, "WUYE_PUBLIC_BASE_URL": PUBLIC,
                          "WUYE_SECRET_KEY_FALLBACKS": f" {'o' * 40} ,{'p' * 40},,{'k' * 40}"})
    assert config["SECRET_KEY_FALLBACKS"] == ["o" * 40, "p" * 40]
    with pytest.raises(UnsafeConfiguration, match="WUYE_SECRET_KEY_FALLBACKS"):
        load_config({"WUYE_ENV": "production", "WUYE_SECRET_KEY": "k" * 40, "WUYE_PUBLIC_BASE_URL": PUBLIC,
                     "WUYE_SECRET_KEY_FALLBACKS": "short"})
    assert load_config({"WUYE_ENV": "development"})["SECRET_KEY_FALLBACKS"] == []
