"""Benchmarks of the Kaltura API over real HTTP, against a server running on the bench dataset.

    .venv/bin/python bench/api.py                          # starts its own server on a free port
    .venv/bin/python bench/api.py --iterations 500 --only conflicts --only list
    .venv/bin/python bench/api.py --json bench/data/results-api-sqlite.json
    .venv/bin/python bench/api.py --url http://127.0.0.1:8000 --admin-secret SECRET  # a running server

Targets DATABASE_URL like the app (unset: bench/data/bench.sqlite3), which must hold the dataset
of bench/generate.py. Unless --url is given, the script migrates that database, reads the bench
partner's admin secret from it, and serves it with the production web server (granian, one
process, one thread; `--server runserver`: Django's, `--nothreading`) on 127.0.0.1 with DEBUG
off; the server is stopped at the end, whatever happens.

Every call is a POST with what the official client (KalturaApiClient 23.10.0) sends: a JSON body
of string scalars, `format: "2"` (XML), the KS in the body, kalsig; over one keep-alive httpx
client (the server may still close the connection after each response: runserver does). The KS
comes from session.start over HTTP. What is timed, at random places of the dataset:

- getConflicts: a 15-week weekly series (90 min, byDay of the slot, Europe/Berlin) at a random
  lecture slot on a random room and one of its cameras, scheduleEventConflictType 3 (BOTH).
- list: a page of --page-size (500) events of a --weeks (2) window in term, orderBy +startDate;
  the page must be full and totalCount larger.
- device list: a 2-week window in term for one room (resourceIdsLike), with a capture-device KS.
- get: one event, the fixed cost of a request.

Each benchmark makes --warmup calls first, then --iterations timed calls (time.perf_counter
around sending the request and reading the whole response), and reports p50 / p95 / mean / max
in milliseconds. Every response is parsed and checked after its timing; an error answer stops
the run with a non-zero exit, so error responses are never timed.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import platform
import random
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import IO, Any

import _django  # noqa: F401  (sets up Django; keep it first)
import django
import generate
import httpx
from _server import ServerFailed, free_port, wait_until_ready
from django.core.management import call_command
from lxml import etree
from run import percentile, stats

# The envelope every call of the official Python client carries (KalturaClient.doQueue).
ENVELOPE = {"clientTag": "python-26-10-22", "apiVersion": "23.10.0", "format": "2"}
SESSION_ADMIN, SESSION_USER = "2", "0"
DEVICE_PRIVILEGES = "setrole:CAPTURE_DEVICE_ROLE"
SERIES_WEEKS = 15
LECTURE_SECONDS = 90 * 60
BENCHMARKS = ("conflicts", "list", "device", "get")
PAGE_SIZE = 500  # the API's maximum, and what the list target is for
DEVICE_WEEKS = 2  # what a capture device asks for: its room's next two weeks
READY_TIMEOUT = 60


class ApiFailure(Exception):
    """A response that is not a successful Kaltura answer: the run stops, nothing is reported."""


# ---------------------------------------------------------------- the client


class Api:
    """A keep-alive client that speaks like the official one."""

    def __init__(self, url: str) -> None:
        # urllib3, under the official client's requests, sets TCP_NODELAY too.
        nodelay = [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]
        self.http = httpx.Client(
            base_url=url,
            transport=httpx.HTTPTransport(socket_options=nodelay),
            headers={"Accept": "text/xml", "Content-Type": "application/json"},
            timeout=120,
        )
        self.ks = ""

    def request(self, service: str, action: str, params: dict[str, Any], ks: str = "") -> httpx.Request:
        """The request, built ahead so the timing covers the HTTP exchange alone."""
        body = {**ENVELOPE, **_sorted(params)}
        if ks or self.ks:
            body["ks"] = ks or self.ks
        body["kalsig"] = hashlib.md5(json.dumps(body).encode()).hexdigest()
        path = f"/api_v3/service/{service}/action/{action}"
        return self.http.build_request("POST", path, content=json.dumps(body).encode())

    def call(self, service: str, action: str, params: dict[str, Any], ks: str = "") -> etree._Element:
        request = self.request(service, action, params, ks)
        return result_of(request, self.http.send(request))

    def close(self) -> None:
        self.http.close()


def _sorted(params: dict[str, Any]) -> dict[str, Any]:
    # The client sends an object's fields in sorted order; an action's params in call order.
    return {k: dict(sorted(v.items())) if isinstance(v, dict) else v for k, v in params.items()}


def result_of(request: httpx.Request, response: httpx.Response) -> etree._Element:
    """The <xml> root of a successful answer; ApiFailure for anything else."""
    where = request.url.path
    if response.status_code != 200:
        raise ApiFailure(f"{where}: HTTP {response.status_code}: {response.text[:300]}")
    try:
        root = etree.fromstring(response.content)
    except etree.XMLSyntaxError as error:
        raise ApiFailure(f"{where}: not XML ({error}): {response.text[:300]}") from None
    result = root.find("result")
    if root.tag != "xml" or result is None:
        raise ApiFailure(f"{where}: no <xml><result>: {response.text[:300]}")
    error = result.find("error")
    if error is not None or result.findtext("objectType") == "KalturaAPIException":
        error = result if error is None else error
        raise ApiFailure(f"{where}: {error.findtext('code')}: {error.findtext('message')}")
    return root


def pager(size: int, index: int = 1) -> dict[str, str]:
    return {"objectType": "KalturaFilterPager", "pageIndex": str(index), "pageSize": str(size)}


def objects(root: etree._Element) -> list[etree._Element]:
    return root.findall("result/objects/item")


def total_count(root: etree._Element) -> int:
    return int(root.findtext("result/totalCount"))


def start_session(api: Api, partner_id: int, secret: str, session_type: str, privileges: str = "") -> str:
    params = {
        "secret": secret,
        "userId": "bench@bench.invalid",
        "type": session_type,
        "partnerId": str(partner_id),
        "expiry": "86400",
        "privileges": privileges,
    }
    return api.call("session", "start", params).findtext("result")


# ---------------------------------------------------------------- the server


def server_command(kind: str, port: int) -> list[str]:
    if kind == "granian":
        # The production server (its settings from the environment `served` gives it) with one
        # process and one thread: the same concurrency as the bench's single client.
        return [sys.executable, "-m", "scheduler_site.production"]
    return [sys.executable, "manage.py", "runserver", "--noreload", "--nothreading", f"127.0.0.1:{port}"]


def server_kind(choice: str) -> str:
    return "granian" if choice == "auto" else choice


def sign_in(client: httpx.Client, username: str, password: str) -> None:
    """Through the login form, as a browser does: the server has a SECRET_KEY of its own, so a
    session made in this process would not be valid there."""
    from django.conf import settings
    from django.urls import reverse

    login = reverse("login")
    # With DEBUG off the cookies are Secure, which httpx keeps off plain HTTP: sent by hand here.
    token = client.get(login).cookies[settings.CSRF_COOKIE_NAME]
    form = {"username": username, "password": password, "csrfmiddlewaretoken": token}
    headers = {"Referer": str(client.base_url) + login, "Cookie": f"{settings.CSRF_COOKIE_NAME}={token}"}
    response = client.post(login, data=form, headers=headers)
    if response.status_code != 302:
        raise SystemExit(f"signing in failed: HTTP {response.status_code}")
    session = response.cookies[settings.SESSION_COOKIE_NAME]
    client.headers["Cookie"] = f"{settings.SESSION_COOKIE_NAME}={session}"


@contextmanager
def served(kind: str) -> Iterator[str]:
    """A server on the configured database, on a free loopback port; stopped on the way out."""
    port = free_port()
    env = {
        **os.environ,  # DATABASE_URL (set by _django when it was unset), DB_CONN_MAX_AGE, LOG_LEVEL
        "DEBUG": "false",
        "SECRET_KEY": "bench-" + secrets.token_urlsafe(32),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",  # plain HTTP on loopback; DEBUG off would redirect to https
        "PYTHONUNBUFFERED": "1",
        # For granian (scheduler_site/production.py); runserver takes its address as an argument.
        "HOST": "127.0.0.1", "PORT": str(port), "WEB_WORKERS": "1", "WEB_THREADS": "1",
    }  # fmt: skip
    with tempfile.TemporaryFile("w+") as log:
        process = subprocess.Popen(
            server_command(kind, port), cwd=_django.ROOT, env=env,
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        try:
            url = f"http://127.0.0.1:{port}"
            wait_until_ready(url, process, lambda: _tail(log), READY_TIMEOUT)
            yield url
        finally:
            stop(process)


def _tail(log: IO[str]) -> str:
    log.seek(0)
    return "".join(log.readlines()[-30:])


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# ---------------------------------------------------------------- the dataset, seen through the API


@dataclass
class Campus:
    rooms: list[tuple[int, list[int]]]  # (room id, its camera ids), rooms with cameras only
    first_week: date  # Mondays of the first and last week a 15-week probe may start in
    last_week: date
    term_weeks: list[date]  # Mondays that begin a list window lying wholly in a lecture period
    event_ids: list[int] = field(default_factory=list)


def discover(api: Api, weeks: int, page_size: int, rng: random.Random) -> Campus:
    """Rooms, cameras and the lecture periods, from list calls (works for --url too)."""
    cameras: dict[int, list[int]] = {}
    for item in _all_pages(api, "schedule_scheduleresource", "KalturaCameraScheduleResourceFilter"):
        cameras.setdefault(int(item.findtext("parentId")), []).append(int(item.findtext("id")))
    first, last = (_series_start(api, order) for order in ("+startDate", "-startDate"))
    first_week = first - timedelta(days=first.weekday())
    last_week = last - timedelta(days=last.weekday())
    # The generator's semesters (bench/generate.py): lectures run SEMESTER_WEEKS from their start.
    semesters = generate.semesters_for(last.year - generate.FIRST_YEAR + 1)
    term_weeks = [
        s.start + timedelta(weeks=k)
        for s in semesters
        if first_week <= s.start <= last_week
        for k in range(generate.SEMESTER_WEEKS - weeks + 1)
    ]
    if not cameras or not term_weeks:
        raise ApiFailure("no bench dataset behind this server: no cameras or no lecture series")
    campus = Campus(sorted(cameras.items()), first_week, last_week, term_weeks)
    for _ in range(4):  # events for `get`, from a few pages of random windows
        params = {"filter": list_filter(campus, weeks, rng), "pager": pager(page_size, rng.randint(1, 4))}
        page = api.call("schedule_scheduleevent", "list", params)
        campus.event_ids += [int(item.findtext("id")) for item in objects(page)]
    if not campus.event_ids:
        raise ApiFailure("no events found in the lecture periods")
    return campus


def _all_pages(api: Api, service: str, filter_type: str) -> Iterator[etree._Element]:
    index = 1
    while True:
        params = {"filter": {"objectType": filter_type}, "pager": pager(PAGE_SIZE, index)}
        page = api.call(service, "list", params)
        yield from objects(page)
        if index * PAGE_SIZE >= total_count(page):
            return
        index += 1


def _series_start(api: Api, order: str) -> date:
    filter = {"objectType": "KalturaScheduleEventFilter", "recurrenceTypeEqual": "1", "orderBy": order}
    found = objects(api.call("schedule_scheduleevent", "list", {"filter": filter, "pager": pager(1)}))
    if not found:
        raise ApiFailure("no lecture series behind this server: is it serving the bench dataset?")
    return datetime.fromtimestamp(int(found[0].findtext("startDate")), generate.ZONE).date()


def list_filter(campus: Campus, weeks: int, rng: random.Random, **extra: str) -> dict[str, str]:
    monday = rng.choice(campus.term_weeks)
    start = generate.local(monday, datetime.min.time())
    end = generate.local(monday + timedelta(weeks=weeks), datetime.min.time())
    return {
        "objectType": "KalturaScheduleEventFilter",
        "startDateGreaterThanOrEqual": str(int(start.timestamp())),
        "startDateLessThanOrEqual": str(int(end.timestamp()) - 1),
        "orderBy": "+startDate",
        **extra,
    }


# ---------------------------------------------------------------- probes


@dataclass
class Probe:
    request: httpx.Request
    check: Callable[[etree._Element], int]  # validates the answer; returns its object count


def conflict_probes(api: Api, campus: Campus, n: int, rng: random.Random) -> list[Probe]:
    weeks = (campus.last_week - campus.first_week).days // 7
    probes = []
    for _ in range(n):
        room, cameras = rng.choice(campus.rooms)
        day = campus.first_week + timedelta(weeks=rng.randrange(weeks + 1), days=rng.randrange(5))
        start = int(generate.local(day, rng.choice(generate.SLOTS)).timestamp())
        event = {
            "objectType": "KalturaRecordScheduleEvent",
            "summary": "Bench probe",
            "startDate": str(start),
            "endDate": str(start + LECTURE_SECONDS),
            "duration": str(LECTURE_SECONDS),
            "recurrenceType": "1",
            "recurrence": {
                "objectType": "KalturaScheduleEventRecurrence",
                "frequency": "weeks",
                "count": str(SERIES_WEEKS),
                "byDay": generate.WEEKDAYS[day.weekday()],
                "timeZone": generate.ZONE_NAME,
            },
        }
        params = {
            "resourceIds": f"{room},{rng.choice(cameras)}",
            "scheduleEvent": event,
            "scheduleEventConflictType": "3",
        }
        request = api.request("schedule_scheduleevent", "getConflicts", params)
        probes.append(Probe(request, _list_of("KalturaScheduleEventListResponse")))
    return probes


def list_probes(api: Api, campus: Campus, n: int, weeks: int, page_size: int, rng) -> list[Probe]:
    probes = []
    for _ in range(n):
        params = {"filter": list_filter(campus, weeks, rng), "pager": pager(page_size)}
        probes.append(Probe(api.request("schedule_scheduleevent", "list", params), _full_page(page_size)))
    return probes


def device_probes(api: Api, campus: Campus, n: int, page_size: int, ks: str, rng) -> list[Probe]:
    probes = []
    for _ in range(n):
        room = str(rng.choice(campus.rooms)[0])
        window = list_filter(campus, DEVICE_WEEKS, rng, resourceIdsLike=room)
        params = {"filter": window, "pager": pager(page_size)}
        request = api.request("schedule_scheduleevent", "list", params, ks=ks)
        probes.append(Probe(request, _list_of("KalturaScheduleEventListResponse")))
    return probes


def get_probes(api: Api, campus: Campus, n: int, rng: random.Random) -> list[Probe]:
    probes = []
    for _ in range(n):
        event_id = rng.choice(campus.event_ids)
        request = api.request("schedule_scheduleevent", "get", {"scheduleEventId": str(event_id)})
        probes.append(Probe(request, _event(event_id)))
    return probes


def _list_of(object_type: str) -> Callable[[etree._Element], int]:
    def check(root: etree._Element) -> int:
        if root.findtext("result/objectType") != object_type:
            raise ApiFailure(f"expected a {object_type}, got {root.findtext('result/objectType')}")
        return len(objects(root))

    return check


def _full_page(page_size: int) -> Callable[[etree._Element], int]:
    listed = _list_of("KalturaScheduleEventListResponse")

    def check(root: etree._Element) -> int:
        count, total = listed(root), total_count(root)
        if count != page_size or total <= page_size:
            raise ApiFailure(f"expected a full page of {page_size} or more, got {count} of {total}")
        return count

    return check


def _event(event_id: int) -> Callable[[etree._Element], int]:
    def check(root: etree._Element) -> int:
        if root.findtext("result/id") != str(event_id):
            raise ApiFailure(f"asked for event {event_id}, got {root.findtext('result/id')!r}")
        return 1

    return check


# ---------------------------------------------------------------- timing


@dataclass(frozen=True)
class Target:
    p50: float  # milliseconds
    p95: float | None = None

    def __str__(self) -> str:
        return f"p50 <= {self.p50:g} ms" + (f", p95 <= {self.p95:g} ms" if self.p95 else "")

    def met(self, summary: dict[str, Any]) -> bool:
        return summary["p50_ms"] <= self.p50 and (self.p95 is None or summary["p95_ms"] <= self.p95)


@dataclass
class Benchmark:
    key: str
    name: str
    probes: Callable[[], list[Probe]]
    target: Target | None = None


@dataclass
class Result:
    benchmark: Benchmark
    samples: list[float] = field(default_factory=list)  # milliseconds, client side
    view: list[float] = field(default_factory=list)  # ms, the answers' executionTime: the view, no XML
    objects: list[int] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)  # bytes
    reconnects: int = 0

    def summary(self) -> dict[str, Any]:
        out = {
            "benchmark": self.benchmark.key,
            "name": self.benchmark.name,
            **stats(self.samples),
            "view_p50_ms": round(percentile(sorted(self.view), 50), 3),
            "objects_per_call": round(statistics.fmean(self.objects), 2),
            "response_kb": round(statistics.fmean(self.sizes) / 1024, 1),
            "connections_closed_by_server": self.reconnects,
        }
        if self.benchmark.target:
            out["target"] = str(self.benchmark.target)
            out["target_met"] = self.benchmark.target.met(out)
        return out


def measure(api: Api, benchmark: Benchmark, warmup: int) -> Result:
    probes = benchmark.probes()
    for probe in probes[:warmup]:
        probe.check(result_of(probe.request, api.http.send(probe.request)))
    result = Result(benchmark)
    gc.collect()
    for probe in probes[warmup:]:
        began = time.perf_counter()
        response = api.http.send(probe.request)
        result.samples.append((time.perf_counter() - began) * 1000)
        root = result_of(probe.request, response)
        result.objects.append(probe.check(root))
        result.view.append(float(root.findtext("executionTime") or "nan") * 1000)
        result.sizes.append(len(response.content))
        result.reconnects += response.headers.get("connection", "").lower() == "close"
    return result


# ---------------------------------------------------------------- report


def machine() -> str:
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next((line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")), cpu)
    except OSError:
        pass
    return f"{platform.platform()}, {os.cpu_count()} CPUs ({cpu or 'unknown CPU'})"


def header(args: argparse.Namespace, kind: str, url: str) -> list[str]:
    if args.url:
        database = f"the one behind {url} (not inspected)"
        dataset = "(not inspected)"
    else:
        database = _django.describe_database()
        info = generate.dataset_info(generate.bench_partner()) or {}
        dataset = (
            f"{int(info.get('rows', 0)):,} event rows, {int(info.get('resources', 0)):,} resources, "
            f"seed {info.get('seed', '?')}"
        )
    server = "already running" if args.url else " ".join(server_command(kind, httpx.URL(url).port or 0)[1:])
    return [
        f"database:  {database}",
        f"dataset:   {dataset}",
        f"server:    {url} ({server}); DEBUG=false, DB_CONN_MAX_AGE={os.environ.get('DB_CONN_MAX_AGE', 600)}",
        f"client:    httpx {httpx.__version__}, one keep-alive connection, JSON body, format=2 (XML)",
        f"machine:   {machine()}",
        f"software:  Python {platform.python_version()}, Django {django.__version__}",
        f"run at:    {datetime.now(UTC):%Y-%m-%d %H:%M}Z",
    ]


def columns() -> str:
    times = "".join(f"{c:>11}" for c in ("p50", "p95", "mean", "max", "view p50"))
    return f"  {'':<52}{times}{'objects':>9}{'KB':>8}"


def row(result: Result) -> str:
    s = result.summary()
    times = "".join(f"{s[k]:>9.2f}ms" for k in ("p50_ms", "p95_ms", "mean_ms", "max_ms", "view_p50_ms"))
    line = f"  {result.benchmark.name:<52}{times}{s['objects_per_call']:>9.1f}{s['response_kb']:>8.1f}"
    if "target" in s:
        line += f"   target {s['target']}: {'met' if s['target_met'] else 'MISSED'}"
    return line


def benchmarks(api: Api, campus: Campus, args: argparse.Namespace, device_ks: str) -> list[Benchmark]:
    n = args.warmup + args.iterations
    size = args.page_size

    def rng(key: str) -> random.Random:
        return random.Random(f"{args.seed}:{key}")  # the same probes with or without --only

    return [
        Benchmark(
            "conflicts",
            f"getConflicts: {SERIES_WEEKS}-week weekly series, BOTH",
            lambda: conflict_probes(api, campus, n, rng("conflicts")),
            Target(10, 25),
        ),
        Benchmark(
            "list",
            f"list: {size} of a {args.weeks}-week window, +startDate",
            lambda: list_probes(api, campus, n, args.weeks, size, rng("list")),
            Target(60) if size == PAGE_SIZE else None,
        ),
        Benchmark(
            "device",
            f"list: one room (resourceIdsLike), {DEVICE_WEEKS} weeks, device KS",
            lambda: device_probes(api, campus, n, size, device_ks, rng("device")),
        ),
        Benchmark("get", "get: one event", lambda: get_probes(api, campus, n, rng("get"))),
    ]


def run(args: argparse.Namespace, url: str, kind: str, admin_secret: str) -> list[Result]:
    api = Api(url)
    try:
        api.ks = start_session(api, args.partner_id, admin_secret, SESSION_ADMIN)
        device_ks = start_session(api, args.partner_id, admin_secret, SESSION_USER, DEVICE_PRIVILEGES)
        lines = header(args, kind, url)
        print("\n".join(lines), flush=True)
        campus = discover(api, args.weeks, args.page_size, random.Random(args.seed))
        last = campus.last_week + timedelta(weeks=SERIES_WEEKS)
        print(
            f"discovered: {len(campus.rooms)} rooms with cameras, lectures {campus.first_week} .. {last}, "
            f"{len(campus.term_weeks)} list windows in term",
            flush=True,
        )
        print(f"\n{args.iterations} timed calls after {args.warmup} warm-up calls each (ms):\n{columns()}")
        results = []
        for benchmark in benchmarks(api, campus, args, device_ks):
            if not args.only or benchmark.key in args.only:
                results.append(measure(api, benchmark, args.warmup))
                print(row(results[-1]), flush=True)
        closed = max(r.reconnects for r in results)
        if closed:
            print(
                f"\n(the server closed the connection after {closed} of each benchmark's calls, so they "
                "opened a new one, as the official client, which keeps none, always does)"
            )
        if args.json:
            with open(args.json, "w") as fh:
                json.dump({"header": lines, "results": [r.summary() for r in results]}, fh, indent=2)
        return results
    finally:
        api.close()


def dataset_secret() -> str:
    """The bench partner's admin secret, from the database the server is about to serve."""
    partner = generate.bench_partner()
    if partner is None or generate.dataset_info(partner) is None:
        raise SystemExit("no bench dataset in this database: run `.venv/bin/python bench/generate.py` first")
    return partner.admin_secret


def _terminate(signum, frame) -> None:
    raise SystemExit(128 + signum)  # unwinds through `served`, which stops the server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=200, help="timed calls per benchmark (default 200)")
    parser.add_argument("--warmup", type=int, default=20, help="untimed calls first (default 20)")
    parser.add_argument("--only", action="append", choices=BENCHMARKS, help="run this benchmark (repeatable)")
    parser.add_argument("--page-size", type=int, default=PAGE_SIZE, help="list page size (default 500)")
    parser.add_argument("--weeks", type=int, default=2, help="weeks of term a list window spans (default 2)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    parser.add_argument("--server", choices=("auto", "runserver", "granian"), default="auto",
                        help="what serves the app (auto: granian, as deployed)")  # fmt: skip
    parser.add_argument("--no-migrate", action="store_true", help="do not migrate the database first")
    parser.add_argument("--url", help="benchmark this running server instead of starting one")
    parser.add_argument("--admin-secret", help="with --url: the partner's admin secret")
    parser.add_argument("--partner-id", type=int, default=generate.PARTNER_ID, help="with --url: the partner")
    args = parser.parse_args(argv)
    if args.url and not args.admin_secret:
        parser.error("--url needs --admin-secret (the server's database is not read)")
    if not 1 <= args.weeks <= generate.SEMESTER_WEEKS or args.iterations < 1 or args.warmup < 0:
        parser.error(f"--weeks must be 1..{generate.SEMESTER_WEEKS}, --iterations positive")
    signal.signal(signal.SIGTERM, _terminate)

    try:
        if args.url:
            run(args, args.url.rstrip("/"), "", args.admin_secret)
            return 0
        if not args.no_migrate:
            call_command("migrate", interactive=False, verbosity=0)
        secret = dataset_secret()
        kind = server_kind(args.server)
        with served(kind) as url:
            run(args, url, kind, secret)
        return 0
    except (ApiFailure, ServerFailed) as failure:
        print(f"\nbench/api.py: FAILED: {failure}", file=sys.stderr)
        return 1
    except httpx.TransportError as error:
        print(f"\nbench/api.py: FAILED: the server stopped answering: {error!r}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nbench/api.py: interrupted; the server is stopped", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
