"""Several hosts over one PostgreSQL: two gunicorn instances on their own ports sharing a private Redis.

These tests start real processes against the throwaway PostgreSQL of scripts/with-postgres.sh; on
SQLite they are skipped (an embedded file serves one host, and a replica is PostgreSQL's).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.hosts.processes import Instance, RedisServer, service_environ

# Short, so a test sees a pass-key rotation reach another instance in seconds (30 s in production).
PASS_KEY_REFRESH_SECONDS = 2


SKIP_REASON = ("several hosts share one PostgreSQL: run with scripts/with-postgres.sh "
               "(SQLite is an embedded file for one host, and a streaming replica is PostgreSQL's)")


@pytest.fixture(autouse=True)
def _postgres_only(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip(SKIP_REASON)


@pytest.fixture(scope="module")
def redis_server(database_url):
    """A private redis-server on a Unix socket, for the rate limits every instance shares."""
    if not database_url.startswith("postgresql"):
        pytest.skip(SKIP_REASON)
    server = RedisServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def instances(database_url, redis_server):
    """Two gunicorn instances (one sync worker each) on different ports, one database, one Redis."""
    environ = service_environ(database_url, WUYE_RATELIMIT_STORAGE_URI=redis_server.uri,
                              WUYE_PASS_KEY_REFRESH_SECONDS=str(PASS_KEY_REFRESH_SECONDS))
    pair = [Instance("a", environ), Instance("b", environ)]
    try:
        for instance in pair:
            instance.start()
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(lambda i: i.wait_ready(), pair))
        yield pair
    finally:
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(Instance.stop, pair))


@pytest.fixture
def shared_counters(redis_server):
    """Every test starts from empty rate-limit counters in the shared Redis."""
    client = redis_server.client()
    client.flushall()
    yield client
    client.close()
