"""The health check of a kept PostgreSQL connection (scheduler_site/postgresql/base.py) on the
stack's own PostgreSQL: a connection the server ended is found unusable without a query, and a
healthy one is kept."""

from __future__ import annotations

import time
from collections.abc import Iterator

import dj_database_url
import psycopg
import pytest
from django.db.utils import ConnectionHandler, OperationalError

from tests.stack.running import RunningStack, eventually


@pytest.fixture
def kept(stack: RunningStack, django_db_blocker) -> Iterator:
    """A connection of this server's backend to the stack's database, as a web process keeps one
    (not the test database, which pytest-django guards)."""
    url = stack.settings["DATABASE_URL"]
    kept_for = dj_database_url.parse(url, conn_max_age=600, conn_health_checks=True)
    handler = ConnectionHandler({"default": {**kept_for, "ENGINE": "scheduler_site.postgresql"}})
    wrapper = handler["default"]
    with django_db_blocker.unblock():
        wrapper.ensure_connection()
        yield wrapper
        wrapper.close()


def backend_of(wrapper) -> int:
    return wrapper.connection.info.backend_pid


def test_a_healthy_idle_connection_is_kept_without_a_query(stack, kept):
    statements_before = _statements(stack, backend_of(kept))
    for _ in range(3):
        assert kept.is_usable()
    assert _statements(stack, backend_of(kept)) == statements_before


def test_a_connection_the_server_ended_is_found_unusable_and_replaced(stack, kept):
    ended = backend_of(kept)
    assert stack.sql("SELECT pg_terminate_backend(%s)", (ended,)) == [(True,)]
    began = time.monotonic()
    eventually(lambda: not kept.is_usable(), "the ended connection found unusable", wait=5)
    assert time.monotonic() - began < 1
    kept.close_if_unusable_or_obsolete()  # what Django does as a request starts...
    kept.close_if_health_check_failed()  # ...and before its first query
    with kept.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)
    assert backend_of(kept) != ended


def _statements(stack: RunningStack, backend: int) -> str:
    """What the backend last ran (pg_stat_activity.query): unchanged if it ran nothing since."""
    with psycopg.connect(stack.settings["DATABASE_URL"], autocommit=True) as other:
        found = other.execute("SELECT query, query_start FROM pg_stat_activity WHERE pid = %s", (backend,))
        row = found.fetchone()
    assert row is not None
    return f"{row[0]} @ {row[1]}"


def test_a_statement_over_the_web_processes_timeout_is_cancelled(stack, django_db_blocker):
    """The web processes' DB_STATEMENT_TIMEOUT (scheduler_site/production.py) stands in for a
    request timeout: a runaway query gives its thread back."""
    url = stack.settings["DATABASE_URL"]
    options = {"options": "-c statement_timeout=1000"}  # what settings.py makes of DB_STATEMENT_TIMEOUT=1
    handler = ConnectionHandler({"default": {**dj_database_url.parse(url), "OPTIONS": options}})
    with django_db_blocker.unblock(), handler["default"].cursor() as cursor:
        began = time.monotonic()
        with pytest.raises(OperationalError, match="statement timeout"):
            cursor.execute("SELECT pg_sleep(10)")
        assert time.monotonic() - began < 3
