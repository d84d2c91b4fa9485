"""Sync to an upstream Kaltura under load: bookings pushed by real Celery workers over Redis.

    .venv/bin/python bench/sync.py                  # 3 repeats: ~25 min on a 2-core machine
    .venv/bin/python bench/sync.py --ops 500 --drain 2000 --samples 20 --repeat 1
    .venv/bin/python bench/sync.py --profile 200    # also: where an operation's time goes
    .venv/bin/python bench/sync.py --quick          # ~15 s: what tests/test_bench_sync.py runs

The script starts everything on this machine, on files in a temporary folder, and stops it at the
end: the local instance (this process) on its own SQLite file (DATABASE_URL instead, if set; the
bench's partner 9000005 is replaced in it), a redis-server keeping nothing on disk, the upstream
(a second instance of this server under granian, on its own SQLite file: bench/_server.py's
UpstreamServer, which tests/sync/ use too), and two `celery worker` processes (--pool threads
--concurrency 4 by default: sync waits on the network, and make run's worker is a thread pool). The
workers consume an idle queue until a measurement tells them to take the tasks' queue
(`add_consumer`), so that their start-up is never timed.

The local partner syncs to the upstream. It has --rooms rooms, pushed before anything is timed;
every booking is a 90-minute single event in one of them, in a slot of its own. Each --repeat:

- throughput, one worker, then two: --ops bookings queued (`batch_scheduling.create_events`, as an
  import writes them: each transaction of 500 records its operations and sends their tasks once
  committed) while no worker consumes; then the workers consume. Operations/s is --ops over the
  time from `add_consumer` to the last operation's `finished_at`. Each operation's own time, from
  its claim to its finish, is given too.
- latency, one worker: a booking made with `scheduling.create_event` (as the API and the calendar
  make one), then `scheduleEvent.list` by its referenceId asked of the upstream every 10 ms until
  the event is listed; timed from just before `create_event` (its own write is given apart).
  --samples bookings, one after the other.
- drain: --drain operations queued, then drained by both workers.

The report gives the median of each figure over the repeats. Targets (2-core machine): at least
50 operations/s per worker, and commit -> visible upstream p50 at most 1 s. --profile N also runs
N operations in this process (`queue.run`: a worker's code without Celery), timed, then under
cProfile, split into HTTP round trips to the upstream, SQL, and Python; and N of the same add sent
straight to the upstream, to show its share.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import platform
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from _server import ROOT, ServerFailed, UpstreamServer, free_port

PARTNER_ID = 9000005
QUEUE = "celery"  # where the tasks go (Celery's default queue)
IDLE_QUEUE = "bench-sync-idle"  # what the workers consume until a measurement starts
TARGET_OPS_PER_WORKER = 50.0
TARGET_P50_MS = 1000.0
LECTURE = timedelta(minutes=90)
WORKER_START_TIMEOUT = 60
QUICK = {"ops": 20, "drain": 40, "samples": 5, "repeat": 1, "rooms": 3}


class BenchFailed(Exception):
    """Something did not happen as it must (an operation failed, a wait ran out): no figures."""


# ---------------------------------------------------------------- the processes


@contextmanager
def redis_server(folder: Path) -> Iterator[str]:
    binary = shutil.which("redis-server")
    if not binary:
        raise BenchFailed("redis-server is missing (Debian: apt-get install redis-server)")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(folder)],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for(lambda: _answers(port), "redis-server start", 20)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(10)


def _answers(port: int) -> bool:
    import redis

    try:
        return redis.Redis(port=port).ping()
    except redis.ConnectionError:
        return False


@dataclass
class Worker:
    name: str
    process: subprocess.Popen
    log: Path


@contextmanager
def workers(folder: Path, count: int, pool: str = "solo", concurrency: int = 1) -> Iterator[list[Worker]]:
    """`count` worker processes, each consuming only IDLE_QUEUE until told otherwise."""
    from scheduler_site.celery import app

    started = []
    try:
        for n in range(1, count + 1):
            name = f"bench{n}@{platform.node()}"
            log = folder / f"worker{n}.log"
            with log.open("w") as out:
                process = subprocess.Popen(
                    [sys.executable, "-m", "celery", "-A", "scheduler_site", "worker", "--pool", pool,
                     "--concurrency", str(concurrency), "-Q", IDLE_QUEUE, "-n", name, "--without-gossip",
                     "--without-mingle", "--without-heartbeat", "-l", "INFO"],
                    cwd=ROOT, env=os.environ, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                )  # fmt: skip
            started.append(Worker(name, process, log))
        for worker in started:
            wait_for(lambda w=worker: bool(app.control.ping([w.name], timeout=0.5)), f"{worker.name} start",
                     WORKER_START_TIMEOUT, worker.log)  # fmt: skip
        yield started
    finally:
        for worker in started:
            worker.process.terminate()
        for worker in started:
            try:
                worker.process.wait(20)
            except subprocess.TimeoutExpired:
                worker.process.kill()


def wait_for(check, what: str, seconds: float, log: Path | None = None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    tail = log.read_text()[-2000:] if log else ""
    raise BenchFailed(f"{what} did not happen within {seconds:g} s\n{tail}")


def setup_django(folder: Path, redis_url: str) -> str:
    """This process becomes the local instance: its own database, tasks sent through Redis."""
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{folder / 'local.sqlite3'}")
    os.environ["REDIS_URL"] = redis_url
    import _django
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    return _django.describe_database()


# ---------------------------------------------------------------- the local partner


@dataclass
class Campus:
    partner: Any
    rooms: list[int]
    first: datetime  # the first slot
    next_slot: int = 0

    def slot(self, summary: str) -> tuple[dict[str, Any], int]:
        """The next free slot (a room each 2 hours): the event's fields and its room."""
        from calendar_app.models import EventType

        room = self.rooms[self.next_slot % len(self.rooms)]
        start = self.first + timedelta(hours=2 * (self.next_slot // len(self.rooms)))
        self.next_slot += 1
        return {"type": EventType.RECORD, "summary": summary, "start": start, "end": start + LECTURE}, room

    def book(self, summary: str) -> Any:
        """One booking, committed as the API and the calendar make it."""
        from calendar_app import scheduling

        data, room = self.slot(summary)
        return scheduling.create_event(self.actor(), data, resource_ids=[room])

    def book_many(self, label: str, count: int) -> None:
        """`count` bookings as an import makes them: a transaction, and its tasks, per 500."""
        from calendar_app.batch_scheduling import NewEvent, create_events

        rows = []
        for n in range(count):
            data, room = self.slot(f"{label} {n}")
            rows.append(NewEvent(data, (room,)))
        refused = [r for r in create_events(self.actor(), rows) if not isinstance(r, int)]
        if refused:
            raise BenchFailed(f"{len(refused)} bookings refused, the first: {refused[0]}")

    def actor(self) -> Any:
        from calendar_app import clock, writes
        from calendar_app.models import AuditEntry

        return writes.Actor(self.partner, clock.now(), "bench", AuditEntry.Source.API)


def make_campus(upstream: UpstreamServer, rooms: int) -> Campus:
    """The partner, its connection to the upstream, and its rooms, pushed here and now."""
    from calendar_app import clock, scheduling, writes
    from calendar_app.models import AuditEntry, KalturaConnection, Partner, ResourceType, SyncOperation
    from calendar_app.sync import queue

    Partner.objects.filter(pk=PARTNER_ID).delete()
    partner = Partner.objects.create(
        id=PARTNER_ID, name="Sync bench", admin_secret=Partner.new_secret(), secret=Partner.new_secret(),
        time_zone="Europe/Berlin",
    )  # fmt: skip
    KalturaConnection.objects.create(
        partner=partner, service_url=upstream.url, upstream_partner_id=upstream.partner_id,
        admin_secret=upstream.admin_secret, enabled=True,
    )  # fmt: skip
    actor = writes.Actor(partner, clock.now(), "bench", AuditEntry.Source.API)
    ids = [
        scheduling.create_resource(actor, {"type": ResourceType.LOCATION, "name": f"Room {n}",
                                           "system_name": f"bench-room-{n}"}).pk
        for n in range(rooms)
    ]  # fmt: skip
    for op in SyncOperation.objects.for_partner(partner).order_by("pk"):
        queue.run(op.pk)
    failed = SyncOperation.objects.for_partner(partner).exclude(status=SyncOperation.Status.DONE)
    if failed.exists():
        raise BenchFailed(f"the rooms were not pushed: {list(failed.values('error_code', 'error'))}")
    tomorrow = datetime.now(UTC).replace(hour=8, minute=0, second=0, microsecond=0) + timedelta(days=1)
    return Campus(partner, ids, tomorrow)


def purge() -> None:
    """Forget the tasks sent so far (their operations ran here, or are about to be run here)."""
    from scheduler_site.celery import app

    app.control.purge()


# ---------------------------------------------------------------- measurements


@dataclass
class Drained:
    ops: int
    workers: int
    seconds: float  # consuming starts -> the last operation finished
    op_ms: list[float]  # each operation, claim -> finish

    @property
    def per_second(self) -> float:
        return self.ops / self.seconds

    def summary(self) -> dict[str, Any]:
        ordered = sorted(self.op_ms)
        return {
            "ops": self.ops, "workers": self.workers, "seconds": round(self.seconds, 3),
            "ops_per_second": round(self.per_second, 1),
            "ops_per_second_per_worker": round(self.per_second / self.workers, 1),
            "op_p50_ms": round(percentile(ordered, 50), 1), "op_p95_ms": round(percentile(ordered, 95), 1),
        }  # fmt: skip


def drain(campus: Campus, consumers: list[Worker], ops: int, label: str) -> Drained:
    """`ops` bookings queued while no worker consumes, then drained by `consumers`."""
    from django.db.models import Max

    from calendar_app.models import SyncOperation
    from scheduler_site.celery import app

    mine = SyncOperation.objects.for_partner(campus.partner)
    after = mine.aggregate(last=Max("pk"))["last"] or 0
    campus.book_many(label, ops)
    batch = mine.filter(pk__gt=after)
    if batch.count() != ops:
        raise BenchFailed(f"{ops} bookings queued {batch.count()} operations")
    names = [w.name for w in consumers]
    start = time.time()
    app.control.add_consumer(QUEUE, destination=names, reply=True)
    try:
        wait_for(lambda: _finished(batch, ops), f"{label}: {ops} operations done", max(60, ops / 5),
                 consumers[0].log)  # fmt: skip
    finally:
        app.control.cancel_consumer(QUEUE, destination=names, reply=True)
    rows = list(batch.values_list("dispatched_at", "finished_at"))
    end = max(finished for _, finished in rows).timestamp()
    return Drained(ops, len(consumers), end - start,
                   [(finished - claimed).total_seconds() * 1000 for claimed, finished in rows])  # fmt: skip


def _finished(batch, ops: int) -> bool:
    from calendar_app.models import SyncOperation

    done = batch.filter(status=SyncOperation.Status.DONE).count()
    if done < ops and batch.filter(status=SyncOperation.Status.FAILED).exists():
        failed = batch.filter(status=SyncOperation.Status.FAILED).values("error_code", "error").first()
        raise BenchFailed(f"an operation failed: {failed}")
    return done == ops


@dataclass
class Latency:
    visible_ms: list[float]  # the write, then until the upstream lists the booking
    write_ms: list[float]  # create_event alone: the write, its commit, its task sent

    def summary(self) -> dict[str, Any]:
        visible, write = sorted(self.visible_ms), sorted(self.write_ms)
        return {
            "samples": len(visible), "p50_ms": round(percentile(visible, 50), 1),
            "p95_ms": round(percentile(visible, 95), 1), "max_ms": round(visible[-1], 1),
            "write_p50_ms": round(percentile(write, 50), 1),
        }  # fmt: skip


def latency(campus: Campus, consumer: Worker, upstream: UpstreamServer, samples: int) -> Latency:
    """One booking at a time, each until the upstream lists it, with one worker consuming."""
    from calendar_app.sync.push import upstream_reference
    from scheduler_site.celery import app

    theirs = upstream_client(upstream)
    app.control.add_consumer(QUEUE, destination=[consumer.name], reply=True)
    found = Latency([], [])
    try:
        theirs.call("schedule_scheduleevent", "list")  # its session, started before the timing
        for n in range(samples):
            began = time.perf_counter()
            event = campus.book(f"Latency {n}")
            found.write_ms.append((time.perf_counter() - began) * 1000)
            wanted = {
                "objectType": "KalturaScheduleEventFilter",
                "referenceIdEqual": upstream_reference(event),
            }
            while not theirs.call("schedule_scheduleevent", "list", filter=wanted)["objects"]:
                if time.perf_counter() - began > 60:
                    raise BenchFailed(f"booking {event.pk} not upstream after 60 s")
                time.sleep(0.01)
            found.visible_ms.append((time.perf_counter() - began) * 1000)
    finally:
        app.control.cancel_consumer(QUEUE, destination=[consumer.name], reply=True)
        theirs.close()
    return found


def upstream_client(upstream: UpstreamServer) -> Any:
    from calendar_app.sync.client import ADMIN_SECRET, Credentials, KalturaClient

    credentials = Credentials(auth=ADMIN_SECRET, admin_secret=upstream.admin_secret)
    return KalturaClient(upstream.url, upstream.partner_id, credentials)


@dataclass
class Profile:
    ops: int
    wall_ms: float  # one operation in this process, without the profiler
    queries: float  # SQL queries of one operation
    split: dict[str, float]  # shares of the profiled time
    upstream_ms: float  # the same add (event and link, one multirequest) sent straight to the upstream


# Where an operation's time goes: the cumulative time of these frames.
PARTS = {
    "HTTP round trips to the upstream": ("httpx/_client.py", "send"),
    "SQL (Django's cursor)": ("django/db/backends/utils.py", "_execute"),
}


def profile(campus: Campus, upstream: UpstreamServer, ops: int) -> Profile:
    """`ops` operations run by `queue.run` in this process (a worker's code without Celery): once
    timed with their queries counted, once more under cProfile; then the upstream's share alone."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from calendar_app.sync import queue

    timed = queued(campus, "Timed", ops)
    with CaptureQueriesContext(connection) as queries:
        began = time.perf_counter()
        for pk in timed:
            queue.run(pk)
        wall = (time.perf_counter() - began) * 1000 / ops
    profiled = queued(campus, "Profiled", ops)
    profiler = cProfile.Profile()
    profiler.enable()
    for pk in profiled:
        queue.run(pk)
    profiler.disable()
    return Profile(
        ops, wall, len(queries) / ops, split_time(pstats.Stats(profiler)), bare_adds(campus, upstream, ops)
    )


def queued(campus: Campus, label: str, ops: int) -> list[int]:
    """The ids of `ops` new operations, their tasks forgotten: this process runs them."""
    from django.db.models import Max

    from calendar_app.models import SyncOperation

    mine = SyncOperation.objects.for_partner(campus.partner)
    after = mine.aggregate(last=Max("pk"))["last"] or 0
    campus.book_many(label, ops)
    purge()
    return list(mine.filter(pk__gt=after).order_by("pk").values_list("pk", flat=True))


def split_time(stats: pstats.Stats) -> dict[str, float]:
    raw: dict = stats.stats  # type: ignore[attr-defined]

    def spent(path: str, function: str) -> float:
        return sum(
            ct
            for (file, _, name), (_, _, _, ct, _) in raw.items()
            if file.endswith(path) and name == function
        )

    total = spent("calendar_app/sync/queue.py", "run")
    shares = {part: spent(*frame) / total for part, frame in PARTS.items()}
    shares["Python: the ORM, push.py, JSON"] = 1 - sum(shares.values())
    return shares


def bare_adds(campus: Campus, upstream: UpstreamServer, count: int) -> float:
    """Milliseconds of the upstream's add of an event with its link, alone (no local work)."""
    from calendar_app import clock
    from calendar_app.sync.client import Call
    from calendar_app.sync.push import link_call, mapped

    room = int(mapped(campus.partner.pk, "resource", campus.rooms[0]))
    theirs = upstream_client(upstream)
    try:
        theirs.call("schedule_scheduleevent", "list")  # the session
        began = time.perf_counter()
        for n in range(count):
            data, _ = campus.slot("Bare")
            event = {"objectType": "KalturaRecordScheduleEvent", "summary": f"Bare {n}", "recurrenceType": 0,
                     "startDate": clock.to_unix(data["start"]),
                     "endDate": clock.to_unix(data["end"])}  # fmt: skip
            add = Call("schedule_scheduleevent", "add", {"scheduleEvent": event})
            theirs.multirequest([add, link_call("{1:result:id}", room)])
        return (time.perf_counter() - began) * 1000 / count
    finally:
        theirs.close()


# ---------------------------------------------------------------- report


def percentile(ordered: list[float], p: float) -> float:
    """bench/run.py's, imported once this process has chosen its database (run.py sets Django up)."""
    from run import percentile as ranked

    return ranked(ordered, p)


def median_of(runs: list[dict[str, Any]], key: str) -> float:
    return statistics.median(run[key] for run in runs)


def report(
    args: argparse.Namespace, database: str, runs: list[dict[str, Any]], prof: Profile | None
) -> list[str]:
    one, two, drains, waits = (
        [r[k] for r in runs] for k in ("one_worker", "two_workers", "drain", "latency")
    )
    per_worker, p50 = median_of(one, "ops_per_second"), median_of(waits, "p50_ms")
    lines = [
        f"machine:   {platform.platform()}, {os.cpu_count()} CPUs (load {os.getloadavg()[0]:.2f} at the end)",
        f"local:     {database}, Python {platform.python_version()}",
        f"workers:   `celery worker --pool {args.pool} --concurrency {args.concurrency}` processes over "
        "redis-server (no persistence)",
        f"upstream:  this server under granian ({args.upstream_workers} workers x 4 threads) on SQLite",
        f"bookings:  single 90-minute events, each in one of {args.rooms} rooms (pushed beforehand),",
        "           queued by batch_scheduling.create_events (a transaction and its tasks per 500)",
        f"repeats:   {len(runs)}; each figure is the median over them",
        "",
        f"{'':<24}{'ops':>7}{'seconds':>9}{'ops/s':>8}{'per worker':>12}{'op p50':>10}{'op p95':>10}",
        row("throughput, 1 worker", one),
        row("throughput, 2 workers", two),
        row("drain, 2 workers", drains),
        "(op: one operation in the worker, claim to finish)",
        f"2 workers / 1 worker: {median_of(two, 'ops_per_second') / per_worker:.2f}x",
        f"commit -> visible upstream, 1 worker, {args.samples} bookings one at a time: p50 {p50:.0f} ms, "
        f"p95 {median_of(waits, 'p95_ms'):.0f} ms",
        f"  of which the booking itself (create_event, committed, task sent): p50 "
        f"{median_of(waits, 'write_p50_ms'):.1f} ms",
        "",
        verdict(f">= {TARGET_OPS_PER_WORKER:g} operations/s per worker", per_worker >= TARGET_OPS_PER_WORKER),
        verdict(f"commit -> visible p50 <= {TARGET_P50_MS:g} ms", p50 <= TARGET_P50_MS),
    ]  # fmt: skip
    if prof:
        lines += [
            "",
            f"profile: {prof.ops} operations run by queue.run here (no Celery): {prof.wall_ms:.1f} ms and",
            f"{prof.queries:.1f} SQL queries each (a worker took {1000 / per_worker:.1f} ms an operation)",
            *(f"  {k:<36}{v:>5.0%}  ~{v * prof.wall_ms:.1f} ms" for k, v in prof.split.items()),
            f"  the upstream alone, the same add sent straight to it: {prof.upstream_ms:.1f} ms",
        ]  # fmt: skip
    return lines


def row(name: str, group: list[dict[str, Any]]) -> str:
    cells = [median_of(group, k) for k in ("seconds", "ops_per_second", "ops_per_second_per_worker")]
    times = [median_of(group, k) for k in ("op_p50_ms", "op_p95_ms")]
    return f"{name:<24}{group[0]['ops']:>7}{cells[0]:>9.2f}{cells[1]:>8.1f}{cells[2]:>12.1f}" + "".join(
        f"{t:>8.1f}ms" for t in times
    )


def verdict(name: str, met: bool) -> str:
    return f"{'met   ' if met else 'MISSED'} {name}"


def reproduce(argv: list[str], database_url: str) -> str:
    prefix = f"DATABASE_URL={database_url} " if database_url else ""
    return f"{prefix}.venv/bin/python bench/sync.py {' '.join(argv)}".rstrip()


# ---------------------------------------------------------------- main


def run(args: argparse.Namespace, argv: list[str]) -> int:
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-sync-")))
        redis_url = stack.enter_context(redis_server(folder))
        upstream = UpstreamServer(folder, workers=args.upstream_workers)
        with ThreadPoolExecutor(1) as beside:  # the upstream's migrations and our start-up at once
            prepared = beside.submit(upstream.prepare)
            database = setup_django(folder, redis_url)
            pool = stack.enter_context(workers(folder, 2, args.pool, args.concurrency))
            prepared.result()
        upstream.start()
        stack.callback(upstream.stop)
        campus = make_campus(upstream, args.rooms)
        purge()
        runs = []
        for repeat in range(args.repeat):
            one = drain(campus, pool[:1], args.ops, f"One {repeat}")
            two = drain(campus, pool, args.ops, f"Two {repeat}")
            waits = latency(campus, pool[0], upstream, args.samples)
            drained = drain(campus, pool, args.drain, f"Drain {repeat}")
            runs.append(
                {"one_worker": one.summary(), "two_workers": two.summary(), "drain": drained.summary(),
                 "latency": waits.summary()}
            )  # fmt: skip
            print(f"repeat {repeat + 1}/{args.repeat}: {json.dumps(runs[-1])}", flush=True)
        prof = profile(campus, upstream, args.profile) if args.profile else None
        lines = report(args, database, runs, prof)
    print("\n" + "\n".join(lines))
    print(f"\nreproduce: {reproduce(argv, args.database_url)}")
    if args.json:
        Path(args.json).write_text(json.dumps({"args": vars(args), "report": lines, "runs": runs}, indent=2))
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ops", type=int, default=2000, help="operations per throughput run (2000)")
    parser.add_argument("--drain", type=int, default=10_000, help="operations of the drain run (10000)")
    parser.add_argument("--samples", type=int, default=50, help="bookings timed for latency (50)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of everything; medians reported (3)")
    parser.add_argument("--rooms", type=int, default=10, help="rooms the bookings are spread over (10)")
    parser.add_argument("--upstream-workers", type=int, default=2, help="the upstream's web processes (2)")
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="profile N operations in-process")
    parser.add_argument(
        "--pool",
        default="threads",
        choices=["solo", "threads", "prefork"],
        help="each worker's Celery pool (threads, as make run's worker)",
    )
    parser.add_argument("--concurrency", type=int, default=4, help="tasks each worker runs at once (4)")
    parser.add_argument("--quick", action="store_true", help="a few of everything, once: does it run")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = parser.parse_args(argv)
    args.database_url = os.environ.get("DATABASE_URL", "")  # given, or a new SQLite file (setup_django)
    if args.quick:
        for name, value in QUICK.items():
            setattr(args, name, value)
    if min(args.ops, args.drain, args.samples, args.repeat, args.rooms) < 1:
        parser.error("--ops, --drain, --samples, --repeat and --rooms must be positive")
    try:
        return run(args, argv)
    except (BenchFailed, ServerFailed) as failure:
        print(f"\nbench/sync.py: FAILED: {failure}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
