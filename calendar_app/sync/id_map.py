"""The map of local objects to upstream ones (UpstreamObject): resources, events, occurrences
and entries, each by the id it has on either side, per partner."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction

from calendar_app import clock
from calendar_app.models import UpstreamObject

Kind = UpstreamObject.Kind


def mapped(partner_id: int, kind: str, local_id: Any) -> str | None:
    return (
        UpstreamObject.objects.for_partner(partner_id)
        .filter(kind=kind, local_id=str(local_id))
        .values_list("upstream_id", flat=True)
        .first()
    )


def remember(partner_id: int, kind: str, local_id: Any, upstream_id: str) -> None:
    """Map `local_id` to `upstream_id`: two statements (an upsert), as every push ends in one."""
    mine = UpstreamObject.objects.for_partner(partner_id).filter(kind=kind)
    mine.filter(upstream_id=upstream_id).exclude(local_id=str(local_id)).delete()  # remapped: one pair
    UpstreamObject.objects.bulk_create(
        [UpstreamObject(partner_id=partner_id, kind=kind, local_id=str(local_id), upstream_id=upstream_id,
                        synced_at=clock.now())],
        update_conflicts=True, unique_fields=["partner", "kind", "local_id"],
        update_fields=["upstream_id", "synced_at"],
    )  # fmt: skip


def forget(partner_id: int, kind: str, local_ids: Iterable[Any]) -> None:
    ids = [str(i) for i in local_ids]
    UpstreamObject.objects.for_partner(partner_id).filter(kind=kind, local_id__in=ids).delete()


def remap(partner_id: int, local_ids: list[int], pairs: dict[int, str]) -> None:
    """Replace the occurrence pairs of one series in one transaction."""
    now = clock.now()
    with transaction.atomic():
        mine = UpstreamObject.objects.for_partner(partner_id).filter(kind=Kind.EVENT)
        mine.filter(local_id__in=[str(i) for i in local_ids]).delete()
        mine.filter(upstream_id__in=list(pairs.values())).delete()
        UpstreamObject.objects.bulk_create(
            UpstreamObject(
                partner_id=partner_id, kind=Kind.EVENT, local_id=str(local), upstream_id=up, synced_at=now
            )
            for local, up in pairs.items()
        )
