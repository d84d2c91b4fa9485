"""The upstream Kaltura for sync tests: a second live instance of this server, in its own process
(gunicorn, as deployed) on its own SQLite file, whatever database the suite itself runs on.

One for the whole session: migrating a fresh database costs seconds. Tests share its partner
4242 and start clean with `upstream.wipe()`. `stop()` and `start()` take it away and bring it
back on the same port and database, for tests of an upstream that goes away.
"""

from __future__ import annotations

import os
import secrets
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench._server import free_port, wait_until_ready
from calendar_app.models import ScheduleEvent, ScheduleResource
from calendar_app.sync.client import ADMIN_SECRET, APP_TOKEN, Credentials, KalturaClient

ROOT = Path(__file__).resolve().parents[2]
PARTNER_ID = 4242
START_TIMEOUT = 30.0
# The suite's own settings must not reach the upstream: its database (SQLite or PostgreSQL, and
# libpq's PG* variables), its broker and task queue (the upstream runs tasks in-process), its keys.
PRIVATE = ("DATABASE_URL", "SQLITE_TEST_NAME", "REDIS_URL", "TASK_QUEUE_DIR", "FIELD_ENCRYPTION_KEYS")
WIPED = (ScheduleEvent, ScheduleResource)


class Upstream:
    partner_id = PARTNER_ID

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.admin_secret = secrets.token_hex(16)
        self.log = folder / "upstream.log"
        self.database = folder / "upstream.sqlite3"
        self.env = _environment(self.database)
        self.process: subprocess.Popen | None = None

    def prepare(self) -> None:
        self.manage("migrate", "--noinput")
        self.manage(
            "create_partner", "--partner-id", str(PARTNER_ID), "--name", "Upstream",
            "--admin-secret", self.admin_secret,
        )  # fmt: skip

    def start(self) -> None:
        with self.log.open("a") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "scheduler_site.wsgi", "-b", f"127.0.0.1:{self.port}",
                 "--workers", "2", "--threads", "4"],
                cwd=ROOT, env=self.env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        wait_until_ready(self.url, self.process, self.tail, START_TIMEOUT)

    def stop(self) -> None:
        """Ends the server; its port and database stay this upstream's for `start()`."""
        if self.process is None or self.process.poll() is not None:
            return
        # SIGINT is gunicorn's quick shutdown: its graceful one (SIGTERM) takes seconds.
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def manage(self, *args: str) -> str:
        """`manage.py <args>` against the upstream's database; its stdout."""
        done = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True, text=True
        )
        if done.returncode != 0:
            raise AssertionError(f"manage.py {args[0]} failed on the upstream:\n{done.stdout}{done.stderr}")
        return done.stdout

    def wipe(self) -> None:
        """Deletes every event, link and resource of the partner, straight in its SQLite file: a
        manage.py process would cost a second or two per test. Rows that point at them go first;
        with foreign keys enforced, one this misses fails the commit rather than dangling."""
        db = sqlite3.connect(self.database, timeout=20)
        try:
            db.execute("PRAGMA foreign_keys = ON")
            with db:
                for statement in _wipe_statements():
                    db.execute(statement, {"partner": PARTNER_ID})
        finally:
            db.close()

    def app_token(self, hash_type: str = "SHA256", privileges: str = "") -> tuple[str, str]:
        """A new app token of the partner: (id, token)."""
        printed = self.manage(
            "create_app_token", "--partner-id", str(PARTNER_ID), "--hash-type", hash_type,
            "--privileges", privileges,
        )  # fmt: skip
        token_id, token = printed.split()
        return token_id, token

    def credentials(self) -> Credentials:
        return Credentials(auth=ADMIN_SECRET, admin_secret=self.admin_secret, user_id="sync")

    def token_credentials(self, hash_type: str = "SHA256") -> Credentials:
        token_id, token = self.app_token(hash_type)
        return Credentials(auth=APP_TOKEN, app_token_id=token_id, app_token=token, hash_type=hash_type)

    def client(self, credentials: Credentials | None = None, **options: Any) -> KalturaClient:
        return KalturaClient(self.url, PARTNER_ID, credentials or self.credentials(), **options)

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def _wipe_statements() -> Iterator[str]:
    """SQL from the models' own relations, so a table that comes to point at events or resources
    is wiped too."""
    for model in WIPED:
        table = model._meta.db_table
        owned = f"SELECT id FROM {table} WHERE partner_id = :partner"
        for relation in model._meta.related_objects:
            column = relation.field.column
            if relation.related_model is model:  # a parent or a link: unhooked, then deleted below
                yield f"UPDATE {table} SET {column} = NULL WHERE partner_id = :partner"
            else:
                yield f"DELETE FROM {relation.related_model._meta.db_table} WHERE {column} IN ({owned})"
    for model in WIPED:
        yield f"DELETE FROM {model._meta.db_table} WHERE partner_id = :partner"


def _environment(database: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in PRIVATE and not k.startswith("PG")}
    env.update(
        DATABASE_URL=f"sqlite:///{database}", DEBUG="false", HTTPS="false", SECRET_KEY=secrets.token_hex(32),
        ALLOWED_HOSTS="127.0.0.1,localhost", DB_CONN_MAX_AGE="0",
    )  # fmt: skip
    return env


@pytest.fixture(scope="session")
def upstream(tmp_path_factory) -> Iterator[Upstream]:
    server = Upstream(tmp_path_factory.mktemp("upstream"))
    try:
        server.prepare()
        server.start()
        yield server
    finally:
        server.stop()


class Recorder(httpx.BaseTransport):
    """A real transport that notes the path of every request, to count round trips."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.paths: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()

    def count(self, action: str) -> int:
        return sum(path.endswith(action) for path in self.paths)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def client(upstream, recorder) -> Iterator[KalturaClient]:
    """An admin-secret client of the upstream, its requests recorded."""
    kaltura = upstream.client(transport=recorder)
    yield kaltura
    kaltura.close()
