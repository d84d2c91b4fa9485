"""`manage.py kaltura_pull`: copy the upstream account's resources and media and live entries
here, mapped to their upstream ids. Safe to run again: it updates, never duplicates."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from calendar_app.models import KalturaConnection
from calendar_app.sync.client import UpstreamError, client_for
from calendar_app.sync.pull import pull


class Command(BaseCommand):
    help = "Import the upstream Kaltura's resources and entries (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--partner-id", type=int, required=True)

    def handle(self, *args, partner_id: int, **options) -> None:
        connection = connection_of(partner_id)
        try:
            report = pull(connection, client_for(connection))
        except UpstreamError as error:
            raise CommandError(f"the upstream answered {error.code}: {error.message}") from None
        for line in report.lines() or ["nothing upstream"]:
            self.stdout.write(line)


def connection_of(partner_id: int) -> KalturaConnection:
    connection = KalturaConnection.objects.filter(partner_id=partner_id).select_related("partner").first()
    if connection is None:
        raise CommandError(f"partner {partner_id} has no upstream Kaltura: run kaltura_connect first")
    return connection
