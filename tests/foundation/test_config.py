"""Settings: unsafe production configurations refuse to start."""

from __future__ import annotations

import pytest

from server.config import DEV_SECRET, UnsafeConfiguration, load_config


@pytest.mark.parametrize("secret", ["", "short", DEV_SECRET, "x" * 31])
def test_production_refuses_weak_secrets(secret):
    with pytest.raises(UnsafeConfiguration):
        load_config({"WUYE_ENV": "production", "WUYE_SECRET_KEY": secret})


def test_production_accepts_a_long_secret():
    config = load_config({"WUYE_ENV": "production", "WUYE_SECRET_KEY": "k" * 32})
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
