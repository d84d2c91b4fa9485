"""Real places on loopback for what reaches a remote location (calendar_app/remote_locations.py):
drop folders read them, publish targets write them. The session's servers (drop_servers.py:
sshd, pyftpdlib, moto) as fixtures, and a location pointed at a fresh directory or bucket of its
kind's server (`fixture_<name>` is the fixture `<name>`, as in tests/background.py)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from calendar_app.models import RemoteLocation
from tests.imports import drop_servers

KINDS = ["local", "sftp", "ftp", "s3"]
S3_KEYS = {"aws_access_key_id": "drop", "aws_secret_access_key": "drop-secret", "region_name": "us-east-1"}


@pytest.fixture(scope="session", name="remote_root")
def fixture_remote_root(tmp_path_factory) -> Path:
    """Local, SFTP and FTP places are directories under this one (the FTP users' root)."""
    return tmp_path_factory.mktemp("remote")


@pytest.fixture(scope="session", name="sshd")
def fixture_sshd(tmp_path_factory) -> Iterator[drop_servers.Sshd]:
    with drop_servers.sshd(tmp_path_factory.mktemp("sshd")) as server:
        yield server


@pytest.fixture(scope="session", name="ftp_port")
def fixture_ftp_port(remote_root) -> Iterator[int]:
    with drop_servers.ftp_server(remote_root) as port:
        yield port


@pytest.fixture(scope="session", name="s3_endpoint")
def fixture_s3_endpoint() -> Iterator[str]:
    with drop_servers.s3_server() as endpoint:
        yield endpoint


@dataclass
class Place:
    """The test's own hands on the place behind a location."""

    directory: Path | None = None  # local, SFTP, FTP
    s3: Any = None
    bucket: str = ""


def point_at(
    request, location: RemoteLocation, *, prefix: str, below: str = "", create: bool = True
) -> Place:
    """Point `location` at a fresh directory (`below` a new folder; made unless `create` is
    false) or a fresh bucket with key prefix `prefix` on its kind's server. What a test already
    set on it (a port, a user, a bucket) is kept."""
    if location.kind == RemoteLocation.Kind.S3:
        endpoint = request.getfixturevalue("s3_endpoint")
        s3 = boto3.client("s3", endpoint_url=endpoint, **S3_KEYS)
        bucket = f"{prefix}-{uuid.uuid4().hex[:12]}"
        s3.create_bucket(Bucket=bucket)
        location.bucket, location.prefix = location.bucket or bucket, prefix
        location.endpoint_url = location.endpoint_url or endpoint
        location.username, location.password = S3_KEYS["aws_access_key_id"], S3_KEYS["aws_secret_access_key"]
        location.region = S3_KEYS["region_name"]
        return Place(s3=s3, bucket=bucket)
    name = uuid.uuid4().hex[:12] + (f"/{below}" if below else "")
    directory = request.getfixturevalue("remote_root") / name
    if create:
        directory.mkdir()
    if location.kind == RemoteLocation.Kind.LOCAL:
        location.path = location.path or str(directory)
    elif location.kind == RemoteLocation.Kind.SFTP:
        server = request.getfixturevalue("sshd")
        location.host, location.port = "127.0.0.1", location.port or server.port
        location.username, location.private_key, location.path = (
            server.user,
            server.private_key,
            str(directory),
        )
    elif location.kind == RemoteLocation.Kind.FTP:
        location.host, location.port = "127.0.0.1", location.port or request.getfixturevalue("ftp_port")
        location.username = location.username or "drop"
        location.password = drop_servers.FTP_USERS[location.username][0]
        location.path = f"/{name}"
    return Place(directory=directory)
