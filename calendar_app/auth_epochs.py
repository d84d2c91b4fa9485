"""A partner's auth epoch: a token that changes whenever what decides who may call as the partner
changes, so that a web process may remember the sessions it has checked (kaltura_api/
session_memo.py) and still refuse, at the very next request, a session that was ended, a
disabled app token or a rotated secret.

What moves it, when written and again once committed (`moved`):
- saving or deleting a Partner or one of its AppTokens, saving a RevokedSession (`session.end`),
  whatever door does it (the API, the admin, a management command), by the signals below;
- a bulk `update()` of those rows (models.credentials_updated);
- not raw SQL, which nothing here writes to those tables. A remembered session lives at most
  settings.SESSION_MEMO_SECONDS, which bounds what such a write, or a move lost to a Redis that was
  away at that very moment, can leave behind.

The epoch is a random number in the shared "auth" cache (Redis in production), never a counter:
a Redis that restarts empty and starts again cannot hand out an epoch a process still holds.
A missing epoch means "unknown" and is never trusted; the next session checked in full sets one.
"""

from __future__ import annotations

import secrets

from django.core.cache import caches
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from calendar_app.models import AppToken, Partner, RevokedSession, credentials_updated


def current(partner_id: int) -> int | None:
    """The partner's epoch, or None when unknown (never set, evicted, Redis away)."""
    return caches["auth"].get(_key(partner_id))


def start(partner_id: int) -> None:
    """Give a partner with no epoch one (a no-op when another process just did)."""
    caches["auth"].add(_key(partner_id), _fresh(), timeout=None)


def moved(partner_id: int) -> None:
    """The partner's credentials change in the current transaction: a new epoch now, and another
    once it commits. A process that checks a session in between reads the old rows and
    remembers them under the first; the second retires that. (Rolled back, the write leaves one
    needless move.) Robust: the write stands if Redis is away (see the module's docstring)."""
    _renew(partner_id)
    transaction.on_commit(lambda: _renew(partner_id), robust=True)


def _renew(partner_id: int) -> None:
    caches["auth"].set(_key(partner_id), _fresh(), timeout=None)


def _fresh() -> int:
    return secrets.randbits(63)


def _key(partner_id: int) -> str:
    return f"auth:epoch:{partner_id}"


@receiver([post_save, post_delete], sender=Partner, dispatch_uid="auth_epochs.partner")
def _partner_changed(sender, instance: Partner, **kwargs) -> None:
    moved(instance.pk)


@receiver([post_save, post_delete], sender=AppToken, dispatch_uid="auth_epochs.app_token")
@receiver(post_save, sender=RevokedSession, dispatch_uid="auth_epochs.revoked_session")
def _credential_changed(sender, instance: AppToken | RevokedSession, **kwargs) -> None:
    # Only a revocation's creation matters: no memo holds a revoked session, so deleting one (it
    # expired, or staff lifted it) leaves nothing stale, and RevokedSession keeps its fast delete.
    moved(instance.partner_id)


@receiver(credentials_updated, dispatch_uid="auth_epochs.bulk_update")
def _credentials_updated(sender, partner_ids: set[int], **kwargs) -> None:
    for partner_id in partner_ids:
        moved(partner_id)
