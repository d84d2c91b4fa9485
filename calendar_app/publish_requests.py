"""Asking for a partner's schedule files to be published again (publishing/files.py), after
every committed write to its schedule (writes.py).

The request is a time on each of the partner's enabled targets (`requested_at`), set in the
write's own transaction by one UPDATE: a partner without targets pays that UPDATE of no rows and
nothing else. Once committed, each target's task is sent with a countdown of its
`debounce_seconds`; the task publishes only if no newer request came meanwhile (a newer one sent
its own task), so a burst of writes (an import of 1,000 rows) publishes once, after the last.

Sent by name: this core module must not import the devices' package, which reads the API's
tables (import-linter's "No import cycles").
"""

from __future__ import annotations

from datetime import datetime

from celery import current_app
from django.db import transaction

from calendar_app.models import PublishTarget

TASK = "calendar_app.tasks.publish_target"


def request(partner_id: int, now: datetime) -> None:
    """Inside a write to the partner's schedule at `now`."""
    asked = PublishTarget.objects.filter(partner_id=partner_id, enabled=True).update(requested_at=now)
    if asked:
        transaction.on_commit(lambda: send(partner_id), robust=True)


def send(partner_id: int) -> None:
    # An eager run (tests, one-off commands) cannot wait out a countdown: the beat's
    # publish_due publishes the request once its debounce has passed, as outbox.py leaves its
    # retries to the sync recovery.
    if current_app.conf.task_always_eager:
        return
    asked = PublishTarget.objects.filter(partner_id=partner_id, enabled=True, requested_at__isnull=False)
    if TASK not in current_app.tasks:
        current_app.loader.import_default_modules()
    task = current_app.tasks[TASK]
    for target_id, debounce in asked.values_list("pk", "debounce_seconds"):
        task.apply_async((target_id,), countdown=debounce)
