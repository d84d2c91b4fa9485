"""The clients of bench/load.py: what each kind of caller sends, and the campus they share.

A campus is set up once through the server's own doors (an admin KS, an app token per room for
its capture device, a signed-in staff session, the feed addresses read from the Feeds page); then
each client picks an operation of the mix at random, times it and records an Outcome. A device's
and a feed's ETag belong to the room's device and to the feed's subscriber, not to a client: the
clients share them, so a poll is answered 304 until a write changes the room (then 200, once).
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import re
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import yarl

WEEK = 7 * 86400
LECTURE = 90 * 60
DEVICE_ROLE = "setrole:CAPTURE_DEVICE_ROLE"
DEVICE_PAGE = 500  # bench/feed.py's device poll: the room's whole schedule in one page
EVENT_LIST = "/api_v3/service/schedule_scheduleevent/action/list"


class ApiFailure(Exception):
    """An answer that is not what the caller asked for: its text is the error's kind."""


@dataclass
class Outcome:
    op: str
    started: float
    ms: float
    error: str = ""


@dataclass
class Campus:
    """What the clients share: the demo partner's rooms and events, a device session per room,
    the feeds, a staff sign-in, and the ETags the devices and feed subscribers hold."""

    url: str
    ks: str
    rooms: list[int]
    events: list[int]
    first_week: int
    device_polls: dict[int, yarl.URL] = field(default_factory=dict)  # room id -> its device's poll
    feeds: list[yarl.URL] = field(default_factory=list)
    staff_cookie: str = ""
    etags: dict[yarl.URL, str] = field(default_factory=dict)
    own: list[int] = field(default_factory=list)  # events the bench added, which it may update


class Api:
    def __init__(self, http: aiohttp.ClientSession, url: str, ks: str = "") -> None:
        self.http, self.url, self.ks = http, url, ks

    async def call(self, service: str, action: str, **params: Any) -> Any:
        body = {"format": 1, "ks": self.ks, **params}
        url = f"{self.url}/api_v3/service/{service}/action/{action}"
        async with self.http.post(url, json=body) as response:
            if response.status != 200:
                raise ApiFailure(f"HTTP {response.status}")
            result = await response.json(content_type=None)
        if isinstance(result, dict) and result.get("objectType") == "KalturaAPIException":
            raise ApiFailure(result.get("code") or "error")
        return result


# ---------------------------------------------------------------- setting the campus up


async def discover(http: aiohttp.ClientSession, url: str, partner_id: int, admin_secret: str) -> Campus:
    api = Api(http, url)
    api.ks = await api.call("session", "start", secret=admin_secret, partnerId=partner_id, type=2)
    rooms = await api.call(
        "schedule_scheduleResource", "list", filter={"objectType": "KalturaLocationScheduleResourceFilter"},
        pager={"pageSize": 500},
    )  # fmt: skip
    events = await api.call(
        "schedule_scheduleEvent", "list", filter={"orderBy": "+startDate"}, pager={"pageSize": 500}
    )
    items = events["objects"]
    return Campus(
        url=url, ks=api.ks, rooms=[room["id"] for room in rooms["objects"] if room.get("parentId")],
        events=[event["id"] for event in items],
        first_week=min(event["startDate"] for event in items) // WEEK * WEEK,
    )  # fmt: skip


async def add_devices(http: aiohttp.ClientSession, campus: Campus, partner_id: int) -> None:
    """An app token per room, made by the admin (appToken.add), and its device's session: a
    widget session traded with the token's hash (appToken.startSession), as docs/devices.md says."""
    admin = Api(http, campus.url, campus.ks)
    for room in campus.rooms:
        token = await admin.call(
            "appToken", "add",
            appToken={"objectType": "KalturaAppToken", "sessionPrivileges": DEVICE_ROLE,
                      "hashType": "SHA256", "description": f"bench/load.py device of room {room}"},
        )  # fmt: skip
        widget = (await admin.call("session", "startWidgetSession", widgetId=f"_{partner_id}"))["ks"]
        proof = hashlib.sha256((widget + token["token"]).encode()).hexdigest()
        device = Api(http, campus.url, widget)
        session = await device.call("appToken", "startSession", id=token["id"], tokenHash=proof)
        query = {
            "ks": session["ks"], "format": "ical", "filter[objectType]": "KalturaScheduleEventFilter",
            "filter[resourceIdsLike]": str(room), "pager[pageSize]": str(DEVICE_PAGE),
        }  # fmt: skip
        campus.device_polls[room] = yarl.URL(campus.url + EVENT_LIST).with_query(query)


async def sign_in(url: str, ssl_context: ssl.SSLContext | None, username: str, password: str) -> str:
    """A staff member's browser session (the login form and its CSRF token): its session cookie."""
    jar = aiohttp.CookieJar(unsafe=True)  # unsafe: keep cookies set by an IP address
    connector = aiohttp.TCPConnector(ssl=ssl_context if ssl_context is not None else True)
    async with aiohttp.ClientSession(cookie_jar=jar, connector=connector) as http:
        login = f"{url}/accounts/login/"
        async with http.get(login) as response:
            form = await response.text()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)
        if token is None:
            raise ApiFailure(f"no sign-in form at {login} (HTTP {response.status})")
        fields = {"csrfmiddlewaretoken": token.group(1), "username": username, "password": password}
        async with http.post(
            login, data=fields, headers={"Referer": login}, allow_redirects=False
        ) as response:
            if response.status != 302:
                raise ApiFailure(f"the sign-in as {username!r} was refused (HTTP {response.status})")
        cookie = jar.filter_cookies(yarl.URL(url)).get("sessionid")
        if cookie is None:
            raise ApiFailure("the sign-in set no session cookie")
        return f"sessionid={cookie.value}"


async def find_feeds(http: aiohttp.ClientSession, campus: Campus) -> None:
    """Every room's and building's feed, as the Feeds page lists them to the signed-in staff."""
    async with http.get(f"{campus.url}/feeds/", headers={"Cookie": campus.staff_cookie}) as response:
        page = await response.text()
    tokens = dict.fromkeys(re.findall(r"/feeds/([\w-]+)\.ics", page))
    if not tokens:
        raise ApiFailure(f"the Feeds page listed no feed (HTTP {response.status})")
    campus.feeds = [yarl.URL(f"{campus.url}/feeds/{token}.ics") for token in tokens]


async def prime(http: aiohttp.ClientSession, campus: Campus) -> None:
    """One 200 for every device and feed: the ETags a running campus already holds."""
    for url in [*campus.device_polls.values(), *campus.feeds]:
        async with http.get(url) as response:
            await response.read()
            if response.status != 200:
                raise ApiFailure(f"HTTP {response.status} for {url.path}")
            campus.etags[url] = response.headers["ETag"]


# ---------------------------------------------------------------- one client


class Client:
    """One keep-alive connection's worth of callers, sending the mix back to back."""

    def __init__(self, http: aiohttp.ClientSession, campus: Campus, rng: random.Random, out: list[Outcome]):
        self.http, self.campus, self.rng, self.out = http, campus, rng, out
        self.api = Api(http, campus.url, campus.ks)
        self.ops: dict[str, Callable[[], Awaitable[None]]] = {
            "device": self.device, "feed": self.feed, "list": self.list, "get": self.get,
            "getConflicts": self.get_conflicts, "write": self.write, "week": self.week,
        }  # fmt: skip

    async def run(self, mix: tuple[tuple[str, int], ...], deadline: float, think: float = 0.0) -> None:
        """Requests back to back, or each after a pause of `think` seconds on average (drawn from
        an exponential distribution: a person or a device does not keep a metronome's time)."""
        ops, weights = zip(*mix, strict=True)
        while time.monotonic() < deadline:
            await self.ops[self.rng.choices(ops, weights)[0]]()
            if think:
                pause = self.rng.expovariate(1 / think)
                await asyncio.sleep(min(pause, max(0.0, deadline - time.monotonic())))

    async def timed(self, op: str, call: Awaitable[Any]) -> Any:
        """Awaits `call`, recorded as `op` (or as the op name it returns with its result)."""
        started, error, result = time.perf_counter(), "", None
        try:
            result = await call
        except ApiFailure as failure:
            error = str(failure)
        except (aiohttp.ClientError, TimeoutError) as failure:
            error = type(failure).__name__
        if isinstance(result, tuple):
            op, result = result
        self.out.append(Outcome(op, time.monotonic(), (time.perf_counter() - started) * 1000, error))
        return result

    # -- polls: answered 304 while the ETag holds

    async def device(self) -> None:
        url = self.campus.device_polls[self.rng.choice(self.campus.rooms)]
        await self.timed("device 304", self.poll("device", url))

    async def feed(self) -> None:
        await self.timed("feed 304", self.poll("feed", self.rng.choice(self.campus.feeds)))

    async def poll(self, kind: str, url: yarl.URL) -> tuple[str, None]:
        held = self.campus.etags.get(url)
        async with self.http.get(url, headers={"If-None-Match": held} if held else None) as response:
            body = await response.read()
        if response.status == 304 and held:
            return f"{kind} 304", None
        if response.status == 200 and body.startswith(b"BEGIN:VCALENDAR"):
            self.campus.etags[url] = response.headers["ETag"]
            return f"{kind} 200", None
        raise ApiFailure(f"{kind}: HTTP {response.status}")

    # -- the API: reads, conflict checks, writes

    async def list(self) -> None:
        week = self.some_week()
        found = {"objectType": "KalturaScheduleEventFilter", "startDateGreaterThanOrEqual": week,
                 "startDateLessThanOrEqual": week + WEEK, "orderBy": "+startDate"}  # fmt: skip
        if self.rng.random() < 0.5:
            found["resourceIdsLike"] = str(self.rng.choice(self.campus.rooms))
        await self.timed("list", self.api.call("schedule_scheduleEvent", "list", filter=found))

    async def get(self) -> None:
        event = self.rng.choice(self.campus.events)
        await self.timed("get", self.api.call("schedule_scheduleEvent", "get", scheduleEventId=event))

    async def get_conflicts(self) -> None:
        room = str(self.rng.choice(self.campus.rooms))
        call = self.api.call(
            "schedule_scheduleEvent", "getConflicts", resourceIds=room, scheduleEvent=self.booking()
        )
        await self.timed("getConflicts", call)

    async def write(self) -> None:
        """Half updates of an event the bench added, half adds: a booking and its room (Kaltura's
        two calls), which changes the room's schedule and so its device's and feeds' ETags."""
        if self.campus.own and self.rng.random() < 0.5:
            changed = {
                "objectType": "KalturaRecordScheduleEvent",
                "summary": f"Load {self.rng.randrange(10**6)}",
            }
            event_id = self.rng.choice(self.campus.own)
            update = self.api.call(
                "schedule_scheduleEvent", "update", scheduleEventId=event_id, scheduleEvent=changed
            )
            await self.timed("update", update)
            return
        event = await self.timed(
            "add", self.api.call("schedule_scheduleEvent", "add", scheduleEvent=self.booking())
        )
        if event is None:
            return
        link = {"objectType": "KalturaScheduleEventResource", "eventId": event["id"],
                "resourceId": self.rng.choice(self.campus.rooms)}  # fmt: skip
        if await self.timed(
            "addResource", self.api.call("schedule_scheduleEventResource", "add", scheduleEventResource=link)
        ):
            self.campus.own.append(event["id"])

    async def write_at_pace(self, per_minute: float, deadline: float) -> None:
        """Writes at a fixed pace beside the crowd (back to back if the server falls behind)."""
        due = time.monotonic()
        while due < deadline:
            await asyncio.sleep(max(0.0, due - time.monotonic()))  # pacing, not waiting for an effect
            await self.write()
            due += 60 / per_minute

    def some_week(self) -> int:
        return self.campus.first_week + self.rng.randrange(15) * WEEK

    def booking(self) -> dict[str, Any]:
        start = self.some_week() + self.rng.randrange(5) * 86400 + self.rng.choice((8, 9, 11, 14, 16)) * 3600
        return {"objectType": "KalturaRecordScheduleEvent", "summary": "Load test booking",
                "startDate": start, "endDate": start + LECTURE, "recurrenceType": 0}  # fmt: skip

    # -- the staff calendar in a browser

    async def week(self) -> None:
        day = time.strftime("%Y-%m-%d", time.gmtime(self.some_week()))
        await self.timed("week page", self.page(f"{self.campus.url}/calendar/week/?date={day}"))

    async def page(self, url: str) -> None:
        headers = {"Cookie": self.campus.staff_cookie, "Accept-Encoding": "gzip"}
        async with self.http.get(url, headers=headers, allow_redirects=False) as response:
            body = await response.read()  # aiohttp inflates the gzip: counted in the time
        if response.status != 200 or b"</html>" not in body[-200:]:
            raise ApiFailure(f"week page: HTTP {response.status}")


async def gather_clients(
    clients: list[Client],
    mix: tuple[tuple[str, int], ...],
    duration: float,
    writes_per_minute: float = 0,
    think: float = 0.0,
) -> float:
    """Runs every client until `duration` seconds from now (pausing `think` seconds on average
    between requests), the first one also writing at `writes_per_minute`; the monotonic time
    they started."""
    started = time.monotonic()
    pacing = [clients[0].write_at_pace(writes_per_minute, started + duration)] if writes_per_minute else []
    await asyncio.gather(*(client.run(mix, started + duration, think) for client in clients), *pacing)
    return started
