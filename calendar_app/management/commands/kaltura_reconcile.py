"""`manage.py kaltura_reconcile [--repair] [--prune]`: what differs between this schedule and
the upstream account, as counts and one line per object. Local is the source of truth:
`--repair` pushes the local state of what is missing or different; `--prune` deletes upstream
events no local event stands for (made by others: only reported without it)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from calendar_app.management.commands.kaltura_pull import connection_of
from calendar_app.sync import reconcile
from calendar_app.sync.client import UpstreamError, client_for


class Command(BaseCommand):
    help = "Report (and with --repair/--prune put right) drift from the upstream Kaltura."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--partner-id", type=int, required=True)
        parser.add_argument("--repair", action="store_true", help="push local state where it differs")
        parser.add_argument("--prune", action="store_true", help="delete upstream events not made here")

    def handle(self, *args, partner_id: int, repair: bool, prune: bool, **options) -> None:
        connection = connection_of(partner_id)
        client = client_for(connection)
        try:
            report = reconcile.reconcile(connection, client)
            reconcile.save(connection, report)
            self._print(report)
            if repair:
                self.stdout.write(f"repaired: {reconcile.repair(connection, report)} pushed")
            if prune:
                self.stdout.write(f"pruned: {reconcile.prune(client, report)} upstream events deleted")
        except UpstreamError as error:
            raise CommandError(f"the upstream answered {error.code}: {error.message}") from None

    def _print(self, report: reconcile.Report) -> None:
        checked = reconcile.counted(report.checked)
        self.stdout.write(f"checked {checked or 'nothing'}")
        counts = report.counts()
        self.stdout.write("in step" if not counts else ", ".join(f"{n} {what}" for what, n in counts.items()))
        for drift in report.drifts:
            self.stdout.write(f"  {drift.line()}")
