"""Real servers on loopback for the drop folder tests: Debian's OpenSSH sshd (SFTP), pyftpdlib
(FTP) and moto's S3 server. Each runs for the test session; tests use their own directory or
bucket in it. Nothing here fakes a protocol."""

from __future__ import annotations

import contextlib
import getpass
import logging
import os
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from moto.server import ThreadedMotoServer
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.ioloop import IOLoop
from pyftpdlib.servers import FTPServer

ROOT = Path(__file__).resolve().parents[2]
SSHD = "/usr/sbin/sshd"
FTP_USERS = {"drop": ("drop-secret", "elradfmw"), "blind": ("blind-secret", "elfmw")}  # blind: no read


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen | None = None, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server exited with status {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {seconds} s")


# ---------------------------------------------------------------- SFTP: OpenSSH's sshd


@dataclass(frozen=True)
class Sshd:
    port: int
    user: str
    private_key: str  # the client key, authorised for `user`
    host_key: str  # the server's public key, "ssh-ed25519 AAAA…"


def ensure_sshd() -> None:
    """The CI machine is fresh: install openssh-server when missing (the script is idempotent)."""
    if not os.access(SSHD, os.X_OK):
        subprocess.run([ROOT / "scripts" / "install-test-packages.sh"], check=True)
    # sshd refuses to start without its privilege separation directory, which only the package's
    # service unit creates (in /run, emptied at boot).
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)


def _keypair(path: Path) -> tuple[str, str]:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", path], check=True)
    return path.read_text(), " ".join(path.with_suffix(".pub").read_text().split()[:2])


@contextlib.contextmanager
def sshd(workdir: Path) -> Iterator[Sshd]:
    ensure_sshd()
    _, host_public = _keypair(workdir / "host_key")
    client_private, client_public = _keypair(workdir / "client_key")
    (workdir / "authorized_keys").write_text(client_public + "\n")
    port = free_port()
    config = workdir / "sshd_config"
    config.write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {workdir / 'host_key'}\n"
        f"PidFile {workdir / 'sshd.pid'}\nAuthorizedKeysFile {workdir / 'authorized_keys'}\n"
        "PubkeyAuthentication yes\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
        "PermitRootLogin prohibit-password\nUsePAM no\nStrictModes no\nLogLevel ERROR\n"
        "Subsystem sftp internal-sftp\n"
    )
    log = (workdir / "sshd.log").open("w")
    process = subprocess.Popen([SSHD, "-D", "-e", "-f", config], stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, process)
        yield Sshd(port=port, user=getpass.getuser(), private_key=client_private, host_key=host_public)
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


# ---------------------------------------------------------------- FTP: pyftpdlib


@contextlib.contextmanager
def ftp_server(home: Path) -> Iterator[int]:
    """An FTP server whose users see `home` as their root; yields its port."""
    logging.getLogger("pyftpdlib").setLevel(logging.WARNING)
    authorizer = DummyAuthorizer()
    for user, (password, perm) in FTP_USERS.items():
        authorizer.add_user(user, password, str(home), perm=perm)
    handler = type("DropHandler", (FTPHandler,), {"authorizer": authorizer})
    # A loop of its own: pyftpdlib's default is one per process, which two servers (the drop folder
    # and the publishing tests) would then serve from two threads at once.
    server = FTPServer(("127.0.0.1", 0), handler, ioloop=IOLoop())
    stop = threading.Event()

    def serve() -> None:
        # pyftpdlib's loop is not thread-safe: run it in slices and close it from its own thread.
        while not stop.is_set():
            server.serve_forever(timeout=0.05, blocking=False, handle_exit=False)
        server.close_all()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server.socket.getsockname()[1]
    finally:
        stop.set()
        thread.join(timeout=10)


# ---------------------------------------------------------------- S3: moto's server


@contextlib.contextmanager
def s3_server() -> Iterator[str]:
    """moto's S3 over real HTTP on loopback; yields its endpoint URL."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()
