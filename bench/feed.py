"""Benchmark of a per-resource iCal feed over real HTTP (issue #4: a 10k-event feed).

    .venv/bin/python bench/feed.py                   # SQLite: bench/data/bench.sqlite3
    .venv/bin/python bench/feed.py --iterations 100 --cold-runs 9

The feed is a building's: 40 rooms below it, each with 5 weekly lecture series of 50 weeks, so
10,000 occurrences in the feed's default window (30 days back, 365 ahead). The script (re)builds
that partner (id 9000002, beside bench/generate.py's dataset if it is there) through
scheduling.py, as the API would, so the fragments are what a real write leaves. Three timings,
each the whole request (send, read the whole body) from one httpx client on loopback, against
`runserver --nothreading` with DEBUG off (bench/api.py's `served`):

- cold: the first request to a freshly started server process (no connection, no warm ORM);
  the server is restarted for each sample.
- warm 200: an unconditional GET, repeated: a calendar app's full download.
- 304: a GET with If-None-Match of the current ETag: the usual poll.
- device 200, device 304: a capture device's poll of one room through the API: an app-token
  session (session.startWidgetSession, appToken.startSession with setrole:CAPTURE_DEVICE_ROLE),
  GET scheduleEvent.list with format=ical, resourceIdsLike of the room and a page of 500 (its
  255 events); then the same with If-None-Match of the ETag it got. Each poll records the
  device's delivery receipt (devices/receipts.py); a poll of the version it already recorded
  less than RECEIPT_MIN_INTERVAL seconds ago skips the write: `--receipt-min-interval 0` makes
  every poll write its receipt. The run checks the receipt holds the ETag served.

Every response is checked (status, 10,000 VEVENTs in a 200) after its timing.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
from datetime import UTC, date, datetime, timedelta

import _django  # noqa: F401  (sets up Django; keep it first)
import httpx
from api import machine, served
from django.core.management import call_command
from django.db import transaction
from run import save_json, stats

from calendar_app import clock, fragments, scheduling, writes
from calendar_app.models import (
    AppToken,
    AuditEntry,
    DeviceReceipt,
    EventType,
    FeedToken,
    Partner,
    RecurrenceType,
    ResourceType,
    ScheduleEvent,
    ScheduleResource,
)  # fmt: skip

PARTNER_ID = 9_000_002
ROOMS, SERIES_PER_ROOM, WEEKS = 40, 5, 50
# The device's 200 has no target: it renders its events (it does not read the stored fragments).
TARGETS_MS = {"cold": 150, "warm 200": 20, "304": 3, "device 304": 3}
DEVICE_ROLE = "setrole:CAPTURE_DEVICE_ROLE"
LIST = "/api_v3/service/schedule_scheduleevent/action/list"


def build(today: date) -> tuple[str, int]:
    """The feed partner, rebuilt from scratch; returns (feed token, events in the feed)."""
    resources = ScheduleResource.objects.filter(partner_id=PARTNER_ID)
    resources.update(parent=None)  # the tree protects parents from deletion
    for model in (FeedToken, DeviceReceipt, AppToken, ScheduleEvent, resources.model):
        model.objects.filter(partner_id=PARTNER_ID).delete()
    Partner.objects.filter(pk=PARTNER_ID).delete()
    partner = Partner.objects.create(
        pk=PARTNER_ID, name="Feed bench", admin_secret=Partner.new_secret(), secret=Partner.new_secret(),
        time_zone="Europe/Berlin",
    )  # fmt: skip
    actor = writes.Actor(partner, clock.now(), "bench", AuditEntry.Source.SYSTEM)
    building = scheduling.create_resource(actor, {"type": ResourceType.LOCATION, "name": "Main building"})
    monday = today + timedelta(days=7 - today.weekday())
    for number in range(ROOMS):
        room = scheduling.create_resource(
            actor, {"type": ResourceType.LOCATION, "name": f"Room {number}", "parent_id": building.pk}
        )
        for day in range(SERIES_PER_ROOM):
            start = datetime(monday.year, monday.month, monday.day, 8 + day, tzinfo=UTC) + timedelta(days=day)
            scheduling.create_event(
                actor,
                {
                    "type": EventType.RECORD, "recurrence_type": RecurrenceType.RECURRING,
                    "summary": f"Lecture {number}-{day}, with a comma; and a semicolon",
                    "description": "Recorded for the course page.\nBring the slides.",
                    "start": start, "end": start + timedelta(minutes=90),
                    "recurrence": {"frequency": "weeks", "count": WEEKS, "time_zone": "Europe/Berlin"},
                },
                resource_ids=[room.pk],
            )  # fmt: skip
    fragments.publish(partner.pk)  # what the publish_feeds task does after a bulk change
    AppToken.objects.create(
        id=AppToken.new_id(), partner=partner, token=AppToken.new_token(), session_privileges=DEVICE_ROLE,
        description="Room 0 encoder",
    )  # fmt: skip
    token = FeedToken.objects.create(partner=partner, resource=building).token
    return token, ROOMS * SERIES_PER_ROOM * WEEKS


def device_session(client: httpx.Client, url: str) -> str:
    """What a capture device does: a widget session, traded with its token's hash (format=1 JSON)."""
    token = AppToken.objects.get(partner_id=PARTNER_ID)
    widget = client.post(f"{url}/api_v3/service/session/action/startWidgetSession",
                         json={"widgetId": f"_{PARTNER_ID}", "format": 1}).json()["ks"]  # fmt: skip
    proof = hashlib.sha256((widget + token.token).encode()).hexdigest()
    body = {"ks": widget, "id": token.pk, "tokenHash": proof, "format": 1}
    return client.post(f"{url}/api_v3/service/apptoken/action/startSession", json=body).json()["ks"]


def device_poll(client: httpx.Client, url: str) -> tuple[str, int]:
    """The URL of a device's poll of room 0 (with its KS), and the events it lists."""
    room = ScheduleResource.objects.get(partner_id=PARTNER_ID, name="Room 0")
    query = httpx.QueryParams({
        "ks": device_session(client, url), "format": "ical",
        "filter[objectType]": "KalturaScheduleEventFilter", "filter[resourceIdsLike]": str(room.pk),
        "pager[pageSize]": "500",
    })  # fmt: skip
    return f"{url}{LIST}?{query}", SERIES_PER_ROOM * (WEEKS + 1)  # the occurrences and the series rows


def timed(client: httpx.Client, url: str, **headers: str) -> tuple[float, httpx.Response]:
    began = time.perf_counter()
    response = client.get(url, headers=headers)
    return (time.perf_counter() - began) * 1000, response


def check(response: httpx.Response, status: int, events: int) -> None:
    if response.status_code != status:
        raise SystemExit(f"expected HTTP {status}, got {response.status_code}: {response.text[:300]}")
    if status == 200 and (found := response.content.count(b"BEGIN:VEVENT")) != events:
        raise SystemExit(f"expected {events} VEVENTs, the feed has {found}")


def cold(path: str, runs: int, events: int) -> list[float]:
    samples = []
    for _ in range(runs):
        with served("runserver") as url, httpx.Client() as client:
            ms, response = timed(client, url + path)
            check(response, 200, events)
            samples.append(ms)
    return samples


def warm(path: str, iterations: int, warmup: int, events: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"warm 200": [], "304": []}
    with served("runserver") as url, httpx.Client() as client:
        for n in range(warmup + iterations):
            ms, response = timed(client, url + path)
            check(response, 200, events)
            if n >= warmup:
                out["warm 200"].append(ms)
        tag = response.headers["ETag"]
        size = len(response.content)
        for n in range(warmup + iterations):
            ms, response = timed(client, url + path, **{"If-None-Match": tag})
            check(response, 304, events)
            if n >= warmup:
                out["304"].append(ms)
        out.update(device(client, url, iterations, warmup))
    print(f"feed body: {size / 1e6:.1f} MB, {events:,} VEVENTs")
    return out


def device(client: httpx.Client, url: str, iterations: int, warmup: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"device 200": [], "device 304": []}
    poll, events = device_poll(client, url)
    for n in range(warmup + iterations):
        began = time.perf_counter()
        response = client.get(poll)
        ms = (time.perf_counter() - began) * 1000
        check(response, 200, events)
        if n >= warmup:
            out["device 200"].append(ms)
    tag = response.headers["ETag"]
    for n in range(warmup + iterations):
        began = time.perf_counter()
        response = client.get(poll, headers={"If-None-Match": tag})
        ms = (time.perf_counter() - began) * 1000
        check(response, 304, events)
        if n >= warmup:
            out["device 304"].append(ms)
    if not DeviceReceipt.objects.filter(partner_id=PARTNER_ID, version=tag).exists():
        raise SystemExit("the device's polls left no receipt of the version they were served")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--iterations", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--cold-runs", type=int, default=7)
    parser.add_argument("--json", help="write the results to this file")
    parser.add_argument(
        "--receipt-min-interval", type=int, help="the server's RECEIPT_MIN_INTERVAL (0: write every poll)"
    )
    args = parser.parse_args(argv)
    if args.receipt_min_interval is not None:
        os.environ["RECEIPT_MIN_INTERVAL"] = str(args.receipt_min_interval)  # served() passes it on

    call_command("migrate", verbosity=0)
    began = time.perf_counter()
    with transaction.atomic():
        token, events = build(clock.now().date())
    print(f"built the feed partner in {time.perf_counter() - began:.1f} s")
    print(f"database: {_django.describe_database()}\nmachine:  {machine()}")
    path = f"/feeds/{token}.ics"
    results = {"cold": cold(path, args.cold_runs, events), **warm(path, args.iterations, args.warmup, events)}
    print(f"  {'':<10}{'p50':>10}{'p95':>10}{'n':>6}")
    summary = {}
    for name, samples in results.items():
        s = stats(samples)
        summary[name] = s
        goal = TARGETS_MS.get(name)
        met = "met" if goal is not None and s["p50_ms"] <= goal else "MISSED"
        target = f"target p50 ≤ {goal} ms: {met}" if goal is not None else "no target"
        print(f"  {name:<10}{s['p50_ms']:>8.1f}ms{s['p95_ms']:>8.1f}ms{len(samples):>6}   {target}")
    save_json(args.json, summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
