"""Tests of the production stack (scripts/stack.py) as it runs: its own PostgreSQL, Redis, web
servers and workers, not the test database. They are marked `stack`; `make test` runs them once,
beside the SQLite suite, since the suite's database plays no part in them."""

from __future__ import annotations

import pytest

from tests.stack.running import RunningStack, serving


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/tests/stack/" in str(item.path):
            item.add_marker(pytest.mark.stack)


@pytest.fixture(scope="session")
def stack():
    """Two web servers and two workers sharing one PostgreSQL and one Redis: a test that breaks a
    part must leave it running again."""
    with serving(RunningStack(web_servers=2, workers=2)) as running:
        yield running
