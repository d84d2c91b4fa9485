"""`manage.py kaltura_connect`: point a partner at its upstream Kaltura account, test the
connection, and turn sync on or off. Idempotent: run again to change any setting.

A secret given as "-" is read from standard input, so it stays out of the process list and the
shell history: `printf %s "$SECRET" | manage.py kaltura_connect ... --admin-secret -`.
"""

from __future__ import annotations

import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from calendar_app import clock
from calendar_app.models import AppToken, EventType, KalturaConnection, Partner
from calendar_app.sync import connection as connections


class Command(BaseCommand):
    help = "Connect a partner to an upstream Kaltura, test it, and turn sync on or off."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--partner-id", type=int, required=True, help="the local partner")
        parser.add_argument("--url", help="the upstream service URL, e.g. https://www.kaltura.com")
        parser.add_argument("--upstream-partner-id", type=int)
        parser.add_argument("--admin-secret", help='the upstream admin secret ("-": read stdin)')
        parser.add_argument("--user-id", help="the user the admin sessions act as")
        parser.add_argument("--app-token-id")
        parser.add_argument("--app-token", help='the app token value ("-": read stdin)')
        parser.add_argument("--hash-type", choices=AppToken.HashType.values)
        parser.add_argument("--event-types", help="comma list of event types to push (1-4); empty: all")
        parser.add_argument("--resources", action="store_true", default=None, help="push resources (default)")
        parser.add_argument("--no-resources", dest="resources", action="store_false")
        parser.add_argument(
            "--enable", dest="enabled", action="store_true", default=None, help="turn sync on"
        )
        parser.add_argument("--disable", dest="enabled", action="store_false")
        parser.add_argument("--no-test", dest="test", action="store_false", help="do not test the connection")

    def handle(self, *args, partner_id: int, **options) -> None:
        partner = Partner.objects.filter(pk=partner_id).first()
        if partner is None:
            raise CommandError(f"no partner {partner_id}")
        connection = KalturaConnection.objects.filter(partner=partner).first() or KalturaConnection(
            partner=partner
        )
        _apply(connection, options)
        try:
            connection.full_clean()
        except ValidationError as error:
            raise CommandError(
                "; ".join(f"{k}: {' '.join(v)}" for k, v in error.message_dict.items())
            ) from None
        connection.updated_at = clock.now()
        connection.save()
        self.stdout.write(
            f"partner {partner_id} -> {connection} (sync {'on' if connection.enabled else 'off'})"
        )
        if options["test"]:
            tested = connections.test(connection)
            self.stdout.write(("ok: " if tested.ok else "FAILED: ") + tested.message)
            if not tested.ok:
                raise CommandError("the connection test failed")


def _apply(connection: KalturaConnection, options: dict) -> None:
    simple = {"url": "service_url", "upstream_partner_id": "upstream_partner_id", "user_id": "user_id",
              "app_token_id": "app_token_id", "hash_type": "app_token_hash_type",
              "resources": "sync_resources", "enabled": "enabled"}  # fmt: skip
    for option, attr in simple.items():
        if options.get(option) is not None:
            setattr(connection, attr, options[option])
    for option in ("admin_secret", "app_token"):
        if options.get(option) is not None:
            setattr(connection, option, _secret(options[option]))
    if options.get("admin_secret") is not None:
        connection.auth = KalturaConnection.Auth.ADMIN_SECRET
    if options.get("app_token") is not None or options.get("app_token_id") is not None:
        connection.auth = KalturaConnection.Auth.APP_TOKEN
    if options.get("event_types") is not None:
        connection.event_types = _event_types(options["event_types"])


def _secret(value: str) -> str:
    return sys.stdin.readline().strip() if value == "-" else value


def _event_types(text: str) -> list[int]:
    try:
        types = sorted({int(t) for t in text.split(",") if t.strip()})
    except ValueError:
        raise CommandError(f"--event-types must be a comma list of numbers, got {text!r}") from None
    unknown = [t for t in types if t not in EventType.values]
    if unknown:
        raise CommandError(f"unknown event types {unknown}: use {EventType.values}")
    return types
