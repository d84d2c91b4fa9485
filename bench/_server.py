"""A server for a benchmark over HTTP: a free loopback port, waiting until it answers, and a
second instance of this server to play an upstream Kaltura (bench/sync.py, tests/sync/)."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
# The caller's settings must not reach an upstream: its database (SQLite or PostgreSQL, and
# libpq's PG* variables), its broker and task queue (the upstream runs tasks in-process), its keys.
PRIVATE = ("DATABASE_URL", "SQLITE_TEST_NAME", "REDIS_URL", "TASK_QUEUE_DIR", "FIELD_ENCRYPTION_KEYS")


class ServerFailed(Exception):
    """The server exited, or never answered: the benchmark cannot run."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_ready(url: str, process: subprocess.Popen, tail: Callable[[], str], timeout: float) -> None:
    """Until `url`/api_v3/ answers at all; `tail` gives the server's last output for the error."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerFailed(f"the server exited with status {process.returncode}:\n{tail()}")
        try:
            httpx.get(f"{url}/api_v3/", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise ServerFailed(f"the server did not answer within {timeout} s:\n{tail()}")


class UpstreamServer:
    """Another instance of this server, as deployed (granian), in its own process group on its
    own SQLite file in `folder`, with one partner (`partner_id`, `admin_secret`): an upstream
    Kaltura to sync to. `stop()` and `start()` take it away and bring it back on the same port and
    database; `pause()` and `resume()` freeze every one of its processes, so that a request sent
    to it waits unanswered."""

    partner_id = 4242
    start_timeout = 30.0

    def __init__(self, folder: Path, *, workers: int = 2, threads: int = 4) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.admin_secret = secrets.token_hex(16)
        self.log = folder / "upstream.log"
        self.database = folder / "upstream.sqlite3"
        self.env = _environment(self.database)
        self.workers, self.threads = workers, threads
        self.process: subprocess.Popen | None = None

    def prepare(self) -> None:
        self.manage("migrate", "--noinput")
        self.manage(
            "create_partner", "--partner-id", str(self.partner_id), "--name", "Upstream",
            "--admin-secret", self.admin_secret,
        )  # fmt: skip

    def start(self) -> None:
        with self.log.open("a") as log:
            served = {"HOST": "127.0.0.1", "PORT": str(self.port), "TLS_CERT": "", "TLS_KEY": "",
                      "WEB_WORKERS": str(self.workers), "WEB_THREADS": str(self.threads)}  # fmt: skip
            self.process = subprocess.Popen(
                [sys.executable, "-m", "scheduler_site.production"], cwd=ROOT, env={**self.env, **served},
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        wait_until_ready(self.url, self.process, self.tail, self.start_timeout)

    def stop(self) -> None:
        """Ends the server; its port and database stay this upstream's for `start()`."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def pause(self) -> None:
        """SIGSTOP to the master and its workers (the group it leads): connections are still
        accepted by the kernel, and requests wait in their sockets, unread."""
        assert self.alive(), "the upstream is not running"
        os.killpg(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        if self.alive():
            os.killpg(self.process.pid, signal.SIGCONT)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def request_waiting(self) -> bool:
        """A connection to it holds bytes it has not read (/proc/net/tcp: an ESTABLISHED socket,
        state 01, with a receive queue): while paused, a request was sent to it."""
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
            _, local, _, state, queues, *_ = line.split()
            if int(local.split(":")[1], 16) == self.port and state == "01" and int(queues.split(":")[1], 16):
                return True
        return False

    def lose_answer(self, kill_client: Callable[[], None], timeout: float = 10.0) -> None:
        """Paused with a request waiting: it reads the request, whose application then waits for
        the database while `kill_client` kills the client, and goes on to apply it; the answer
        is lost. (A client killed before the server read its request would have it dropped
        unread: granian serves no request whose client has gone.)"""
        database = sqlite3.connect(self.database, timeout=20, isolation_level=None)
        try:
            database.execute("BEGIN IMMEDIATE")  # its writes wait (SQLite's busy timeout: 20 s)
            self.resume()
            deadline = time.monotonic() + timeout
            while self.request_waiting():
                if time.monotonic() > deadline:
                    raise ServerFailed(f"the upstream read no request within {timeout} s:\n{self.tail()}")
                time.sleep(0.05)
            time.sleep(0.5)  # into the application, waiting for the lock
            kill_client()
            database.execute("ROLLBACK")
        finally:
            database.close()

    def manage(self, *args: str) -> str:
        """`manage.py <args>` against the upstream's database; its stdout."""
        done = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True, text=True
        )
        if done.returncode != 0:
            raise AssertionError(f"manage.py {args[0]} failed on the upstream:\n{done.stdout}{done.stderr}")
        return done.stdout

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def _environment(database: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in PRIVATE and not k.startswith("PG")}
    env.update(
        DATABASE_URL=f"sqlite:///{database}", DEBUG="false", HTTPS="false", SECRET_KEY=secrets.token_hex(32),
        ALLOWED_HOSTS="127.0.0.1,localhost", DB_CONN_MAX_AGE="0",
    )  # fmt: skip
    return env
