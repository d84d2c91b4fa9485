"""The sessions this web process has checked, for the next request that brings the same KS.

Every API call authenticates, and a capture device's poll answered 304 does little else: the
lookups behind a KS (its partner and secret, whether it was ended, its app token) were a third of
such a poll's CPU and two of its four queries (bench/poll_layers.py). A device sends the same KS
for hours, so each process remembers what a full check found: the partner, the decoded session
and its app token's expiry.

That stays true while the partner's auth epoch (calendar_app/auth_epochs.py) stands: read before
the check, it is moved by any change to the partner, its app tokens or its ended sessions, so a
memo is never used after such a change, whichever process made it. An unknown epoch (Redis
away) is never trusted, and a memo lives settings.SESSION_MEMO_SECONDS at most (60; 0, no memo,
where the epochs are not shared by every process). Expiries (the KS's, the app
token's) are judged on every request by its own clock. Only sessions that passed are kept; a
refusal is checked in full each time.
"""

from __future__ import annotations

import collections
import copy
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings

from calendar_app.kaltura_api import ks as ks_codec
from calendar_app.models import Partner

# Sessions per process: a campus's devices and scripts, each with its KS; ~3 KB each.
MEMO_SIZE = 4096


@dataclass(frozen=True)
class Checked:
    """What a full check of a KS found."""

    partner: Partner
    data: ks_codec.KsData
    token_expiry: datetime | None  # its app token's, if it came from one

    def copy(self) -> Checked:
        """The partner as a copy: a request may cache relations on it, which another request
        (another thread) must not see."""
        return Checked(copy.copy(self.partner), self.data, self.token_expiry)


@dataclass(frozen=True)
class _Memo:
    checked: Checked
    epoch: int
    at: datetime  # the server's clock when checked


class SessionMemo:
    def __init__(self, size: int = MEMO_SIZE) -> None:
        self._size = size
        self._memos: collections.OrderedDict[str, _Memo] = collections.OrderedDict()
        self._lock = threading.Lock()

    def recall(self, raw: str, epoch: int | None, now: datetime) -> Checked | None:
        """What was found for this KS, if it was found under `epoch` less than
        SESSION_MEMO_SECONDS ago (which bounds what a change whose epoch move was lost, to a Redis
        away at that moment or to raw SQL, can leave behind)."""
        if epoch is None or settings.SESSION_MEMO_SECONDS <= 0:
            return None
        with self._lock:
            memo = self._memos.get(raw)
            if memo is None:
                return None
            lifetime = timedelta(seconds=settings.SESSION_MEMO_SECONDS)
            if memo.epoch != epoch or not timedelta(0) <= now - memo.at < lifetime:
                del self._memos[raw]
                return None
            self._memos.move_to_end(raw)
        return memo.checked.copy()

    def remember(self, raw: str, epoch: int | None, now: datetime, checked: Checked) -> None:
        if epoch is None or settings.SESSION_MEMO_SECONDS <= 0:
            return
        with self._lock:
            self._memos[raw] = _Memo(checked.copy(), epoch, now)
            self._memos.move_to_end(raw)
            while len(self._memos) > self._size:
                self._memos.popitem(last=False)


memo = SessionMemo()
