"""`manage.py rotate_secrets`: every stored secret re-encrypted under the first key of
FIELD_ENCRYPTION_KEYS, the middle step of a key rotation (docs/operations.md).

Every EncryptedTextField of the app is covered, found by its type. The values are read and
written raw (a Cast to text, a Value typed as text), so the field neither decrypts them on the
way out nor encrypts them a second time on the way in; a plaintext left by an older version is
encrypted. All or nothing: a value no configured key opens stops the command before any write.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import models, transaction
from django.db.models.functions import Cast

from calendar_app import secret_box


class Command(BaseCommand):
    help = "Re-encrypt every stored secret under the first of FIELD_ENCRYPTION_KEYS."

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            rewrites = [(model, name, _resealed(model, name)) for model, name in _encrypted_fields()]
            for model, name, values in rewrites:
                for pk, stored in values:
                    raw = models.Value(stored, output_field=models.TextField())
                    model._base_manager.filter(pk=pk).update(**{name: raw})
        for model, name, values in rewrites:
            self.stdout.write(f"{model._meta.label}.{name}: {len(values)} re-encrypted")


def _encrypted_fields() -> list[tuple[type[models.Model], str]]:
    return [
        (model, field.name)
        for model in apps.get_app_config("calendar_app").get_models()
        for field in model._meta.concrete_fields
        if isinstance(field, secret_box.EncryptedTextField)
    ]


def _resealed(model: type[models.Model], name: str) -> list[tuple[Any, str]]:
    # Locked until the writes commit, so a secret saved meanwhile is not overwritten.
    rows = (
        model._base_manager.select_for_update()
        .annotate(raw=Cast(name, models.TextField()))
        .values_list("pk", "raw")
    )
    resealed = []
    for pk, raw in rows:
        if not raw:
            continue
        try:
            resealed.append((pk, secret_box.reseal(raw)))
        except secret_box.SecretUnreadable:
            raise CommandError(
                f"{model._meta.label} pk={pk}: no key in FIELD_ENCRYPTION_KEYS opens its {name} "
                "(was a key removed before rotate_secrets ran?); nothing was changed."
            ) from None
    return resealed
