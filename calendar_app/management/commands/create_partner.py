"""`manage.py create_partner`: create or update a partner for scripts and deployments.

Idempotent, so provisioning can run it on every deploy: an existing partner gets the given name
and admin secret, and a new user secret only when `--secret` is given. Prints the partner id
alone on stdout, so scripts can capture it.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from calendar_app import clock
from calendar_app.models import Partner

MAX_PARTNER_ID = 2_147_483_647  # PositiveIntegerField's ceiling on every database
SECRET_LENGTH = Partner._meta.get_field("admin_secret").max_length
NAME_LENGTH = Partner._meta.get_field("name").max_length


class Command(BaseCommand):
    help = "Create a partner, or update its name and secrets. Prints the partner id."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--partner-id", type=int, required=True, help="the Kaltura partner id")
        parser.add_argument("--name", required=True)
        parser.add_argument("--admin-secret", required=True, help="signs every session (KS)")
        parser.add_argument("--secret", help="user secret; random for a new partner when omitted")

    def handle(self, *args, partner_id: int, name: str, admin_secret: str, secret: str | None, **options):
        _check(partner_id, name, admin_secret, secret)
        with transaction.atomic():
            partner = _save(partner_id, name, admin_secret, secret)
        self.stdout.write(str(partner.pk))


def _check(partner_id: int, name: str, admin_secret: str, secret: str | None) -> None:
    if not isinstance(partner_id, int) or not 0 < partner_id <= MAX_PARTNER_ID:
        raise CommandError(f"--partner-id must be a positive integer up to {MAX_PARTNER_ID}")
    if not name.strip() or len(name) > NAME_LENGTH:
        raise CommandError(f"--name must be 1 to {NAME_LENGTH} characters")
    _check_secret("--admin-secret", admin_secret)
    if secret is not None:
        _check_secret("--secret", secret)


def _check_secret(option: str, value: str) -> None:
    # A blank secret would let anyone sign sessions for this partner.
    if not value.strip() or len(value) > SECRET_LENGTH:
        raise CommandError(f"{option} must be 1 to {SECRET_LENGTH} characters, not blank")


def _save(partner_id: int, name: str, admin_secret: str, secret: str | None) -> Partner:
    partner = Partner.objects.select_for_update().filter(pk=partner_id).first()
    if partner is None:
        return Partner.objects.create(
            id=partner_id, name=name, admin_secret=admin_secret, secret=secret or Partner.new_secret()
        )
    partner.name, partner.admin_secret, partner.updated_at = name, admin_secret, clock.now()
    fields = ["name", "admin_secret", "updated_at"]
    if secret is not None:
        partner.secret = secret
        fields.append("secret")
    partner.save(update_fields=fields)
    return partner
