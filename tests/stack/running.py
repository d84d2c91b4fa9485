"""The production stack as `make stack` starts it (scripts/stack.py), for tests: PostgreSQL, Redis,
granian servers on their own ports with HTTPS, Celery workers and beat, in a folder of the test's
own, on free ports. Parts can be stopped and started again (`stop_part`, `start_part`) to inject
faults; `sql` reads the stack's database directly, to see what was written.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psycopg
from KalturaClient import KalturaClient, KalturaConfiguration
from KalturaClient.Plugins.Core import KalturaSessionType

ROOT = Path(__file__).resolve().parents[2]
# The benches import each other as scripts do (bench/ on the path): so does this, so that _stack's
# ServerFailed is the one caught here. Last on the path: nothing of bench/ shadows a package.
sys.path.append(str(ROOT / "bench"))
from _server import ServerFailed  # noqa: E402
from _stack import ProductionStack  # noqa: E402

from tests.background import eventually  # noqa: E402, F401 (the stack tests' import of it)


class RunningStack(ProductionStack):
    """bench/_stack.py's stack (a temporary STACK_DIR the postgres user may enter, free ports),
    with what tests ask of it. `extra_env`: settings for every process of the stack (e.g. shorter
    recovery timeouts for a test). `stop()` leaves its folder to look into; `remove()` deletes it."""

    def __init__(
        self, *, web_servers: int = 2, workers: int = 2, extra_env: dict[str, str] | None = None
    ) -> None:
        knobs = {"STACK_WEB_WORKERS": "2", "STACK_WEB_THREADS": "4", **(extra_env or {})}
        super().__init__(web_servers=web_servers, workers=workers, **knobs)
        self.environ = self.env  # what scripts/stack.py and so every process of the stack get

    def script(self, *args: str, check: bool = True) -> str:
        """scripts/stack.py with these arguments; its output (an AssertionError if it fails)."""
        try:
            return self.part(*args)
        except ServerFailed as failed:
            if check:
                raise AssertionError(str(failed)) from None
            return str(failed)

    def stop(self) -> None:
        self.script("stop", check=False)

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def stop_part(self, name: str) -> None:
        self.script("stop-part", name)

    def start_part(self, name: str) -> None:
        self.script("start-part", name)

    # ------------------------------------------------------------ what it is

    def credentials(self) -> tuple[int, str]:
        return self.partner_id, self.admin_secret

    def pid(self, name: str) -> int:
        return int((self.folder / "run" / f"{name}.pid").read_text().split()[0])

    def log(self, name: str) -> str:
        path = self.folder / ("pg/postgres.log" if name == "postgres" else f"log/{name}.log")
        return path.read_text(errors="replace")

    # ------------------------------------------------------------ talking to it

    def http(self, server: int = 0, **options: Any) -> httpx.Client:
        return httpx.Client(base_url=self.url(server), verify=self.ssl_context(), timeout=30, **options)

    def kaltura(self, server: int = 0) -> KalturaClient:
        """The official client with an admin session of the demo partner, through web server
        `server`. It sends with requests, which trusts the stack's certificate through
        REQUESTS_CA_BUNDLE (set by the `stack` fixture)."""
        partner_id, secret = self.credentials()
        config = KalturaConfiguration()
        config.serviceUrl = self.url(server)
        client = KalturaClient(config)
        client.setKs(client.session.start(secret, "admin", KalturaSessionType.ADMIN, partner_id))
        return client

    def sign_in(self, client: httpx.Client) -> httpx.Client:
        """A staff browser's session: the login form with its CSRF token."""
        page = client.get("/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)[1]
        form = {"username": "admin", "password": self.password, "csrfmiddlewaretoken": token}
        answer = client.post(
            "/accounts/login/", data=form, headers={"Referer": f"{client.base_url}/accounts/login/"}
        )
        assert answer.status_code == 302, answer.text[:500]
        return client

    def sql(self, query: str, params: tuple = ()) -> list[tuple]:
        with psycopg.connect(self.settings["DATABASE_URL"], connect_timeout=5) as connection:
            return connection.execute(query, params).fetchall()


@contextmanager
def serving(stack: RunningStack, after_stop: Callable[[], object] = lambda: None) -> Iterator[RunningStack]:
    """`stack` started, its certificate trusted while it is used; stopped (then `after_stop`) and
    its folder removed, always: what a fixture of a stack does."""
    try:
        stack.start()
        with trusting(stack.cert):
            yield stack
    finally:
        stack.stop()
        after_stop()
        stack.remove()


@contextmanager
def trusting(cert: str | Path) -> Iterator[None]:
    """requests (the official client's HTTP library) trusts `cert` while this lasts."""
    before = os.environ.get("REQUESTS_CA_BUNDLE")
    os.environ["REQUESTS_CA_BUNDLE"] = str(cert)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("REQUESTS_CA_BUNDLE", None)
        else:
            os.environ["REQUESTS_CA_BUNDLE"] = before
