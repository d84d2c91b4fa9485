"""`manage.py capture_device`: the reference capture device (docs/devices.md). It talks to a
server over HTTP only, with the official Kaltura client, as an appliance in a lecture hall
would; the work is in calendar_app/capture_device/, this is its command line.

The client (`KalturaApiClient`) is an optional extra, `pip install -e '.[device]'`: a server
never needs it, and a device machine needs nothing else of the server's dependencies but httpx
and icalendar.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Run a capture device: poll a resource's schedule, record its bookings, upload them."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", required=True, help="the server, e.g. http://127.0.0.1:8000")
        parser.add_argument("--partner-id", type=int, required=True)
        parser.add_argument("--app-token-id", required=True)
        parser.add_argument("--app-token", required=True, help="the token value create_app_token printed")
        parser.add_argument("--hash-type", default="SHA256", help="the token's: MD5, SHA1, SHA256, SHA512")
        parser.add_argument("--resource-id", type=int, required=True, help="the camera or room it records")
        parser.add_argument("--work-dir", type=Path, default=Path("var/capture-device"))
        parser.add_argument("--poll-seconds", type=float, default=60.0)
        parser.add_argument("--chunk-bytes", type=int, default=1024 * 1024)
        parser.add_argument("--once", action="store_true", help="one pass (poll, start, upload), then exit")
        parser.add_argument("--until", help="stop at this time (ISO 8601; UTC unless it says)")

    def handle(self, *args, **options) -> None:
        clock, loop, session = _device_modules()
        settings = loop.Settings(
            url=options["url"].rstrip("/"),
            app_token=session.AppToken(
                partner_id=options["partner_id"],
                id=options["app_token_id"],
                token=options["app_token"],
                hash_type=_hash_type(options["hash_type"], session.HASH_TYPES),
            ),
            resource_id=options["resource_id"],
            work_dir=Path(options["work_dir"]),
            poll_seconds=_positive(options["poll_seconds"], "--poll-seconds"),
            chunk_bytes=int(_positive(options["chunk_bytes"], "--chunk-bytes")),
        )
        until = _moment(options["until"]) if options["until"] else None
        with _logging_to(self.stdout):
            try:
                loop.run(settings, clock.SystemClock(), until=until, once=options["once"])
            except KeyboardInterrupt:
                self.stdout.write("stopped")


def _device_modules():
    try:
        from calendar_app.capture_device import clock, loop, session
    except ImportError as missing:
        raise CommandError(
            f"capture_device needs the official Kaltura client ({missing.name} is missing): "
            "pip install -e '.[device]' (or: pip install KalturaApiClient==23.10.0 lxml)"
        ) from None
    return clock, loop, session


@contextlib.contextmanager
def _logging_to(stream) -> Iterator[None]:
    # One line per step, to the command's stdout: a device is watched through its log.
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    logger = logging.getLogger("calendar_app.capture_device")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    propagated, logger.propagate = logger.propagate, False  # else the console logger repeats each line
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagated


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(str(text))
    except ValueError:
        raise CommandError(f"--until must be an ISO 8601 time (2030-05-08T10:30Z), not {text!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _hash_type(value: str, known: tuple[str, ...]) -> str:
    if str(value).upper() not in known:
        raise CommandError(f"--hash-type must be one of {', '.join(known)}")
    return str(value).upper()


def _positive(value: float, option: str) -> float:
    # Checked here, not by argparse: call_command skips the parser for optional arguments.
    if float(value) <= 0:
        raise CommandError(f"{option} must be more than 0")
    return float(value)
