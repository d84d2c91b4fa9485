"""A server for a benchmark over HTTP: a free loopback port, and waiting until it answers."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable

import httpx


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
