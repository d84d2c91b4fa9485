"""A crowd against the server: many clients at once, a realistic mix, then device polls flat out.

    .venv/bin/python bench/load.py                        # 100 clients, 60 s mix + 20 s polls, own stack
    .venv/bin/python bench/load.py --clients 20 --duration 10 --phase mix --writes-per-minute 120
    .venv/bin/python bench/load.py --embedded             # make run's stack instead (issue #15)
    .venv/bin/python bench/load.py --url https://127.0.0.1:8443 --admin-secret S --admin-password P \\
        --cafile var/stack/tls/cert.pem
    .venv/bin/python bench/load.py --json bench/data/load.json

The server under test (issue #20 measures the production stack, so it is the default):
- `--stack` (default): scripts/stack.py's production stack (PostgreSQL, Redis, granian with TLS,
  a Celery worker and beat, DEBUG off) in a temporary STACK_DIR on free ports, stopped at the end
  (bench/_stack.py); STACK_WEB_WORKERS / STACK_WEB_THREADS / STACK_TLS pass through to it.
- `--embedded`: `make run`'s (scripts/serve.sh: granian, its task worker, SQLite).
- `--url`: a running server with the demo partner (seed_demo); nothing is started or stopped.

Phase "mix": each client is one keep-alive connection sending, back to back, one of (weights):
device 50 (a capture device's poll of its room: scheduleEvent.list, format=ical, its If-None-Match),
feed 20 (a calendar app's poll of a room's or building's /feeds/<token>.ics, If-None-Match),
list 12 (a week of the semester, half for one room), get 6, getConflicts 6 (a 90-minute booking
on a room), week 6 (the staff week page, signed in, gzip). Polls dominate a campus (every device
polls every minute, every subscribed calendar every few: thousands of requests a minute for 500
rooms) while people look far less often. Writes come beside the mix at a fixed pace
(--writes-per-minute, 60: half scheduleEvent.update of a booking the bench made, half an add and
its scheduleEventResource.add on a room), not as a share of it: a device's ETag is the partner's
schedule version (kaltura_api/deliveries.py), which every write changes, so writes as a share
made the 200s grow with the crowd's speed (at 2 % most device polls were 200s). A booking a
second is still far above a campus's rate.
The ETags are the device's and the subscriber's (one per room and feed, shared by the clients),
primed before the run: a poll is answered 304 until a write changes its room, then 200 to the
polls in flight. Phase "polls": device polls only, as fast as the clients can send them (nothing
writes: all 304), for the requests per second.

An error is any answer that is not the expected one: a connection reset or timeout, an HTTP status
other than 200 (or 304 to a poll), a Kaltura error envelope, a poll's 200 without a calendar, the
week page not ending its HTML. Latency is timed around sending the request and reading the whole
answer. Memory is the resident size (VmRSS) of the server's processes, sampled each second (the
stack: each part's process group; PostgreSQL and Redis are shown but not in the growth).

Targets. Issue #20 (the stack, a 2-core machine): 100 clients for 60 s with 0 errors, the mix's p99
<= 250 ms, device 304 polls >= 1,000 requests/s. Issue #15 (--embedded): 0 errors, p99 <= 1 s,
memory growth <= 50 MiB. The clients run in this process (asyncio, aiohttp) and share the machine
with the server: the report gives the CPU they used.
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
import secrets
import signal
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from _crowd import Campus, Client, Outcome, add_devices, discover, find_feeds, gather_clients, prime, sign_in
from _server import free_port, wait_until_ready
from _stack import USERNAME, ProductionStack

ROOT = Path(__file__).resolve().parent.parent
MIX = (("device", 50), ("feed", 20), ("list", 12), ("get", 6), ("getConflicts", 6), ("week", 6))
OPS_KNOWN = (*(op for op, _ in MIX), "write")
POLLS = (("device", 1),)
OPS = ("device 304", "device 200", "feed 304", "feed 200", "list", "get", "getConflicts", "add",
       "addResource", "update", "week page")  # fmt: skip
APP_PARTS = ("web", "worker", "beat")  # the memory whose growth counts (not PostgreSQL's, Redis's)
TARGETS = {"stack": {"p99_ms": 250.0, "polls_per_second": 1000.0}, "embedded": {"p99_ms": 1000.0}}
TARGET_GROWTH_MIB = 50.0
READY_TIMEOUT = 120


# ---------------------------------------------------------------- the server under test


@dataclass
class Target:
    url: str
    partner_id: int
    admin_secret: str
    password: str
    ssl_context: ssl.SSLContext | None = None
    parts: Callable[[], dict[str, int]] = dict  # name -> the session id its processes share


@contextmanager
def server(args: argparse.Namespace, log_path: Path) -> Iterator[Target]:
    if args.url:
        context = ssl.create_default_context(cafile=args.cafile) if args.cafile else None
        secret, password = args.admin_secret or "", args.admin_password or ""
        yield Target(args.url.rstrip("/"), args.partner_id, secret, password, context)
    elif args.embedded:
        with embedded_stack(log_path) as target:
            yield target
    else:
        with ProductionStack(**stack_knobs()) as stack:
            log_path.write_text(stack.output)
            yield Target(stack.url(), stack.partner_id, stack.admin_secret, stack.password,
                         stack.ssl_context(), stack.pids)  # fmt: skip


def describe(args: argparse.Namespace) -> str:
    if args.url or args.embedded:
        return args.url or "embedded (make run's stack, SQLite)"
    knobs = [
        f"{k}={os.environ[k]}"
        for k in ("STACK_WEB_WORKERS", "STACK_WEB_THREADS", "STACK_TLS")
        if os.environ.get(k)
    ]
    return "production stack (scripts/stack.py" + "".join(f", {knob}" for knob in knobs) + ")"


def stack_knobs() -> dict[str, Any]:
    """The stack's settings this run may vary (the report says which were set)."""
    knobs: dict[str, Any] = {
        k: os.environ[k] for k in ("STACK_WEB_WORKERS", "STACK_WEB_THREADS") if os.environ.get(k)
    }
    if os.environ.get("STACK_TLS"):
        knobs["tls"] = os.environ["STACK_TLS"].strip().lower() in ("1", "true", "yes", "on")
    return knobs


@contextmanager
def embedded_stack(log_path: Path) -> Iterator[Target]:
    """`make run`'s stack on a fresh SQLite file; the URL and the demo partner's credentials."""
    port, password = free_port(), secrets.token_urlsafe(12)
    with tempfile.TemporaryDirectory(prefix="bench-load-") as folder:
        env = {
            **os.environ, "PORT": str(port), "HOST": "127.0.0.1", "PYTHON": sys.executable,
            "DATABASE_URL": f"sqlite:///{folder}/load.sqlite3", "VAR_DIR": folder,
            "STATIC_ROOT": f"{folder}/static", "LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1",
            "DEMO_ADMIN_PASSWORD": password,
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
                yield Target(url, partner, secret, password, parts=lambda: {"web": process.pid})
            finally:
                _stop(process)


def _stop(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=40)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


TICKS = os.sysconf("SC_CLK_TCK")


def usage(parts: dict[str, int]) -> dict[str, tuple[float, float]]:
    """Each part's resident memory (MiB) and CPU used so far (s), over its living processes: those
    of the session its leader started (the web server's workers, Celery's) and its leader's
    children, for PostgreSQL's backends start sessions of their own. A web worker replaced (after
    a day, or a crash) takes its CPU seconds with it."""
    owner = {pid: name for name, pid in parts.items()}
    total = dict.fromkeys(parts, (0.0, 0.0))
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            found = re.search(r"VmRSS:\s+(\d+) kB", (entry / "status").read_text())
        except (OSError, IndexError, ValueError):
            continue  # the process ended while we looked
        name = owner.get(int(fields[3])) or owner.get(int(fields[1]))  # its session, or its parent
        if name is not None:
            rss, cpu = total[name]
            used = (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime
            total[name] = (rss + (int(found.group(1)) / 1024 if found else 0), cpu + used)
    return total


def server_cpu(target: Target) -> dict[str, float]:
    return {name: cpu for name, (_, cpu) in usage(target.parts()).items()}


class MemorySampler(threading.Thread):
    """Each second: (time, {part: MiB}) for the target's parts (web-<port>, worker-1, postgres...)."""

    def __init__(self, target: Target) -> None:
        super().__init__(daemon=True)
        self.parts, self.stopped = target.parts(), threading.Event()
        self.samples: list[tuple[float, dict[str, float]]] = []

    def run(self) -> None:
        while self.parts and not self.stopped.wait(1.0):
            now = usage(self.parts)
            self.samples.append((time.monotonic(), {name: rss for name, (rss, _) in now.items()}))


# ---------------------------------------------------------------- the phases


@dataclass
class Phase:
    name: str
    clients: int
    duration: float
    outcomes: list[Outcome] = field(default_factory=list)
    started: float = 0.0
    client_cpu: float = 0.0
    server_cpu: dict[str, float] = field(default_factory=dict)  # part -> CPU seconds in the phase
    load_average: tuple[float, float] = (0.0, 0.0)  # the machine's, at the start and the end


async def campus_of(http: aiohttp.ClientSession, target: Target) -> Campus:
    campus = await discover(http, target.url, target.partner_id, target.admin_secret)
    await add_devices(http, campus, target.partner_id)
    campus.staff_cookie = await sign_in(target.url, target.ssl_context, USERNAME, target.password)
    await find_feeds(http, campus)
    await prime(http, campus)
    return campus


async def run_phases(
    target: Target,
    phases: list[Phase],
    mix: tuple[tuple[str, int], ...],
    writes_per_minute: float,
    think: float = 0.0,
) -> None:
    # aiohttp, not httpx: with 100 connections httpx's pool cost this process 8 ms of CPU per
    # request, on the machine the server needs (aiohttp: well under 1 ms). No cookie jar: only
    # the week page sends the staff's cookie, as a browser would; the API and the polls send none.
    most = max(phase.clients for phase in phases)
    connector = aiohttp.TCPConnector(limit=most + 1, ssl=target.ssl_context or True)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(
        connector=connector, timeout=timeout, cookie_jar=aiohttp.DummyCookieJar()
    ) as http:
        campus = await campus_of(http, target)
        for phase in phases:
            clients = [Client(http, campus, random.Random(n), phase.outcomes) for n in range(phase.clients)]
            before, server_before, load = cpu_seconds(), server_cpu(target), os.getloadavg()[0]
            if phase.name == "polls":
                phase.started = await gather_clients(clients, POLLS, phase.duration)
            else:
                phase.started = await gather_clients(clients, mix, phase.duration, writes_per_minute, think)
            phase.client_cpu = cpu_seconds() - before
            after = server_cpu(target)
            phase.server_cpu = {name: after[name] - server_before.get(name, 0.0) for name in after}
            phase.load_average = (load, os.getloadavg()[0])


def cpu_seconds() -> float:
    used = resource.getrusage(resource.RUSAGE_SELF)
    return used.ru_utime + used.ru_stime


# ---------------------------------------------------------------- the report


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def latency(outcomes: list[Outcome], duration: float) -> dict[str, Any]:
    times = [o.ms for o in outcomes]
    return {
        "requests": len(outcomes), "requests_per_second": round(len(outcomes) / duration, 1),
        "errors": sum(bool(o.error) for o in outcomes),
        "p50_ms": round(statistics.median(times), 1) if times else None,
        "p95_ms": round(percentile(times, 0.95), 1), "p99_ms": round(percentile(times, 0.99), 1),
        "max_ms": round(max(times), 1) if times else None,
    }  # fmt: skip


def summarize_phase(phase: Phase) -> dict[str, Any]:
    per_op = {op: latency([o for o in phase.outcomes if o.op == op], phase.duration) for op in OPS}
    app_cpu = sum(seconds for name, seconds in phase.server_cpu.items() if name.startswith(APP_PARTS))
    return {
        **latency(phase.outcomes, phase.duration),
        "clients": phase.clients, "duration_s": phase.duration, "client_cpu_s": round(phase.client_cpu, 1),
        "server_cpu_s": {name: round(seconds, 1) for name, seconds in phase.server_cpu.items()},
        "app_cpu_ms_per_request": round(app_cpu * 1000 / len(phase.outcomes), 2) if app_cpu else None,
        "load_average": phase.load_average,
        "error_kinds": dict(Counter(f"{o.op}: {o.error}" for o in phase.outcomes if o.error).most_common(10)),
        "per_op": {op: values for op, values in per_op.items() if values["requests"]},
    }  # fmt: skip


def summarize_memory(samples: list[tuple[float, dict[str, float]]], since: float) -> dict[str, Any]:
    if not samples:
        return {}
    app = [
        (at, sum(mib for name, mib in parts.items() if name.startswith(APP_PARTS))) for at, parts in samples
    ]
    after_warmup = [mib for at, mib in app if at >= since]
    return {
        "first": round(app[0][1], 1), "after_warmup": round(after_warmup[0], 1) if after_warmup else None,
        "last": round(app[-1][1], 1), "max": round(max(mib for _, mib in app), 1),
        "growth": round(after_warmup[-1] - after_warmup[0], 1) if len(after_warmup) > 1 else None,
        "parts_last": {name: round(mib, 1) for name, mib in samples[-1][1].items()},
    }  # fmt: skip


def verdict(summary: dict[str, Any], mode: str) -> list[str]:
    targets, checks = TARGETS[mode], []
    if mix := summary["phases"].get("mix"):
        crowd, p99 = f"{mix['clients']} clients for {mix['duration_s']:.0f} s", targets["p99_ms"]
        checks += [(f"{crowd}: errors == 0", mix["errors"] == 0),
                   (f"p99 of the mix <= {p99:.0f} ms", mix["p99_ms"] <= p99)]  # fmt: skip
    if (polls := summary["phases"].get("polls")) and "polls_per_second" in targets:
        rate = polls["per_op"].get("device 304", {}).get("requests_per_second", 0)
        checks += [("polls: errors == 0", polls["errors"] == 0),
                   (f"device 304 polls >= {targets['polls_per_second']:.0f} requests/s",
                    rate >= targets["polls_per_second"])]  # fmt: skip
    growth = summary["memory_mib"].get("growth")
    if mode == "embedded":
        checks.append(
            (f"memory growth <= {TARGET_GROWTH_MIB:.0f} MiB", growth is None or growth <= TARGET_GROWTH_MIB)
        )
    return [f"{'met   ' if ok else 'MISSED'} {name}" for name, ok in checks]


def row(name: str, values: dict[str, Any]) -> str:
    cells = (values["requests"], values["requests_per_second"], values["errors"], values["p50_ms"] or 0,
             values["p95_ms"], values["p99_ms"])  # fmt: skip
    widths = (10, 10, 8, 9, 9, 9)
    return f"{name:<14}" + "".join(f"{cell:>{width}}" for cell, width in zip(cells, widths, strict=True))


def phase_report(name: str, phase: dict[str, Any]) -> list[str]:
    cpu, server = phase["client_cpu_s"], phase["server_cpu_s"]
    return [
        f"phase {name}: {phase['clients']} clients for {phase['duration_s']:.0f} s; the clients used {cpu} s "
        f"of CPU in this process ({cpu / phase['duration_s']:.0%} of a core, on the server's machine)",
        "server CPU (s): "
        + (", ".join(f"{part} {seconds}" for part, seconds in server.items()) or "not measured (--url)")
        + f"; web + workers + beat: {phase['app_cpu_ms_per_request']} ms per request",
        "machine's load average: {:.1f} at the start, {:.1f} at the end".format(*phase["load_average"]),
        f"{'call':<14}{'requests':>10}{'req/s':>10}{'errors':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}",
        *(row(op, values) for op, values in phase["per_op"].items()),
        row("all", phase),
        f"errors: {phase['error_kinds'] or 'none'}; slowest {phase['max_ms']} ms",
        "",
    ]


def report(summary: dict[str, Any], mode: str, mix: tuple[tuple[str, int], ...]) -> str:
    memory = summary["memory_mib"]
    lines = [
        f"machine:   {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        f"server:    {summary['server']}; mix "
        + " / ".join(f"{op} {weight}" for op, weight in mix)
        + f", {summary['writes_per_minute']:g} writes a minute"
        + (
            f", a pause of {summary['think_seconds']:g} s on average between a client's requests"
            if summary.get("think_seconds")
            else ", requests back to back"
        ),
        "",
    ]
    for name, phase in summary["phases"].items():
        lines += phase_report(name, phase)
    if memory:
        lines.append(
            f"memory (web, workers, beat): {memory['first']} MiB at start, {memory['after_warmup']} after "
            f"the warm-up, {memory['last']} at the end (max {memory['max']}): growth {memory['growth']} MiB"
        )
        lines.append(
            "  by part at the end: " + ", ".join(f"{k} {v}" for k, v in memory["parts_last"].items())
        )
    return "\n".join([*lines, "", *verdict(summary, mode)])


def mix_weights(text: str) -> tuple[tuple[str, int], ...]:
    known = OPS_KNOWN
    try:
        weights = tuple(
            (op.strip(), int(weight)) for op, _, weight in (item.partition("=") for item in text.split(","))
        )
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected op=weight,... with whole weights") from None
    unknown = [op for op, _ in weights if op not in known]
    if unknown or not any(weight > 0 for _, weight in weights):
        raise argparse.ArgumentTypeError(
            f"{text!r}: the ops are {', '.join(known)}, one weight above 0 at least"
        )
    return weights


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--stack", action="store_true", help="scripts/stack.py's production stack (default)")
    where.add_argument("--embedded", action="store_true", help="make run's stack (scripts/serve.sh, SQLite)")
    where.add_argument("--url", help="a running server instead of a fresh stack")
    parser.add_argument("--phase", choices=("mix", "polls", "both"), default="both")
    parser.add_argument("--mix", type=mix_weights, default=MIX, help='other weights: "device=1,week=1,..."')
    parser.add_argument("--writes-per-minute", type=float, default=60.0, help="the mix's paced writes")
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--think", type=float, default=0.0, help="the mix's mean pause between requests, s")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of the mix")
    parser.add_argument("--polls-duration", type=float, default=20.0, help="seconds of the polls phase")
    parser.add_argument("--warmup", type=float, default=10.0, help="seconds before the memory baseline")
    parser.add_argument("--partner-id", type=int, default=100)
    parser.add_argument("--admin-secret", help="with --url: the partner's admin secret")
    parser.add_argument(
        "--admin-password", help=f"with --url: the password of {USERNAME!r}, for the week page"
    )
    parser.add_argument("--cafile", help="with --url: the certificate to trust (the stack's tls/cert.pem)")
    parser.add_argument("--json", help="also write the summary here")
    parser.add_argument(
        "--log", default=str(ROOT / "bench" / "data" / "load-server.log"), help="the server's output"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    mode = "embedded" if args.embedded else "stack"
    phases = [Phase("mix", args.clients, args.duration)] if args.phase in ("mix", "both") else []
    if args.phase in ("polls", "both"):
        phases.append(Phase("polls", args.clients, args.polls_duration))
    log_path = Path(args.log)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with server(args, log_path) as target:
        sampler = MemorySampler(target)
        sampler.start()
        asyncio.run(run_phases(target, phases, args.mix, args.writes_per_minute, args.think))
        sampler.stopped.set()
        sampler.join()
    summary = {
        "server": describe(args),
        "writes_per_minute": args.writes_per_minute,
        "think_seconds": args.think,
        "phases": {phase.name: summarize_phase(phase) for phase in phases},
        "memory_mib": summarize_memory(sampler.samples, phases[0].started + args.warmup),
    }
    print(report(summary, mode, args.mix))
    if args.json:
        Path(args.json).write_text(json.dumps({"args": vars(args), **summary}, indent=2))
    return 0 if all(line.startswith("met") for line in verdict(summary, mode)) else 1


if __name__ == "__main__":
    sys.exit(main())
