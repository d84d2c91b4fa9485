"""Connections to a RemoteLocation (models: a drop folder's or a publish target's place): an SFTP
server whose host key is pinned, an FTP server, an S3 bucket; and where a place is, for people.
Drop folders read through these (imports/drop_folders.py), schedule publishing writes through
them (publishing/files.py).
"""

from __future__ import annotations

import base64
import ftplib
import io
from typing import Self

import boto3
import paramiko
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from calendar_app.models import RemoteLocation

TIMEOUT = 10  # seconds to connect, and to wait on a reply
# The exceptions by which each kind of place says it cannot be reached or refuses an operation.
SFTP_FAILURES: tuple[type[BaseException], ...] = (OSError, EOFError, paramiko.SSHException)
FTP_FAILURES: tuple[type[BaseException], ...] = ftplib.all_errors
S3_FAILURES: tuple[type[BaseException], ...] = (BotoCoreError, ClientError)


class Connection:
    """A session with one place, as a context manager: connects on enter (a subclass's), closes
    on exit. `failures` are the exceptions by which the place says it cannot be reached or
    refuses an operation; anything else is a bug, not a place's error. `learnt` holds fields of
    the place learnt while connecting (SFTP's host key), for the caller to save."""

    failures: tuple[type[BaseException], ...] = (OSError,)

    def __init__(self, place: RemoteLocation):
        self.place = place
        self.learnt: dict[str, str] = {}

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        pass


def open_sftp(place: RemoteLocation) -> tuple[paramiko.SSHClient, paramiko.SFTPClient, dict[str, str]]:
    """A connected SSH client, its SFTP session, and the fields learnt (open_ssh); the client is
    closed again when the session cannot be opened."""
    client, learnt = open_ssh(place)
    try:
        return client, client.open_sftp(), learnt
    except BaseException:
        client.close()
        raise


def open_ssh(place: RemoteLocation) -> tuple[paramiko.SSHClient, dict[str, str]]:
    """A connected SSH client, and the fields of `place` learnt while connecting (the host key
    offered at a first connection), for the caller to save."""
    client = paramiko.SSHClient()
    try:
        _trust_host_key(client, place)
        client.connect(
            place.host, port=place.port or 22, username=place.username,
            password=place.password or None, pkey=private_key(place.private_key),
            timeout=TIMEOUT, banner_timeout=TIMEOUT, auth_timeout=TIMEOUT,
            allow_agent=False, look_for_keys=False,
        )  # fmt: skip
    except BaseException:
        client.close()
        raise
    return client, _learnt_host_key(client, place)


def _known_as(place: RemoteLocation) -> str:
    port = place.port or 22
    return place.host if port == 22 else f"[{place.host}]:{port}"


def _trust_host_key(client: paramiko.SSHClient, place: RemoteLocation) -> None:
    # Trust on first use: with no key recorded, the one offered is accepted and recorded; from
    # then on a different key is refused (a man in the middle, or a reinstalled server).
    if not place.host_key:
        client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
        return
    key_type, key_data = (place.host_key.split() + [""])[:2]
    try:
        key = paramiko.PKey.from_type_string(key_type, base64.b64decode(key_data))
    except (ValueError, paramiko.SSHException) as error:
        raise paramiko.SSHException(f"the recorded host key is not a valid public key: {error}") from None
    client.get_host_keys().add(_known_as(place), key_type, key)
    client.set_missing_host_key_policy(paramiko.RejectPolicy())


def _learnt_host_key(client: paramiko.SSHClient, place: RemoteLocation) -> dict[str, str]:
    if place.host_key:
        return {}
    transport = client.get_transport()
    assert transport is not None  # connected
    key = transport.get_remote_server_key()
    return {"host_key": f"{key.get_name()} {key.get_base64()}"}


def private_key(text: str) -> paramiko.PKey | None:
    if not text.strip():
        return None
    for key_class in (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey):
        try:
            return key_class.from_private_key(io.StringIO(text))
        except (ValueError, paramiko.SSHException):
            continue
    raise paramiko.SSHException("the private key is not an unencrypted Ed25519, ECDSA or RSA key")


def open_ftp(place: RemoteLocation) -> ftplib.FTP:
    """Connected and logged in, in the login directory."""
    ftp = ftplib.FTP(timeout=TIMEOUT)
    try:
        ftp.connect(place.host, place.port or 21)
        ftp.login(place.username or "anonymous", place.password)
    except BaseException:
        ftp.close()
        raise
    return ftp


def close_ftp(ftp: ftplib.FTP) -> None:
    try:
        ftp.quit()
    except ftplib.all_errors:
        ftp.close()


def s3_client(place: RemoteLocation):
    # A session per client: boto3's default session is shared and not thread-safe.
    return boto3.session.Session().client(
        "s3", endpoint_url=place.endpoint_url or None, region_name=place.region or None,
        aws_access_key_id=place.username or None, aws_secret_access_key=place.password or None,
        config=Config(
            connect_timeout=TIMEOUT, read_timeout=TIMEOUT,
            retries={"mode": "standard", "total_max_attempts": 2},
        ),
    )  # fmt: skip


def s3_prefix(place: RemoteLocation) -> str:
    """The key prefix as a "folder": "a/b/", or "" for the bucket's top."""
    return place.prefix.strip("/") + "/" if place.prefix.strip("/") else ""


def location(place: RemoteLocation) -> str:
    """Where the place is, for people: never with its password."""
    if place.kind == RemoteLocation.Kind.LOCAL:
        return place.path
    if place.kind == RemoteLocation.Kind.S3:
        where = f"s3://{place.bucket}/{place.prefix.lstrip('/')}"
        return f"{where} at {place.endpoint_url}" if place.endpoint_url else where
    user = f"{place.username}@" if place.username else ""
    port = f":{place.port}" if place.port else ""
    path = "/" + place.path.lstrip("/") if place.path else ""
    return f"{place.kind}://{user}{place.host}{port}{path}"


def describe(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
