"""The upstream Kaltura for sync tests: a second live instance of this server, in its own process
(granian, as deployed) on its own SQLite file, whatever database the suite itself runs on.

One for the whole session: migrating a fresh database costs seconds. Tests share its partner
4242 and start clean with `upstream.wipe()`. `stop()` and `start()` take it away and bring it
back on the same port and database, for tests of an upstream that goes away; `pause()` and
`resume()` freeze it, for one that hangs.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from bench._server import UpstreamServer
from calendar_app.models import Entry, KalturaConnection, ScheduleEvent, ScheduleResource, UploadToken
from calendar_app.sync.client import ADMIN_SECRET, APP_TOKEN, Credentials, KalturaClient

PARTNER_ID = UpstreamServer.partner_id
WIPED = (ScheduleEvent, ScheduleResource, Entry, UploadToken)


class Upstream(UpstreamServer):
    """The process (bench/_server.py, which bench/sync.py shares), and what tests do with it."""

    def __init__(self, folder, **options: Any) -> None:
        super().__init__(folder, **options)
        self.media = folder / "media"  # the files pushed to it, beside its database
        self.env["MEDIA_ROOT"] = str(self.media)

    def sql(self, statement: str, *params: Any) -> list[tuple]:
        """A statement on its database, for what its API does not set (a partner's settings)."""
        db = sqlite3.connect(self.database, timeout=20)
        try:
            with db:
                return db.execute(statement, params).fetchall()
        finally:
            db.close()

    def wipe(self) -> None:
        """Deletes every event, link, resource, entry and upload token of the partner, straight in
        its SQLite file: a manage.py process would cost a second or two per test. Rows that point
        at them go first; with foreign keys enforced, one this misses fails the commit rather
        than dangling."""
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


def _wipe_statements() -> Iterator[str]:
    """SQL from the models' own relations, so a table that comes to point at events, resources
    or entries is wiped too."""
    for model in WIPED:
        table = model._meta.db_table
        owned = f"SELECT id FROM {table} WHERE partner_id = :partner"
        for relation in model._meta.related_objects:
            if relation.many_to_many:  # a table of pairs (a publish target's resources)
                through = relation.through._meta.db_table
                yield f"DELETE FROM {through} WHERE {relation.field.m2m_reverse_name()} IN ({owned})"
                continue
            column = relation.field.column
            if relation.related_model is model:  # a parent or a link: unhooked, then deleted below
                yield f"UPDATE {table} SET {column} = NULL WHERE partner_id = :partner"
            else:
                yield f"DELETE FROM {relation.related_model._meta.db_table} WHERE {column} IN ({owned})"
    for model in WIPED:
        yield f"DELETE FROM {model._meta.db_table} WHERE partner_id = :partner"


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
def linked(upstream, partner) -> KalturaConnection:
    """The test partner (tests/conftest.py) syncing to a wiped upstream."""
    upstream.wipe()
    return KalturaConnection.objects.create(
        partner=partner, service_url=upstream.url, upstream_partner_id=upstream.partner_id,
        admin_secret=upstream.admin_secret, enabled=True,
    )  # fmt: skip


@pytest.fixture
def theirs(upstream) -> Iterator[KalturaClient]:
    """A client of the upstream, to look at what was pushed."""
    client = upstream.client()
    yield client
    client.close()


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def client(upstream, recorder) -> Iterator[KalturaClient]:
    """An admin-secret client of the upstream, its requests recorded."""
    kaltura = upstream.client(transport=recorder)
    yield kaltura
    kaltura.close()
