"""System checks on the configuration (`manage.py check`, and `check --deploy` for production)."""

from __future__ import annotations

from typing import Any

from cryptography.fernet import Fernet
from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security)
def field_encryption_keys_check(app_configs: Any, **kwargs: Any) -> list[checks.CheckMessage]:
    # Caught at start-up rather than at the first secret read (a drop folder's next poll).
    for position, key in enumerate(settings.FIELD_ENCRYPTION_KEYS, start=1):
        try:
            Fernet(key.encode())
        except ValueError:
            return [
                checks.Error(
                    f"FIELD_ENCRYPTION_KEYS: key {position} is not a Fernet key (32 bytes, url-safe base64).",
                    hint="Generate one with: python -c 'from cryptography.fernet import Fernet; "
                    "print(Fernet.generate_key().decode())'",
                    id="calendar_app.E001",
                )
            ]
    return []


@checks.register(checks.Tags.security, deploy=True)
def derived_encryption_key_check(app_configs: Any, **kwargs: Any) -> list[checks.CheckMessage]:
    if settings.FIELD_ENCRYPTION_KEYS:
        return []
    return [
        checks.Warning(
            "Secrets at rest are encrypted with a key derived from SECRET_KEY; set "
            "FIELD_ENCRYPTION_KEYS so that rotating SECRET_KEY does not make them unreadable.",
            id="calendar_app.W001",
        )
    ]
