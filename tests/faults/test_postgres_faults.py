"""Suite 5 of issue #17, faults of the database (PostgreSQL only, on a cluster of this module's own):

- PostgreSQL stopped in the middle of a load of check-ins: writes answer 503 with Retry-After, /readyz
  fails, every acknowledged (201) check-in is in the database after the restart, and the service
  recovers by itself (no restart of the app);
- a gunicorn worker killed (SIGKILL) in the middle of a request leaves no partial write, and the master's
  next worker serves.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from server import create_app
from server.extensions import db
from server.models.checkins import CheckIn
from tests.factories import build_world, client_for
from tests.faults import cluster

ON_POSTGRES = os.environ.get("WUYE_TEST_DATABASE_URL", "").startswith("postgresql")
pytestmark = [
    pytest.mark.skipif(not ON_POSTGRES, reason="database faults are PostgreSQL's (run with scripts/with-postgres.sh); "
                                               "SQLite has no server to stop"),
    pytest.mark.skipif(not cluster.available(), reason="PostgreSQL 15 binaries (initdb, pg_ctl) not installed"),
]
SECRET = "fault-secret-" + "y" * 40
ROOT = Path(__file__).resolve().parents[2]
# A worker boots in a few seconds; generous for a loaded machine.
BOOT_SECONDS = 90


@pytest.fixture(scope="module")
def own_cluster():
    """A cluster this module may stop and start."""
    pg = cluster.Cluster()
    try:
        yield pg
    finally:
        pg.remove()


@pytest.fixture(scope="module")
def fault_app(own_cluster):
    """The app on the module's cluster, its tables created and the standard world committed."""
    app = create_app({"WUYE_ENV": "testing", "WUYE_SECRET_KEY": SECRET, "WUYE_DATABASE_URL": own_cluster.url,
                      "WUYE_PUBLIC_BASE_URL": "https://wuye.example.cn"})
    with app.app_context():
        db.create_all(bind_key=None)  # the app's own database (another test may have registered a replica bind)
        world = build_world()
        db.session.commit()
    yield app, world
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _manual(gate_id: int, household_id: int, client_id: str) -> dict:
    return {"gate_id": gate_id, "household_id": household_id, "direction": "in", "person_name": "李大爷",
            "reason": "无手机", "client_id": client_id}


def _stored(app, client_ids) -> set[str]:
    with app.app_context():
        found = set(db.session.scalars(select(CheckIn.client_id).where(CheckIn.client_id.in_(list(client_ids)))))
        db.session.remove()
    return found


def test_postgres_stopped_mid_load(fault_app, own_cluster):
    app, world = fault_app
    guard = client_for(app, world.guard_a)
    answers: list[tuple[str, int, str | None, str]] = []  # (client id, status, Retry-After, reason)
    lock, stop = threading.Lock(), threading.Event()

    def load():
        while not stop.is_set():
            client_id = uuid.uuid4().hex
            response = guard.post("/api/v1/checkins/manual", json=_manual(world.gate_a.id, world.household_a.id,
                                                                          client_id))
            with lock:
                answers.append((client_id, response.status_code, response.headers.get("Retry-After"),
                                (response.json or {}).get("reason", "")))
            time.sleep(0.01)

    threads = [threading.Thread(target=load) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(1.0)
        own_cluster.stop()
        time.sleep(1.0)
        probe = app.test_client()
        ready_down = probe.get("/readyz")
        with lock:
            during = len(answers)
        own_cluster.start()
        # The service recovers by itself: no restart, a few failed (invalidated) connections at most.
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with lock:
                if any(status == 201 for _cid, status, _ra, _r in answers[during:]):
                    break
            time.sleep(0.2)
        time.sleep(0.5)
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)
    statuses = [status for _cid, status, _ra, _reason in answers]
    assert ready_down.status_code == 503 and ready_down.headers.get("Retry-After")
    assert set(statuses) <= {201, 503}, sorted(set(statuses))
    refused = [(status, ra, reason) for _cid, status, ra, reason in answers if status == 503]
    assert refused and all(ra and reason == "unavailable" for _s, ra, reason in refused), refused[:3]
    assert any(status == 201 for _cid, status, _ra, _r in answers[during:]), "did not recover by itself"
    assert probe.get("/readyz").status_code == 200
    acknowledged = {cid for cid, status, _ra, _r in answers if status == 201}
    assert len(acknowledged) >= 10
    assert _stored(app, acknowledged) == acknowledged  # nothing acknowledged is lost


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _children(pid: int) -> list[int]:
    """Pids whose parent is `pid` (from /proc: no extra package)."""
    kids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                kids.append(int(entry.name))
    return kids


def _post(base: str, path: str, token: str, body: dict, timeout: float = 30):
    request = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST", headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def test_a_killed_gunicorn_worker_leaves_no_partial_write(fault_app, own_cluster, tmp_path):
    app, world = fault_app
    token = client_for(app, world.guard_a).headers["Authorization"].split()[1]
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "WUYE_ENV": "testing", "WUYE_SECRET_KEY": SECRET, "WUYE_DATABASE_URL": own_cluster.url,
           "WUYE_PUBLIC_BASE_URL": "https://wuye.example.cn"}
    master = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "/dev/null", "-w", "1", "-b", f"127.0.0.1:{port}",
                               "--timeout", "60", "wsgi:app"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=(tmp_path / "gunicorn.log").open("wb"))
    try:
        deadline = time.monotonic() + BOOT_SECONDS
        while True:
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, (tmp_path / "gunicorn.log").read_text()[-2000:]
                time.sleep(0.2)
        # A batch of offline manual check-ins: written row by row, committed once at the end.
        batch_ids = [f"kill-{n}-{uuid.uuid4().hex[:8]}" for n in range(80)]
        now = datetime.now(UTC).isoformat()
        items = [{**_manual(world.gate_a.id, world.household_a.id, cid), "kind": "manual", "device_time": now}
                 for cid in batch_ids]
        outcome: dict = {}

        def send():
            try:
                outcome["answer"] = _post(base, "/api/v1/checkins/batch", token, {"items": items})
            except OSError as exc:  # the worker died under the request
                outcome["error"] = exc

        sender = threading.Thread(target=send)
        sender.start()
        workers = _children(master.pid)
        assert len(workers) == 1
        # Kill the worker once the batch has written some rows inside its open transaction.
        deadline = time.monotonic() + 20
        killed = False
        while time.monotonic() < deadline and sender.is_alive():
            with app.app_context():
                busy = db.session.execute(db.text(
                    "SELECT count(*) FROM pg_stat_activity WHERE state = 'idle in transaction' "
                    "OR (state = 'active' AND query LIKE 'INSERT INTO checkins%')")).scalar_one()
                db.session.remove()
            if busy:
                os.kill(workers[0], signal.SIGKILL)
                killed = True
                break
            time.sleep(0.005)
        sender.join(30)
        assert killed and "answer" not in outcome, outcome.get("answer", ("", ""))[0]
        assert _stored(app, batch_ids) == set()  # no partial write: all or nothing, here nothing
        # The master starts a new worker; the device's retry of the same batch is stored whole.
        deadline = time.monotonic() + BOOT_SECONDS
        while True:
            try:
                urllib.request.urlopen(base + "/healthz", timeout=2).close()
                break
            except OSError as exc:
                assert time.monotonic() < deadline, f"no new worker: {exc!r}"
                time.sleep(0.2)
        status, body = _post(base, "/api/v1/checkins/batch", token, {"items": items}, timeout=60)
        assert status == 200 and {r["status"] for r in body["results"]} == {201}
        assert _stored(app, batch_ids) == set(batch_ids)
    finally:
        master.terminate()
        master.wait(20)
