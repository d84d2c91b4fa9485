"""The production stack as `make stack` starts it (scripts/stack.py), for tests: PostgreSQL, Redis,
gunicorn servers on their own ports with HTTPS, Celery workers and beat, in a folder of the test's
own, on free ports. Parts can be stopped and started again (`stop_part`, `start_part`) to inject
faults; `sql` reads the stack's database directly, to see what was written.
"""

from __future__ import annotations

import os
import re
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psycopg
from KalturaClient import KalturaClient, KalturaConfiguration
from KalturaClient.Plugins.Core import KalturaSessionType

from bench._server import free_port

ROOT = Path(__file__).resolve().parents[2]
WAIT = 60.0  # seconds for something the stack does in well under one


class RunningStack:
    """A stack in a new folder under the system's temporary folder (not pytest's, which only its
    owner may enter: PostgreSQL runs as the postgres user). `remove()` deletes it once stopped."""

    def __init__(
        self, *, web_servers: int = 2, workers: int = 2, extra_env: dict[str, str] | None = None
    ) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="stack-test-"))
        self.folder.chmod(0o711)
        self.web_ports = [free_port() for _ in range(web_servers)]
        self.environ = {
            "STACK_DIR": str(self.folder), "STACK_WEB_PORTS": " ".join(map(str, self.web_ports)),
            "STACK_WORKERS": str(workers), "STACK_PG_PORT": str(free_port()),
            "STACK_REDIS_PORT": str(free_port()), "STACK_WEB_WORKERS": "2", "STACK_WEB_THREADS": "4",
            "DEMO_ADMIN_PASSWORD": "stack-admin-password",
        }  # fmt: skip
        # Settings for every process of the stack (e.g. shorter recovery timeouts for a test).
        self.environ.update(extra_env or {})
        self.output = ""

    # ------------------------------------------------------------ lifecycle

    def script(self, *args: str, check: bool = True) -> str:
        env = {key: value for key, value in os.environ.items() if not key.startswith(("STACK_", "PG"))}
        env.pop("DATABASE_URL", None)
        done = subprocess.run(
            [sys.executable, "scripts/stack.py", *args], cwd=ROOT, env={**env, **self.environ},
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        if check and done.returncode != 0:
            raise AssertionError(f"stack.py {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
        return done.stdout + done.stderr

    def start(self) -> None:
        self.output = self.script("start")

    def stop(self) -> None:
        self.script("stop", check=False)

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def stop_part(self, name: str) -> None:
        self.script("stop-part", name)

    def start_part(self, name: str) -> None:
        self.script("start-part", name)

    # ------------------------------------------------------------ what it is

    @property
    def env(self) -> dict[str, str]:
        """The environment its processes run with ($STACK_DIR/env)."""
        values = {}
        for line in (self.folder / "env").read_text().splitlines():
            key, _, quoted = line.partition("=")
            values[key] = quoted[1:-1].replace("'\\''", "'")
        return values

    @property
    def cert(self) -> str:
        return str(self.folder / "tls" / "cert.pem")

    def url(self, server: int = 0) -> str:
        return f"https://127.0.0.1:{self.web_ports[server]}"

    def credentials(self) -> tuple[int, str]:
        partner = re.search(r"Partner id:\s+(\d+)", self.output)
        secret = re.search(r"Admin secret:\s+(\S+)", self.output)
        assert partner and secret, self.output
        return int(partner[1]), secret[1]

    def pid(self, name: str) -> int:
        return int((self.folder / "run" / f"{name}.pid").read_text().split()[0])

    def log(self, name: str) -> str:
        path = self.folder / ("pg/postgres.log" if name == "postgres" else f"log/{name}.log")
        return path.read_text(errors="replace")

    # ------------------------------------------------------------ talking to it

    def http(self, server: int = 0, **options: Any) -> httpx.Client:
        trust = ssl.create_default_context(cafile=self.cert)
        return httpx.Client(base_url=self.url(server), verify=trust, timeout=30, **options)

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

    def sign_in(self, client: httpx.Client, password: str = "stack-admin-password") -> httpx.Client:
        """A staff browser's session: the login form with its CSRF token."""
        page = client.get("/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)[1]
        form = {"username": "admin", "password": password, "csrfmiddlewaretoken": token}
        answer = client.post(
            "/accounts/login/", data=form, headers={"Referer": f"{client.base_url}/accounts/login/"}
        )
        assert answer.status_code == 302, answer.text[:500]
        return client

    def sql(self, query: str, params: tuple = ()) -> list[tuple]:
        with psycopg.connect(self.env["DATABASE_URL"], connect_timeout=5) as connection:
            return connection.execute(query, params).fetchall()

    def manage(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env={**_clean_environ(), **self.env},
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout


def _clean_environ() -> dict[str, str]:
    drop = ("DATABASE_URL", "REDIS_URL", "SQLITE_TEST_NAME", "TASK_QUEUE_DIR")
    return {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("PG")}


def eventually(check: Callable[[], Any], what: str, wait: float = WAIT) -> Any:
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"{what} did not happen within {wait} s")


@contextmanager
def trusting(cert: str) -> Iterator[None]:
    """requests (the official client's HTTP library) trusts `cert` while this lasts."""
    before = os.environ.get("REQUESTS_CA_BUNDLE")
    os.environ["REQUESTS_CA_BUNDLE"] = cert
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("REQUESTS_CA_BUNDLE", None)
        else:
            os.environ["REQUESTS_CA_BUNDLE"] = before
