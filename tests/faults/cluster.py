"""A PostgreSQL 15 cluster of a fault test's own (initdb, pg_ctl), so stopping it disturbs no other test.

As scripts/with-postgres.sh: a temporary folder, a private Unix socket, run as the postgres user when
we are root (initdb refuses root). fsync stays on: a stop must not lose what was committed.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

PGBIN = Path(os.environ.get("PGBIN", "/usr/lib/postgresql/15/bin"))


def available() -> bool:
    """Whether initdb and pg_ctl are installed here."""
    return (PGBIN / "initdb").exists() and (PGBIN / "pg_ctl").exists()


class Cluster:
    """initdb'd in a temporary folder; start, stop (immediate: as a crash) and remove."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="wuye-fault-pg."))
        self.port = 20000 + random.randrange(20000)
        self.as_pg: list[str] = []
        if os.geteuid() == 0:
            if subprocess.run(["id", "postgres"], capture_output=True).returncode != 0:
                subprocess.run(["useradd", "--system", "--no-create-home", "postgres"], check=True)
            shutil.chown(self.dir, "postgres")
            self.as_pg = ["runuser", "-u", "postgres", "--"]
        self._run("initdb", "-D", str(self.dir / "data"), "-U", "wuye", "--auth=trust", "-E", "UTF8",
                  "--locale=C.UTF-8")
        self.start()
        subprocess.run([str(PGBIN / "createdb"), "-h", str(self.dir), "-p", str(self.port), "-U", "wuye", "wuye"],
                       check=True, capture_output=True)

    @property
    def url(self) -> str:
        """The SQLAlchemy URL of its database."""
        return f"postgresql+psycopg://wuye@/wuye?host={self.dir}&port={self.port}"

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run([*self.as_pg, str(PGBIN / tool), *args], check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        """Start and wait until it accepts connections."""
        self._run("pg_ctl", "-D", str(self.dir / "data"), "-l", str(self.dir / "server.log"), "-w", "-o",
                  f"-k {self.dir} -p {self.port} -c listen_addresses='' -c max_connections=50", "start")

    def stop(self, mode: str = "immediate") -> None:
        """Stop it (immediate: no checkpoint, as a crash; the WAL keeps what was committed)."""
        self._run("pg_ctl", "-D", str(self.dir / "data"), "-m", mode, "-w", "stop")

    def remove(self) -> None:
        """Stop (if running) and delete it."""
        subprocess.run([*self.as_pg, str(PGBIN / "pg_ctl"), "-D", str(self.dir / "data"), "-m", "immediate",
                        "stop"], capture_output=True)
        time.sleep(0.1)
        shutil.rmtree(self.dir, ignore_errors=True)
