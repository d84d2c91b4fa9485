"""Fifty bookings of one slot at once, with the partner's conflict prevention on, through both web
servers of the stack (PostgreSQL, several web processes): exactly one is saved each round,
every other gets the conflict error, and the database holds one booking in the slot. What makes
it so is conflicts.lock_for_write: each booking locks its resources' rows (SELECT ... FOR
UPDATE) before it checks and writes, so the checks cannot all see a free slot at once."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

import httpx
import pytest
from KalturaClient import KalturaClient, KalturaConfiguration
from KalturaClient.exceptions import KalturaException
from KalturaClient.Plugins.Core import KalturaSessionType

from tests.kaltura_api.builders import add_resource, link, location, record
from tests.stack.running import RunningStack

CLIENTS = 50
ROUNDS = 5
CONFLICT = "SCHEDULE_EVENT_RESOURCE_CONFLICT"
REFUSED = "Not saved: this booking conflicts with"
ZONE = ZoneInfo("Europe/London")  # the demo partner's (seed_demo.PARTNER_ZONE)
ACTIVE = 2  # EventStatus.ACTIVE
C = TypeVar("C")  # a client: the official one or httpx


@pytest.fixture(scope="module")
def prevented(stack: RunningStack) -> Iterator[int]:
    """The demo partner, preventing conflicts for this module's tests (and as before after)."""
    partner_id, _ = stack.credentials()
    before = set_prevent_conflicts(stack, partner_id, True)
    yield partner_id
    set_prevent_conflicts(stack, partner_id, before)


def set_prevent_conflicts(stack: RunningStack, partner_id: int, on: bool) -> bool:
    """The setting as it was; every request reads the partner row, so it applies at once."""
    (was,) = stack.sql("SELECT prevent_conflicts FROM calendar_app_partner WHERE id = %s", (partner_id,))[0]
    stack.sql(
        "UPDATE calendar_app_partner SET prevent_conflicts = %s WHERE id = %s RETURNING id", (on, partner_id)
    )
    return was


@pytest.fixture(scope="module")
def room(stack: RunningStack, prevented: int) -> int:
    """A room of this module's own: its slots hold nothing but these bookings."""
    return add_resource(stack.kaltura(0), location(f"Contended {uuid.uuid4().hex[:8]}")).id


def slot(days: int, hour: int) -> datetime:
    """A whole hour `days` ahead, in the partner's zone."""
    day = datetime.now(ZONE).date() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, tzinfo=ZONE)


# ---------------------------------------------------------------- the API


@pytest.fixture(scope="module")
def api_clients(stack: RunningStack, prevented: int) -> list[KalturaClient]:
    """Fifty official clients, each with its own admin session, alternating between the servers."""
    _, secret = stack.credentials()
    clients = []
    for n in range(CLIENTS):
        config = KalturaConfiguration()
        config.serviceUrl = stack.url(n % len(stack.web_ports))
        client = KalturaClient(config)
        client.setKs(client.session.start(secret, f"booker-{n}", KalturaSessionType.ADMIN, prevented))
        clients.append(client)
    return clients


def test_fifty_api_bookings_of_one_slot_save_exactly_one_each_round(stack, room, api_clients):
    for n in range(ROUNDS):
        start = slot(40 + n, 10)

        def book(client: KalturaClient, start: datetime = start) -> str:
            when = int(start.timestamp())
            event = client.schedule.scheduleEvent.add(record(when, summary=f"API booking {when}"))
            try:
                link(client, event.id, room)
            except KalturaException as error:
                return error.code
            return "saved"

        outcomes, seconds = race(api_clients, book)
        print(f"API round {n + 1}: {CLIENTS} bookings in {seconds:.2f} s: {dict(outcomes)}")
        assert outcomes == {"saved": 1, CONFLICT: CLIENTS - 1}
        assert live_bookings(stack, room, start) == 1


# ---------------------------------------------------------------- the web calendar


@pytest.fixture(scope="module")
def staff(stack: RunningStack, prevented: int) -> Iterator[list[httpx.Client]]:
    """Fifty signed-in staff sessions, alternating between the servers (signed in side by side:
    each sign-in hashes the password, a quarter of a second)."""
    clients = [stack.http(n % len(stack.web_ports)) for n in range(CLIENTS)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(stack.sign_in, clients))
    yield clients
    for client in clients:
        client.close()


def test_fifty_web_bookings_of_one_slot_save_exactly_one_each_round(stack, room, staff):
    for n in range(ROUNDS):
        start = slot(50 + n, 10)
        form = {
            "summary": "Web booking", "type": "1", "day": f"{start:%Y-%m-%d}", "start_time": "10:00",
            "end_time": "11:00", "resources": [str(room)], "template_entry": "", "description": "",
        }  # fmt: skip

        def book(client: httpx.Client, form: dict = form) -> str:
            answer = client.post("/calendar/book/", data=form, headers=csrf(client))
            refused = answer.status_code == 409 and REFUSED in answer.text
            return "refused" if refused else str(answer.status_code)

        outcomes, seconds = race(staff, book)
        print(f"web round {n + 1}: {CLIENTS} bookings in {seconds:.2f} s: {dict(outcomes)}")
        assert outcomes == {"200": 1, "refused": CLIENTS - 1}
        assert live_bookings(stack, room, start) == 1


def csrf(client: httpx.Client) -> dict[str, str]:
    """What htmx sends with a POST: the CSRF cookie's token, and (HTTPS) a same-origin Referer."""
    return {"X-CSRFToken": client.cookies["csrftoken"], "Referer": f"{client.base_url}/calendar/week/"}


# ---------------------------------------------------------------- the race


def race(clients: list[C], book: Callable[[C], str]) -> tuple[Counter[str], float]:
    """Each client books at once, in a thread of its own, released together by a barrier; the
    outcomes counted (anything unexpected by its name), and the seconds from release to the last."""
    barrier = threading.Barrier(len(clients) + 1)

    def run(client: C) -> str:
        barrier.wait(timeout=60)
        try:
            return book(client)
        except Exception as error:  # noqa: BLE001 (a timeout or a dropped connection is an outcome)
            return f"{type(error).__name__}: {error}"[:200]

    with ThreadPoolExecutor(max_workers=len(clients)) as pool:
        running = [pool.submit(run, client) for client in clients]
        barrier.wait(timeout=60)
        released = time.monotonic()
        outcomes = Counter(future.result(timeout=120) for future in running)
    return outcomes, time.monotonic() - released


def live_bookings(stack: RunningStack, room: int, start: datetime) -> int:
    """Active events on the room overlapping the hour from `start`, straight from PostgreSQL."""
    rows = stack.sql(
        "SELECT count(DISTINCT e.id) FROM calendar_app_scheduleevent e"
        " JOIN calendar_app_scheduleeventresource l ON l.event_id = e.id"
        ' WHERE l.resource_id = %s AND e.status = %s AND e.start < %s AND e."end" > %s',
        (room, ACTIVE, start.astimezone(UTC) + timedelta(hours=1), start.astimezone(UTC)),
    )
    return rows[0][0]
