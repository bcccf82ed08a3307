"""Subprocesses of a chaos run and the loopback helpers they are started with.

Each process runs in a process group of its own, so that SIGKILL / SIGSTOP reach it and only
it, and writes its output to a log file of the run. Every port handed out is a free one asked
of the kernel, never the machine's own PostgreSQL or Redis (5432, 6379).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = REPO / ".venv" / "bin"
LOOPBACK = "127.0.0.1"
SHARED_PORTS = {5432, 6379}  # the machine's own PostgreSQL and Redis: never ours


def free_port() -> int:
    while True:
        with socket.socket() as sock:
            sock.bind((LOOPBACK, 0))
            port = sock.getsockname()[1]
        if port not in SHARED_PORTS:
            return port


def port_answers(port: int, timeout: float = 0.2) -> bool:
    try:
        with socket.create_connection((LOOPBACK, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")


def tail(path: Path, lines: int = 40) -> str:
    if not path.exists():
        return "(no log)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


# --- processes -----------------------------------------------------------------------------------


@dataclass
class Proc:
    """A subprocess in a process group of its own, its output in a log file."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    popen: subprocess.Popen | None = None
    stopped: bool = False  # SIGSTOPped

    def start(self) -> Proc:
        with self.log_path.open("ab") as log:
            self.popen = subprocess.Popen(  # noqa: S603 (our own binaries, fixed arguments)
                self.argv,
                cwd=REPO,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.stopped = False
        return self

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    @property
    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def signal(self, sig: int) -> None:
        if self.alive:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, sig)

    def kill(self) -> None:
        """SIGKILL the whole group: no shutdown, no ack, nothing written."""
        self.signal(signal.SIGKILL)
        if self.popen is not None:
            self.popen.wait(10)

    def pause(self) -> None:
        self.signal(signal.SIGSTOP)
        self.stopped = True

    def resume(self) -> None:
        self.signal(signal.SIGCONT)
        self.stopped = False

    def stop(self, timeout: float = 10) -> None:
        if not self.alive:
            return
        if self.stopped:
            self.resume()
        self.signal(signal.SIGTERM)
        try:
            assert self.popen is not None
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def wait_for_log(self, pattern: str, timeout: float, start: int = 0) -> None:
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if regex.search(self.log()[start:]):
                return
            if not self.alive:
                raise RuntimeError(f"{self.name} exited:\n{tail(self.log_path)}")
            time.sleep(0.1)
        raise TimeoutError(f"{self.name}: no {pattern!r} in {timeout} s:\n{tail(self.log_path)}")


def pid_of_client_port(port: int, pids: list[int]) -> int | None:
    """Which of `pids` holds the loopback TCP connection whose local port is `port`."""
    inodes = set()
    with contextlib.suppress(OSError):
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
            parts = line.split()
            local_port = int(parts[1].split(":")[1], 16)
            if local_port == port:
                inodes.add(f"socket:[{parts[9]}]")
    for pid in pids:
        fd_dir = Path(f"/proc/{pid}/fd")
        with contextlib.suppress(OSError):
            for fd in fd_dir.iterdir():
                with contextlib.suppress(OSError):
                    if os.readlink(fd) in inodes:
                        return pid
    return None
