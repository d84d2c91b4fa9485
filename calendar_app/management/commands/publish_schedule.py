"""`manage.py publish_schedule [--partner N] [--target ID]`: publish the schedule files now, asked
for or not (for cron users, and tests). Prints one line per target; exits 1 when one failed."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from calendar_app import clock
from calendar_app.models import PublishTarget
from calendar_app.publishing import files as publishing


class Command(BaseCommand):
    help = "Publish the schedule files of the enabled publish targets now."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--partner", type=int, help="only this partner's targets")
        parser.add_argument("--target", type=int, help="only this target (even if disabled)")

    def handle(self, *args, partner: int | None, target: int | None, **options) -> None:
        targets = PublishTarget.objects.all() if target else PublishTarget.objects.filter(enabled=True)
        if partner is not None:
            targets = targets.for_partner(partner)
        if target is not None:
            targets = targets.filter(pk=target)
            if not targets.exists():
                raise CommandError(
                    f"No publish target {target}" + (f" of partner {partner}" if partner else "")
                )
        failed = 0
        for pk, outcome in publishing.publish_now(targets, clock.now()).items():
            self.stdout.write(f"target {pk}: {_summary(outcome)}")
            failed += bool(outcome is not None and outcome.error)
        if failed:
            raise CommandError(f"{failed} target(s) failed")


def _summary(outcome: publishing.Outcome | None) -> str:
    if outcome is None:
        return "skipped: another publish holds its turn"
    if outcome.error:
        return f"failed: {outcome.error}"
    return f"{len(outcome.written)} file(s) written, {outcome.unchanged} unchanged"
