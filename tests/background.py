"""A real Redis and real Celery worker processes: background work the way production runs it.
Fixtures for tests/test_background.py and tests/sync/test_worker.py, which import them (each
`fixture_<name>` is the fixture `<name>`, so that a test's argument does not shadow the import).

A worker is a separate process (`celery -A scheduler_site worker`) on the test database, so its
tests commit for real (transactional_db) and wait for the worker's effects with `eventually`.
Redis and the workers can be taken away mid-test: `RedisServer.stop()` / `start()` (same port,
nothing persisted, as a Redis restarted without a dump), `Worker.kill()` (SIGKILL to the worker
and its children, as the OOM killer or a lost machine would).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from django.db import connection

from bench._server import free_port
from scheduler_site.celery import app

ROOT = Path(__file__).resolve().parent.parent
WAIT = 60  # seconds; a worker normally answers in well under one
QUIET = ("--without-gossip", "--without-mingle", "--without-heartbeat")


def eventually(check: Callable[[], Any], what: str, log: Path | None = None, wait: float = WAIT) -> Any:
    """What `check` returns once it is true, asked every 0.1 s; the test fails after `wait`
    seconds, with the end of `log` (a process's output) if given."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    tail = log.read_text()[-4000:] if log else ""
    pytest.fail(f"{what} did not happen within {wait} s\n{tail}")


class RedisServer:
    """redis-server on a loopback port, keeping nothing on disk: a restart loses every message."""

    def __init__(self, folder: Path) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is missing: `make test` installs it (scripts/install-test-packages.sh)"
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.command = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                        "--appendonly", "no", "--dir", str(folder)]  # fmt: skip
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(self.command, stdout=subprocess.DEVNULL)
        eventually(self.answers, "redis-server start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)

    def answers(self) -> bool:
        try:
            with redis.Redis.from_url(self.url) as client:
                return client.ping()
        except redis.ConnectionError:
            return False


@pytest.fixture(scope="session", name="redis_server")
def fixture_redis_server(tmp_path_factory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session", name="redis_url")
def fixture_redis_url(redis_server) -> str:
    return redis_server.url


def database_url() -> str:
    """The test database (not the configured one), for the worker process."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


class Worker:
    """One `celery worker` process (solo pool unless `args` say otherwise), in a session of its
    own so that `kill()` reaches its pool and an embedded beat (`--beat`) too."""

    def __init__(self, name: str, redis_url: str, folder: Path, args: tuple[str, ...], env: dict[str, str]):
        self.name = f"{name}@{os.uname().nodename}"
        self.log = folder / f"{name}.log"
        environment = {**os.environ, "REDIS_URL": redis_url, "DATABASE_URL": database_url(),
                       "DB_CONN_MAX_AGE": "0", **env}  # fmt: skip
        command = [sys.executable, "-m", "celery", "-A", "scheduler_site", "worker", "--pool", "solo",
                   *QUIET, "-l", "INFO", "-n", self.name, "--schedule", str(folder / f"{name}.beat"),
                   *args]  # fmt: skip
        with self.log.open("w") as out:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=environment, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip

    def wait_ready(self) -> None:
        eventually(lambda: bool(app.control.ping([self.name], timeout=0.5)), f"{self.name} start", self.log)

    def text(self) -> str:
        return self.log.read_text()

    def kill(self) -> None:
        """Gone at once, mid-task: nothing acknowledged, nothing cleaned up."""
        self._signal_all(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # a warm shutdown: tasks held for later go back to Redis
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(20)
        self._signal_all(signal.SIGKILL)  # whatever it left behind (a beat, pool processes)
        self.process.wait(10)

    def _signal_all(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signum)


@pytest.fixture(name="broker")
def fixture_broker(redis_url, transactional_db) -> Iterator[str]:
    """This process sends tasks through Redis (not eagerly), to an empty queue."""
    with redis.Redis.from_url(redis_url) as client:
        client.flushdb()  # nothing a previous test left for its workers
    saved = {k: app.conf[k] for k in ("broker_url", "result_backend", "task_always_eager")}
    app.conf.update(broker_url=redis_url, result_backend=redis_url, task_always_eager=False)
    _forget_connections()
    try:
        yield redis_url
    finally:
        app.conf.update(saved)
        _forget_connections()


def _forget_connections() -> None:
    """Connection pools made under the old broker setting would keep using it (what Celery
    does after a fork)."""
    app._after_fork()


@pytest.fixture(name="start_worker")
def fixture_start_worker(broker, tmp_path) -> Iterator[Callable[..., Worker]]:
    """`start_worker("--beat", SYNC_RECOVER_EVERY="1")`: a worker with these arguments and
    environment, running once this returns; all are stopped after the test."""
    started: list[Worker] = []

    def start(*args: str, **env: str) -> Worker:
        worker = Worker(f"worker{len(started) + 1}", broker, tmp_path, args, env)
        started.append(worker)
        worker.wait_ready()
        return worker

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture(name="worker")
def fixture_worker(start_worker) -> Path:
    """One worker with the default settings; its log."""
    return start_worker().log
