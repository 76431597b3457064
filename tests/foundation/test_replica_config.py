"""WUYE_DATABASE_REPLICA_URL and WUYE_PASS_KEY_REFRESH_SECONDS (the replica itself: tests/hosts/test_replica.py)."""

from __future__ import annotations

import pytest

from server.config import UnsafeConfiguration, load_config
from server.extensions import db
from server.plumbing.replica import reads, replica_configured

BASE = {"WUYE_ENV": "testing", "WUYE_SECRET_KEY": "k" * 40}
PRIMARY = "postgresql://wuye@db-1/wuye"


def test_the_replica_is_a_read_only_bind_of_its_own():
    config = load_config({**BASE, "WUYE_DATABASE_URL": PRIMARY,
                          "WUYE_DATABASE_REPLICA_URL": "postgresql://wuye@db-2/wuye"})
    replica = config["SQLALCHEMY_BINDS"]["replica"]
    assert replica["url"] == config["DATABASE_REPLICA_URL"] == "postgresql+psycopg://wuye@db-2/wuye"
    assert replica["execution_options"] == {"postgresql_readonly": True}
    assert replica["hide_parameters"] is True and replica["pool_size"] == 5
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://wuye@db-1/wuye"


def test_without_a_replica_there_is_no_bind():
    config = load_config({**BASE, "WUYE_DATABASE_URL": PRIMARY})
    assert config["SQLALCHEMY_BINDS"] == {} and config["DATABASE_REPLICA_URL"] == ""


@pytest.mark.parametrize("primary, replica", [
    ("sqlite:////tmp/wuye.db", "postgresql://wuye@db-2/wuye"),
    (PRIMARY, "sqlite:////tmp/copy.db"),
])
def test_a_replica_needs_postgresql_on_both_sides(primary, replica):
    with pytest.raises(UnsafeConfiguration, match="WUYE_DATABASE_REPLICA_URL"):
        load_config({**BASE, "WUYE_DATABASE_URL": primary, "WUYE_DATABASE_REPLICA_URL": replica})


def test_reads_use_the_request_session_without_a_replica(ctx):
    assert not replica_configured()
    assert reads() is db.session


def test_pass_key_refresh_setting():
    assert load_config(BASE)["PASS_KEY_REFRESH_SECONDS"] == 30
    assert load_config({**BASE, "WUYE_PASS_KEY_REFRESH_SECONDS": "2.5"})["PASS_KEY_REFRESH_SECONDS"] == 2.5
    with pytest.raises(UnsafeConfiguration, match="WUYE_PASS_KEY_REFRESH_SECONDS"):
        load_config({**BASE, "WUYE_PASS_KEY_REFRESH_SECONDS": "-1"})
