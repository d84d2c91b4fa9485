"""A partner's upstream connection as the rest of the sync uses it: set up, tested, read."""

from __future__ import annotations

from dataclasses import dataclass

from calendar_app import clock
from calendar_app.models import KalturaConnection, SyncOperation
from calendar_app.sync.client import KalturaClient, UpstreamError, client_for


@dataclass(frozen=True)
class Tested:
    ok: bool
    message: str


def test(connection: KalturaConnection, client: KalturaClient | None = None) -> Tested:
    """Start a session, read the upstream partner and touch the scheduling API: what an admin
    needs to know before turning sync on. The answer is stored on the connection."""
    client = client or client_for(connection)
    try:
        client.session()
        partner = client.call("partner", "getInfo")
        client.call(
            "schedule_scheduleresource", "list", pager={"objectType": "KalturaFilterPager", "pageSize": 1}
        )
    except UpstreamError as error:
        result = Tested(False, f"{error.code}: {error.message}")
    else:
        result = Tested(
            True,
            f"connected to partner {partner.get('id')} ({partner.get('name')!r}); scheduling API answers",
        )
    KalturaConnection.objects.filter(pk=connection.pk).update(
        last_test_at=clock.now(), last_test_result=result.message
    )
    return result


@dataclass(frozen=True)
class QueueState:
    pending: int
    failed: int
    oldest_pending_at: object
    last_error: str


def queue_state(partner_id: int) -> QueueState:
    ops = SyncOperation.objects.for_partner(partner_id)
    pending = ops.filter(status__in=[SyncOperation.Status.PENDING, SyncOperation.Status.RUNNING])
    oldest = pending.order_by("created_at").values_list("created_at", flat=True).first()
    last = ops.exclude(error="").order_by("-pk").values_list("error_code", "error").first()
    return QueueState(
        pending=pending.count(),
        failed=ops.filter(status=SyncOperation.Status.FAILED).count(),
        oldest_pending_at=oldest,
        last_error=f"{last[0]}: {last[1]}" if last else "",
    )
