"""A crowd against the embedded default: many clients at once on `make run`'s stack.

    .venv/bin/python bench/load.py                        # 100 clients for 60 s on its own stack
    .venv/bin/python bench/load.py --clients 20 --duration 10
    .venv/bin/python bench/load.py --url http://127.0.0.1:8000 --partner-id 100 --admin-secret S
    .venv/bin/python bench/load.py --json bench/data/load.json

Unless --url is given, the script starts the stack exactly as `make run` does (scripts/serve.sh:
migrate, demo data, gunicorn with scheduler_site/embedded.py and its task worker) on a fresh
SQLite file in a temporary folder and a free loopback port, and stops it at the end.

Each client is one keep-alive connection sending Kaltura API calls back to back (JSON answers,
an admin KS from session.start), picked at random in the mix list 70 / get 10 / getConflicts 10 /
writes 10: `scheduleEvent.list` of a week of the demo semester (half of them for one room; the default
page of 30, as a client that asks for no pager gets),
`scheduleEvent.get` of a known event, `scheduleEvent.getConflicts` of a 90-minute booking on a
room, and `scheduleEvent.add` / `scheduleEvent.update` of the bench's own events.

An error is any answer that is not a successful Kaltura result: a connection reset or timeout,
an HTTP status other than 200, or a Kaltura error envelope. Latency is timed around sending the
request and reading the whole answer. The memory is the resident size (VmRSS) of every process of
the server (gunicorn's master and workers, the task worker), sampled each second: its growth is
the last sample less the first one taken after --warmup seconds of load.

Targets (issue #15, on a 2-core machine): 0 errors, p99 <= 1 s, memory growth <= 50 MiB. The
clients run in this process (asyncio, aiohttp) and share the machine with the server; the report says
how much CPU they used.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from _server import free_port, wait_until_ready

ROOT = Path(__file__).resolve().parent.parent
MIX = (("list", 70), ("get", 10), ("getConflicts", 10), ("write", 10))
WEEK = 7 * 86400
LECTURE = 90 * 60
TARGET_P99_MS, TARGET_GROWTH_MIB = 1000.0, 50.0
READY_TIMEOUT = 120


# ---------------------------------------------------------------- the server under test


@dataclass
class Stack:
    url: str
    partner_id: int
    admin_secret: str
    session_id: int | None = None  # the process group to measure and stop; None for --url


@contextmanager
def embedded_stack(log_path: Path):
    """`make run`'s stack on a fresh SQLite file; the URL and the demo partner's credentials."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="bench-load-") as folder:
        env = {
            **os.environ, "PORT": str(port), "HOST": "127.0.0.1", "PYTHON": sys.executable,
            "DATABASE_URL": f"sqlite:///{folder}/load.sqlite3", "VAR_DIR": folder,
            "STATIC_ROOT": f"{folder}/static", "LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1",
        }  # fmt: skip
        env.pop("REDIS_URL", None)
        with open(log_path, "w+") as log:
            process = subprocess.Popen(
                ["scripts/serve.sh"], cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
            try:
                url = f"http://127.0.0.1:{port}"
                wait_until_ready(url, process, lambda: log_path.read_text()[-3000:], READY_TIMEOUT)
                text = log_path.read_text()
                partner = int(re.search(r"Partner id:\s+(\d+)", text).group(1))
                secret = re.search(r"Admin secret:\s+(\S+)", text).group(1)
                yield Stack(url, partner, secret, process.pid)
            finally:
                _stop(process)


@contextmanager
def server(args: argparse.Namespace, log_path: Path):
    if args.url:
        yield Stack(args.url.rstrip("/"), args.partner_id, args.admin_secret or "")
    else:
        with embedded_stack(log_path) as stack:
            yield stack


def _stop(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=40)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


def tree_rss_mib(session_id: int) -> float:
    """The resident memory of every process in the server's session (it was started in one)."""
    total_kib = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[3]) != session_id:  # field 6 of stat: the session id
                continue
            status = (entry / "status").read_text()
        except (OSError, IndexError, ValueError):
            continue  # the process ended while we looked
        found = re.search(r"VmRSS:\s+(\d+) kB", status)
        total_kib += int(found.group(1)) if found else 0
    return total_kib / 1024


class MemorySampler(threading.Thread):
    def __init__(self, session_id: int | None) -> None:
        super().__init__(daemon=True)
        self.session_id, self.samples, self.stopped = session_id, [], threading.Event()

    def run(self) -> None:
        while self.session_id is not None and not self.stopped.wait(1.0):
            self.samples.append((time.monotonic(), tree_rss_mib(self.session_id)))


# ---------------------------------------------------------------- the clients


@dataclass
class Campus:
    rooms: list[int]
    events: list[int]
    own: list[int] = field(default_factory=list)  # events the bench added, which it may update
    first_week: int = 0


@dataclass
class Outcome:
    op: str
    started: float
    ms: float
    error: str = ""


class Api:
    def __init__(self, client: aiohttp.ClientSession, url: str, ks: str = "") -> None:
        self.client, self.url, self.ks = client, url, ks

    async def call(self, service: str, action: str, **params: Any) -> Any:
        body = {"format": 1, "ks": self.ks, **params}
        url = f"{self.url}/api_v3/service/{service}/action/{action}"
        async with self.client.post(url, json=body) as response:
            if response.status != 200:
                raise ApiFailure(f"HTTP {response.status}")
            result = await response.json(content_type=None)
        if isinstance(result, dict) and result.get("objectType") == "KalturaAPIException":
            raise ApiFailure(result.get("code") or "error")
        return result


class ApiFailure(Exception):
    pass


async def start_session(api: Api, stack: Stack) -> str:
    return await api.call("session", "start", secret=stack.admin_secret, partnerId=stack.partner_id, type=2)


async def discover(api: Api) -> Campus:
    rooms = await api.call(
        "schedule_scheduleResource", "list", filter={"objectType": "KalturaLocationScheduleResourceFilter"},
        pager={"pageSize": 500},
    )  # fmt: skip
    events = await api.call(
        "schedule_scheduleEvent", "list", filter={"orderBy": "+startDate"}, pager={"pageSize": 500}
    )
    items = events["objects"]
    return Campus(
        rooms=[room["id"] for room in rooms["objects"]],
        events=[event["id"] for event in items],
        first_week=min(event["startDate"] for event in items) // WEEK * WEEK,
    )


def request_for(op: str, campus: Campus, rng: random.Random) -> tuple[str, str, dict[str, Any]]:
    week = campus.first_week + rng.randrange(15) * WEEK
    if op == "list":
        found = {"objectType": "KalturaScheduleEventFilter", "startDateGreaterThanOrEqual": week,
                 "startDateLessThanOrEqual": week + WEEK, "orderBy": "+startDate"}  # fmt: skip
        if rng.random() < 0.5:
            found["resourceIdsLike"] = str(rng.choice(campus.rooms))
        return "schedule_scheduleEvent", "list", {"filter": found}  # Kaltura's default page: 30
    if op == "get":
        return "schedule_scheduleEvent", "get", {"scheduleEventId": rng.choice(campus.events)}
    start = week + rng.randrange(5) * 86400 + rng.choice((8, 9, 11, 14, 16)) * 3600
    booking = {"objectType": "KalturaRecordScheduleEvent", "summary": "Load test booking",
               "startDate": start, "endDate": start + LECTURE, "recurrenceType": 0}  # fmt: skip
    if op == "getConflicts":
        return (
            "schedule_scheduleEvent",
            "getConflicts",
            {"resourceIds": str(rng.choice(campus.rooms)), "scheduleEvent": booking},
        )
    if campus.own and rng.random() < 0.5:
        changed = {"objectType": "KalturaRecordScheduleEvent", "summary": f"Load test {rng.randrange(10**6)}"}
        return (
            "schedule_scheduleEvent",
            "update",
            {"scheduleEventId": rng.choice(campus.own), "scheduleEvent": changed},
        )
    return "schedule_scheduleEvent", "add", {"scheduleEvent": booking}


async def client_loop(
    api: Api, campus: Campus, rng: random.Random, deadline: float, out: list[Outcome]
) -> None:
    ops, weights = zip(*MIX, strict=True)
    while time.monotonic() < deadline:
        op = rng.choices(ops, weights)[0]
        service, action, params = request_for(op, campus, rng)
        started = time.perf_counter()
        error = ""
        try:
            result = await api.call(service, action, **params)
            if action == "add":
                campus.own.append(result["id"])
        except ApiFailure as failure:
            error = str(failure)
        except (aiohttp.ClientError, TimeoutError) as failure:
            error = type(failure).__name__
        out.append(Outcome(op, time.monotonic(), (time.perf_counter() - started) * 1000, error))


async def crowd(stack: Stack, clients: int, duration: float) -> tuple[list[Outcome], float]:
    # aiohttp, not httpx: with 100 connections httpx's pool cost this process 8 ms of CPU per
    # request, on the machine the server needs (aiohttp: well under 1 ms).
    connector = aiohttp.TCPConnector(limit=clients + 1)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=30)) as client:
        setup = Api(client, stack.url)
        setup.ks = await start_session(setup, stack)
        campus = await discover(setup)
        out: list[Outcome] = []
        started = time.monotonic()
        deadline = started + duration
        await asyncio.gather(
            *(
                client_loop(Api(client, stack.url, setup.ks), campus, random.Random(n), deadline, out)
                for n in range(clients)
            )
        )
        return out, started


# ---------------------------------------------------------------- the report


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def summarize(
    outcomes: list[Outcome], started: float, duration: float, memory, warmup: float
) -> dict[str, Any]:
    per_op = {}
    for op, _ in MIX:
        mine = [o for o in outcomes if o.op == op]
        times = [o.ms for o in mine]
        per_op[op] = {
            "requests": len(mine), "errors": sum(bool(o.error) for o in mine),
            "p50_ms": round(statistics.median(times), 1) if times else None,
            "p95_ms": round(percentile(times, 0.95), 1), "p99_ms": round(percentile(times, 0.99), 1),
        }  # fmt: skip
    times = [o.ms for o in outcomes]
    after_warmup = [rss for at, rss in memory if at >= started + warmup]
    growth = after_warmup[-1] - after_warmup[0] if len(after_warmup) > 1 else None
    return {
        "requests": len(outcomes),
        "requests_per_second": round(len(outcomes) / duration, 1),
        "errors": sum(bool(o.error) for o in outcomes),
        "error_kinds": dict(Counter(o.error for o in outcomes if o.error).most_common(10)),
        "p50_ms": round(statistics.median(times), 1) if times else None,
        "p99_ms": round(percentile(times, 0.99), 1),
        "max_ms": round(max(times), 1) if times else None,
        "memory_mib": {
            "first": round(memory[0][1], 1) if memory else None,
            "after_warmup": round(after_warmup[0], 1) if after_warmup else None,
            "last": round(memory[-1][1], 1) if memory else None,
            "max": round(max(rss for _, rss in memory), 1) if memory else None,
            "growth": round(growth, 1) if growth is not None else None,
        },
        "per_op": per_op,
    }


def verdict(summary: dict[str, Any]) -> list[str]:
    growth = summary["memory_mib"]["growth"]
    checks = [
        ("errors == 0", summary["errors"] == 0),
        (f"p99 <= {TARGET_P99_MS:.0f} ms", summary["p99_ms"] <= TARGET_P99_MS),
        (f"memory growth <= {TARGET_GROWTH_MIB:.0f} MiB", growth is None or growth <= TARGET_GROWTH_MIB),
    ]
    return [f"{'met   ' if ok else 'MISSED'} {name}" for name, ok in checks]


def row(name: str, values: dict[str, Any]) -> str:
    cells = (
        values["requests"],
        values["errors"],
        values["p50_ms"] or 0,
        values.get("p95_ms", ""),
        values["p99_ms"],
    )
    return f"{name:<14}" + "".join(
        f"{cell:>{width}}" for cell, width in zip(cells, (10, 8, 9, 9, 9), strict=True)
    )


def report(summary: dict[str, Any], args: argparse.Namespace, client_cpu: float) -> str:
    memory = summary["memory_mib"]
    cores, python = os.cpu_count(), platform.python_version()
    lines = [
        f"machine:   {platform.processor() or platform.machine()}, {cores} cores, Python {python}",
        f"load:      {args.clients} clients for {args.duration:.0f} s, mix "
        + " / ".join(f"{op} {weight}" for op, weight in MIX),
        f"clients:   {client_cpu:.1f} s of CPU in this process ({client_cpu / args.duration:.0%} of a core)",
        "",
        f"{'call':<14}{'requests':>10}{'errors':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}",
        *(row(op, values) for op, values in summary["per_op"].items()),
    ]
    lines += [
        row("all", summary),
        "",
        f"throughput: {summary['requests_per_second']} requests/s; slowest {summary['max_ms']} ms",
        f"errors:     {summary['error_kinds'] or 'none'}",
        f"memory:     {memory['first']} MiB at start, {memory['after_warmup']} after {args.warmup:.0f} s, "
        f"{memory['last']} at the end (max {memory['max']}): growth {memory['growth']} MiB",
        "",
        *verdict(summary),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    parser.add_argument("--warmup", type=float, default=10.0, help="seconds before the memory baseline")
    parser.add_argument("--url", help="a running server instead of a fresh stack")
    parser.add_argument("--partner-id", type=int, default=100)
    parser.add_argument("--admin-secret", help="with --url: the partner's admin secret")
    parser.add_argument("--json", help="also write the summary here")
    parser.add_argument(
        "--log", default=str(ROOT / "bench" / "data" / "load-server.log"), help="the server's output"
    )
    args = parser.parse_args(argv)

    log_path = Path(args.log)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with server(args, log_path) as stack:
        sampler = MemorySampler(stack.session_id)
        sampler.start()
        cpu_before = resource.getrusage(resource.RUSAGE_SELF)
        outcomes, started = asyncio.run(crowd(stack, args.clients, args.duration))
        cpu_after = resource.getrusage(resource.RUSAGE_SELF)
        sampler.stopped.set()
        sampler.join()
    client_cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    summary = summarize(outcomes, started, args.duration, sampler.samples, args.warmup)
    print(report(summary, args, client_cpu))
    if args.json:
        Path(args.json).write_text(json.dumps({"args": vars(args), **summary}, indent=2))
    return 0 if all(line.startswith("met") for line in verdict(summary)) else 1


if __name__ == "__main__":
    sys.exit(main())
