"""The other processes of a deployment, started for real: gunicorn instances, a private redis-server, a
PostgreSQL streaming replica (pg_basebackup -R of the throwaway primary), and `flask wuye` commands.

Each is started on a free loopback port or a private Unix socket, waited for, and stopped by its own
process id (never by name), also when a test fails.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import requests

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PGBIN = Path(os.environ.get("PGBIN", "/usr/lib/postgresql/15/bin"))


def free_port() -> int:
    """A loopback port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(check, what: str, seconds: float = 30.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        if check():
            return
        time.sleep(0.05)
    raise TimeoutError(f"{what} did not come up within {seconds} s")


def _stop(proc: subprocess.Popen, seconds: float = 10.0, sig: int = signal.SIGTERM) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(seconds)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class RedisServer:
    """A private redis-server on a Unix socket in a temporary folder: no TCP, no persistence."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="wuye-redis."))
        self.socket = self.dir / "redis.sock"
        self.proc: subprocess.Popen | None = None

    @property
    def uri(self) -> str:
        """The `limits` storage URI (WUYE_RATELIMIT_STORAGE_URI)."""
        return f"redis+unix://{self.socket}"

    def start(self) -> RedisServer:
        exe = shutil.which("redis-server")
        if exe is None:
            raise RuntimeError("redis-server is missing: run scripts/system-packages.sh (Debian's redis-server)")
        self.proc = subprocess.Popen(
            [exe, "--port", "0", "--unixsocket", str(self.socket), "--unixsocketperm", "700",
             "--save", "", "--appendonly", "no", "--dir", str(self.dir), "--loglevel", "warning"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait(self.socket.exists, "redis-server", 10, self.proc)
        return self

    def client(self):
        """A redis client on the socket (to look at or empty the shared counters)."""
        import redis

        return redis.Redis(unix_socket_path=str(self.socket))

    def stop(self) -> None:
        if self.proc is not None:
            _stop(self.proc)
        shutil.rmtree(self.dir, ignore_errors=True)


def service_environ(database_url: str, **settings: str) -> dict[str, str]:
    """The environment of a Wuye process (a gunicorn instance or a command) of the test deployment."""
    from tests.conftest import TEST_SECRET

    env = {key: value for key, value in os.environ.items() if not key.startswith("WUYE_")}
    env.update({"WUYE_ENV": "testing", "WUYE_SECRET_KEY": TEST_SECRET, "WUYE_DATABASE_URL": database_url,
                "WUYE_WECHAT_APP_ID": "wx-fake-appid", "WUYE_WECHAT_APP_SECRET": "fake-app-secret",
                "WUYE_PUBLIC_BASE_URL": "https://wuye.example.cn", "FLASK_APP": "wsgi:app",
                "PYTHONDONTWRITEBYTECODE": "1"})
    env.update(settings)
    return env


class Instance:
    """One gunicorn instance (`gunicorn -c gunicorn.conf.py wsgi:app`, as the README starts it) on a port."""

    def __init__(self, name: str, environ: dict[str, str], workers: int = 1) -> None:
        self.name = name
        self.port = free_port()
        self.environ = {**environ, "WUYE_BIND": f"127.0.0.1:{self.port}", "WUYE_WORKERS": str(workers)}
        self.proc: subprocess.Popen | None = None
        self.log = tempfile.NamedTemporaryFile(prefix=f"wuye-{name}.", suffix=".log", delete=False)
        self.http = requests.Session()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Instance:
        self.proc = subprocess.Popen([str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"], cwd=ROOT,
                                     env=self.environ, stdout=self.log, stderr=subprocess.STDOUT)
        return self

    def wait_ready(self, seconds: float = 45.0) -> Instance:
        def ready() -> bool:
            try:
                return self.http.get(self.url + "/readyz", timeout=2).status_code == 200
            except requests.RequestException:
                return False

        try:
            _wait(ready, f"gunicorn instance {self.name}", seconds, self.proc)
        except (RuntimeError, TimeoutError) as exc:
            raise RuntimeError(f"{exc}; its log:\n{self.output()}") from None
        return self

    def request(self, method: str, path: str, token: str | None = None, **kwargs) -> requests.Response:
        headers = kwargs.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return self.http.request(method, self.url + path, headers=headers, timeout=10, **kwargs)

    def get(self, path: str, token: str | None = None, **kwargs) -> requests.Response:
        return self.request("GET", path, token, **kwargs)

    def post(self, path: str, token: str | None = None, **kwargs) -> requests.Response:
        return self.request("POST", path, token, **kwargs)

    def output(self) -> str:
        return Path(self.log.name).read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        self.http.close()
        if self.proc is not None:
            _stop(self.proc, sig=signal.SIGQUIT)  # gunicorn's quick shutdown: the tests' requests are done
        self.log.close()
        os.unlink(self.log.name)


def start_command(args: list[str], environ: dict[str, str]) -> subprocess.Popen:
    """`flask wuye ARGS` as a process of its own (answers the Popen; read .communicate())."""
    return subprocess.Popen([str(BIN / "flask"), "wuye", *args], cwd=ROOT, env=environ, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _as_postgres() -> list[str]:
    # initdb and the server refuse to run as root: the cluster belongs to the postgres system user,
    # as in scripts/with-postgres.sh.
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


class Replica:
    """A hot-standby streaming replica of the throwaway primary: `pg_basebackup -R` into a temporary
    folder, started on a socket of its own."""

    def __init__(self, primary_url: str) -> None:
        query = parse_qs(urlsplit(primary_url).query)
        self.primary_host, self.primary_port = query["host"][0], query["port"][0]
        self.primary_url = primary_url
        self.dir = Path(tempfile.mkdtemp(prefix="wuye-replica."))
        self.port = str(free_port())
        self.started = False

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://wuye@/wuye?host={self.dir}&port={self.port}"

    def start(self) -> Replica:
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
        data = self.dir / "data"
        subprocess.run([*_as_postgres(), str(PGBIN / "pg_basebackup"), "-h", self.primary_host,
                        "-p", self.primary_port, "-U", "wuye", "-D", str(data), "-R", "-X", "stream",
                        "--checkpoint=fast"], check=True, capture_output=True)
        # hot_standby answers reads while replaying; a replay blocked by a reader is cancelled soon.
        options = (f"-k {self.dir} -p {self.port} -c listen_addresses='' -c hot_standby=on "
                   "-c max_standby_streaming_delay=1s -c fsync=off")
        subprocess.run([*_as_postgres(), str(PGBIN / "pg_ctl"), "-D", str(data), "-l", str(self.dir / "server.log"),
                        "-w", "-o", options, "start"], check=True, capture_output=True)
        self.started = True
        return self

    def log(self) -> str:
        path = self.dir / "server.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def stop(self) -> None:
        if self.started:
            subprocess.run([*_as_postgres(), str(PGBIN / "pg_ctl"), "-D", str(self.dir / "data"), "-m", "immediate",
                            "stop"], capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)
