"""Secrets at rest: the credentials this server must be able to read back (an upstream Kaltura's
admin secret or app token, a drop folder's password or key) are stored encrypted with Fernet
(AES-128-CBC + HMAC-SHA256, from `cryptography`), never written by hand.

The keys come from the environment, `FIELD_ENCRYPTION_KEYS`: comma-separated Fernet keys, the
first one encrypts, every one decrypts. Rotation (docs/operations.md): put a new key first,
run `manage.py rotate_secrets` (every stored secret re-encrypted under it), then drop the old
key. Without the setting the key is derived from SECRET_KEY, which suits one machine (make run
keeps its SECRET_KEY in var/), and `check --deploy` warns about it.
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models

# Stored values start with this, so a plaintext left by an older version (or typed into the
# database) is still read, and encrypted on its next save or by rotate_secrets.
PREFIX = "fernet:"


class SecretUnreadable(Exception):
    """A stored secret none of the configured keys opens (a key was dropped too early)."""


def derived_key(secret_key: str) -> bytes:
    return base64.urlsafe_b64encode(hashlib.sha256(f"secret_box:{secret_key}".encode()).digest())


@cache
def _box(keys: tuple[str, ...], secret_key: str) -> MultiFernet:
    fernets = [Fernet(key.encode()) for key in keys] or [Fernet(derived_key(secret_key))]
    return MultiFernet(fernets)


def box() -> MultiFernet:
    return _box(tuple(settings.FIELD_ENCRYPTION_KEYS), settings.SECRET_KEY)


def seal(plaintext: str) -> str:
    if not plaintext:
        return ""
    return PREFIX + box().encrypt(plaintext.encode()).decode()


def open_(stored: str) -> str:
    if not stored or not stored.startswith(PREFIX):
        return stored or ""
    try:
        return box().decrypt(stored[len(PREFIX) :].encode()).decode()
    except InvalidToken:
        raise _unreadable() from None


def reseal(stored: str) -> str:
    """The stored form under the first key (rotation); plaintext gets encrypted."""
    if not stored:
        return ""
    if not stored.startswith(PREFIX):
        return seal(stored)
    try:
        return PREFIX + box().rotate(stored[len(PREFIX) :].encode()).decode()
    except InvalidToken:
        raise _unreadable() from None


def _unreadable() -> SecretUnreadable:
    return SecretUnreadable("no configured key opens this secret (FIELD_ENCRYPTION_KEYS)")


class EncryptedTextField(models.TextField):
    """A text column holding a secret: Python sees plaintext, the database only ciphertext."""

    def from_db_value(self, value, expression, connection):
        return None if value is None else open_(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return value if value is None else seal(value)
