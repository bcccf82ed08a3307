"""The PostgreSQL and Redis servers of a chaos run: private ones, on free loopback ports.

- PostgreSQL: a cluster of its own (initdb, pg_ctl) in the run's temporary folder. Run as the
  `postgres` OS user when this process is root (PostgreSQL refuses root).
- Redis: `redis-server` with no persistence (`--save ""`), its folder temporary: a restart
  loses every queued message, as a crashed broker would.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import time
from glob import glob
from pathlib import Path
from typing import Any

from chaos.procs import LOOPBACK, Proc, free_port, port_answers, wait_for

# --- PostgreSQL --------------------------------------------------------------------------------


def _pg_bin(name: str) -> str:
    def version(path: str) -> tuple[int, ...]:
        number = path.split("/")[4]
        return tuple(int(p) for p in number.split(".") if p.isdigit())

    found = sorted(glob(f"/usr/lib/postgresql/*/bin/{name}"), key=version)  # the newest
    if found:
        return found[-1]
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(f"{name} not found (PostgreSQL server binaries)")
    return path


class Postgres:
    """A private cluster: its own data folder, port and socket folder; trust auth on loopback."""

    def __init__(self, root: Path) -> None:
        self.root = root / "pg"
        self.data = self.root / "data"
        self.log_path = root / "logs" / "postgres.log"
        self.port = free_port()
        self.as_postgres = os.geteuid() == 0

    def _run(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess:
        command = list(argv)
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(  # noqa: S603 (PostgreSQL's own tools, fixed arguments)
            command, check=check, capture_output=True, text=True, timeout=120
        )

    def init(self) -> None:
        self.root.mkdir(parents=True)
        self.log_path.touch()
        if self.as_postgres:
            user = pwd.getpwnam("postgres")
            for path in (self.root, self.log_path):
                os.chown(path, user.pw_uid, user.pw_gid)
            # The folders above ours must let the postgres user through.
            for parent in (self.root.parent, self.log_path.parent):
                parent.chmod(0o755)
        self._run(
            _pg_bin("initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust",
            "-E", "UTF8", "--no-sync",
        )  # fmt: skip

    def start(self) -> None:
        # fsync and full-page writes guard against a crash of the machine, which no run
        # makes. A commit stays synchronous: `pg_ctl stop -m immediate` (postgres_restart)
        # is a crash of the server, and an asynchronous commit acknowledged before its WAL
        # was written would be lost with it, a write-ahead mark included (a duplicate that
        # production, where commits are synchronous, would not see).
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses={LOOPBACK} -c fsync=off "
            "-c full_page_writes=off -c max_connections=200"
        )
        self._run(
            _pg_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.log_path), "-o", options,
            "-w", "-t", "60", "start",
        )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        """`fast` rolls back open transactions and closes connections; `immediate` is a crash."""
        if (self.data / "postmaster.pid").exists():
            self._run(
                _pg_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop", check=False
            )

    def restart(self, down_seconds: float = 0.0, mode: str = "fast") -> None:
        self.stop(mode)
        time.sleep(down_seconds)
        self.start()

    def url(self, db: str = "mojito") -> str:
        return f"postgres://postgres@{LOOPBACK}:{self.port}/{db}"

    def create_database(self, name: str = "mojito") -> None:
        self._run(_pg_bin("createdb"), "-h", LOOPBACK, "-p", str(self.port), "-U", "postgres", name)

    def dump(self, name: str = "mojito") -> bytes:
        """The whole database as SQL (every table, every row): the canary hunt reads it."""
        result = subprocess.run(  # noqa: S603
            [_pg_bin("pg_dump"), "-h", LOOPBACK, "-p", str(self.port), "-U", "postgres", name],
            check=True,
            capture_output=True,
            timeout=300,
        )
        return result.stdout


# --- Redis ---------------------------------------------------------------------------------------


class Redis:
    def __init__(self, root: Path) -> None:
        self.dir = root / "redis"
        self.port = free_port()
        self.proc = Proc(
            "redis",
            [
                shutil.which("redis-server") or "redis-server",
                "--port", str(self.port), "--bind", LOOPBACK, "--save", "", "--appendonly", "no",
                "--dir", str(self.dir), "--protected-mode", "yes",
            ],
            env=dict(os.environ),
            log_path=root / "logs" / "redis.log",
        )  # fmt: skip

    def start(self) -> None:
        self.dir.mkdir(exist_ok=True)
        self.proc.start()
        wait_for(lambda: port_answers(self.port), 20, "redis")

    def stop(self) -> None:
        self.proc.stop()

    def url(self, db: int = 0) -> str:
        return f"redis://{LOOPBACK}:{self.port}/{db}"

    def client(self, db: int = 0) -> Any:
        import redis

        return redis.Redis.from_url(self.url(db), socket_timeout=5)
