"""The production stack (scripts/stack.py) for a benchmark or a test: a STACK_DIR of its own, free
loopback ports, started and stopped with the same environment, and what its start printed.

    with ProductionStack(web_servers=2) as stack:           # a temporary STACK_DIR, free ports
        stack.url(), stack.partner_id, stack.admin_secret, stack.password, stack.ssl_context()
        stack.part("stop-part", "redis"); stack.pids(); stack.manage("shell", "-c", "...")
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import ssl
import subprocess
import sys
import tempfile
from pathlib import Path

from _server import ROOT, ServerFailed, free_port

USERNAME = "admin"  # seed_demo's
START_TIMEOUT = 300.0  # initdb, migrate and seed_demo on a loaded machine


class ProductionStack:
    """`folder` is the stack's STACK_DIR; by default a temporary folder, removed by `stop()`. A
    folder of the caller's must be one the postgres user can reach (stack.py runs PostgreSQL as
    that user when it is root): pytest's tmp_path is not. `knobs` are more of scripts/stack.py's
    variables (STACK_WEB_WORKERS="3", ...)."""

    def __init__(
        self, folder: Path | None = None, *, web_servers: int = 1, workers: int = 1, tls: bool = True,
        **knobs: str,
    ) -> None:  # fmt: skip
        self.temporary = folder is None
        if folder is None:
            folder = Path(tempfile.mkdtemp(prefix="stack-"))
            folder.chmod(0o755)  # mkdtemp's 700 would keep the postgres user out
        self.folder = folder
        self.web_ports = [free_port() for _ in range(web_servers)]
        self.tls = tls
        self.password = secrets.token_urlsafe(12)
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("STACK_")},
            "STACK_DIR": str(folder), "HOST": "127.0.0.1",
            "STACK_WEB_PORTS": " ".join(map(str, self.web_ports)), "STACK_WORKERS": str(workers),
            "STACK_PG_PORT": str(free_port()), "STACK_REDIS_PORT": str(free_port()),
            "STACK_TLS": "true" if tls else "false", "DEMO_ADMIN_PASSWORD": self.password, **knobs,
        }  # fmt: skip
        self.partner_id, self.admin_secret, self.output = 0, "", ""

    def __enter__(self) -> ProductionStack:
        try:
            self.start()
        except BaseException:
            self.stop()  # what did start (PostgreSQL, Redis, ...) must not outlive a failed start
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        self.output = self.part("start")
        self.partner_id = int(_printed(self.output, "Partner id"))
        self.admin_secret = _printed(self.output, "Admin secret")

    def stop(self) -> None:
        try:
            self.part("stop")
        finally:
            if self.temporary:
                shutil.rmtree(self.folder, ignore_errors=True)

    def part(self, command: str, *args: str) -> str:
        """scripts/stack.py `command` (start, stop, stop-part NAME, ...) on this stack; its output."""
        done = subprocess.run(
            [sys.executable, "scripts/stack.py", command, *args], cwd=ROOT, env=self.env,
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=START_TIMEOUT,
        )  # fmt: skip
        if done.returncode != 0:
            raise ServerFailed(f"stack.py {command} {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
        return done.stdout

    def url(self, server: int = 0) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.web_ports[server]}"

    @property
    def cert(self) -> Path:
        return self.folder / "tls" / "cert.pem"

    def ssl_context(self) -> ssl.SSLContext | None:
        """Trusts the stack's self-signed certificate (and only it); None without TLS."""
        return ssl.create_default_context(cafile=self.cert) if self.tls else None

    def pids(self) -> dict[str, int]:
        """Each running part's pid (it leads its process group and session), by name; PostgreSQL's
        postmaster too (pg_ctl starts it in a session of its own)."""
        found = {}
        for path in [
            *sorted((self.folder / "run").glob("*.pid")),
            self.folder / "pg" / "data" / "postmaster.pid",
        ]:
            try:
                found[path.stem.replace("postmaster", "postgres")] = int(path.read_text().split()[0])
            except (OSError, IndexError, ValueError):
                continue  # stopped while we looked
        return found

    @property
    def settings(self) -> dict[str, str]:
        """The environment its processes run with ($STACK_DIR/env)."""
        return dict(_env_line(line) for line in (self.folder / "env").read_text().splitlines() if line)

    def manage(self, *args: str) -> str:
        """`manage.py <args>` with the stack's environment ($STACK_DIR/env); its stdout."""
        values = self.settings
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "STACK_"))}
        env.pop("SQLITE_TEST_NAME", None)
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env={**env, **values},
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise AssertionError(f"manage.py {args[0]} failed on the stack:\n{done.stdout}{done.stderr}")
        return done.stdout


def _printed(output: str, label: str) -> str:
    found = re.search(rf"^{label}:\s+(\S+)", output, re.MULTILINE)
    if found is None:
        raise ServerFailed(f"the stack's start did not print {label!r}:\n{output}")
    return found.group(1)


def _env_line(line: str) -> tuple[str, str]:
    # stack.py writes KEY='value' with ' as '\'' (a shell's quoting)
    key, _, value = line.partition("=")
    return key, value[1:-1].replace("'\\''", "'") if value.startswith("'") else value
