"""Events as the API's objects (KalturaRecordScheduleEvent, ...): the schedule_scheduleevent
service answers with these, and the schedule files published for devices carry the same list
(publishing/files.py), so both read one definition."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from calendar_app.conflicts import overlaps
from calendar_app.kaltura_api.catalog import EVENT_TYPE_NAMES
from calendar_app.kaltura_api.objects import render
from calendar_app.models import EventType, ScheduleEvent


class EventContext:
    """What rendering a batch of events needs beyond their rows: the active blackouts that
    overlap them (Kaltura's blackoutConflicts), fetched in one query for the whole batch."""

    def __init__(self, partner_id: int, events: Iterable[ScheduleEvent]):
        self.partner_id = partner_id
        self.windows = {e.pk: _window(e) for e in events if e.type != EventType.BLACKOUT}
        self._blackouts: list[ScheduleEvent] | None = None

    def blackout_conflicts(self, event: ScheduleEvent) -> list[dict[str, Any]]:
        start, end = self.windows.get(event.pk) or _window(event)
        return [render_event(b, self) for b in self.blackouts() if overlaps(b.start, b.end, start, end)]

    def blackouts(self) -> list[ScheduleEvent]:
        if self._blackouts is None:
            self._blackouts = []
            if self.windows:
                start = min(s for s, _ in self.windows.values())
                end = max(e for _, e in self.windows.values())
                self._blackouts = list(
                    ScheduleEvent.objects.for_partner(self.partner_id)
                    .bookable()
                    .filter(type=EventType.BLACKOUT)
                    .overlapping(start, end)
                    .order_by("start", "pk")
                )
        return self._blackouts


def _window(event: ScheduleEvent) -> tuple[datetime, datetime]:
    if event.is_series:  # a series row stands for one occurrence's length
        return event.start, event.start + timedelta(seconds=event.duration)
    return event.start, event.end


def render_event(event: ScheduleEvent, context: EventContext | None = None) -> dict[str, Any]:
    return render(EVENT_TYPE_NAMES[event.type], event, context or EventContext(event.partner_id, [event]))


def render_events(partner_id: int, events: list[ScheduleEvent]) -> list[dict[str, Any]]:
    context = EventContext(partner_id, events)
    return [render_event(e, context) for e in events]
