"""`manage.py create_app_token`: an app token for a device, e.g. a lecture-capture appliance.

Prints one line, `<token id> <token>`, for the script that configures the device; the token is
shown only here (Django admin aside), so capture it.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from calendar_app.kaltura_api.auth import CAPTURE_DEVICE_ROLE, unknown_roles
from calendar_app.models import AppToken, Partner


class Command(BaseCommand):
    help = "Create an app token for a partner. Prints '<token id> <token>'."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--partner-id", type=int, required=True)
        parser.add_argument(
            "--privileges", default="", help='session privileges, e.g. "setrole:CAPTURE_DEVICE_ROLE"'
        )
        parser.add_argument(
            "--hash-type", default=AppToken.HashType.SHA256, help="MD5, SHA1, SHA256 (default) or SHA512"
        )
        parser.add_argument("--description", default="")

    def handle(self, *args, partner_id: int, privileges: str, hash_type: str, description: str, **options):
        hash_type = _hash_type(hash_type)
        unknown = unknown_roles(privileges)
        if unknown:
            raise CommandError(f"Unknown role {unknown[0]!r}: the known one is {CAPTURE_DEVICE_ROLE}")
        partner = Partner.objects.filter(pk=partner_id).first()
        if partner is None:
            raise CommandError(f"Partner {partner_id} does not exist; create it with create_partner")
        token = AppToken.objects.create(
            id=AppToken.new_id(),
            partner=partner,
            token=AppToken.new_token(),
            hash_type=hash_type,
            session_privileges=privileges,
            description=description,
        )
        self.stdout.write(f"{token.pk} {token.token}")


def _hash_type(value: str) -> str:
    # Checked here, not with argparse choices: call_command skips the parser for optional args.
    normalized = str(value).upper()
    if normalized not in AppToken.HashType.values:
        raise CommandError(f"--hash-type must be one of {', '.join(AppToken.HashType.values)}")
    return normalized
