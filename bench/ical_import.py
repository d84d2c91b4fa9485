"""Benchmark of the iCal bulk import: a 10,000-VEVENT file into an empty partner, against the bare
icalendar parse of the same file.

    .venv/bin/python bench/ical_import.py                     # SQLite, 5 runs, ~1 min
    .venv/bin/python bench/ical_import.py --runs 9 --events 20000
    .venv/bin/python bench/ical_import.py --prevent-conflicts # the partner refuses conflicts
    .venv/bin/python bench/ical_import.py --json bench/data/results-ical-sqlite.json

Targets the server DATABASE_URL names (unset: SQLite files in bench/data/). Every run gets a
fresh database, so no run is faster or slower for what an earlier one left: a new SQLite file,
or a new PostgreSQL database on the server of DATABASE_URL (CREATE DATABASE; dropped after the
run). Each run is a child process that migrates the database, creates the partner and its
resources (untimed), builds the file (the same bytes every run), then times, with
time.perf_counter around each call:

- parse: `icalendar.Calendar.from_ical(data)`, the floor any icalendar-based import pays;
- import: `imports.ical_apply.import_calendar(actor, data)`, committed: its own parse, matching,
  validation, the events, their links and audit entries.

The file: 10,000 single VEVENTs (UTC times over a year, 90 minutes, in free slots of 100 rooms),
each with UID, DTSTAMP, SUMMARY, DESCRIPTION, LOCATION, X-KALTURA-TYPE and 1–2
X-KALTURA-RESOURCE-IDS (a room, and every other event its camera). The report gives the medians
over --runs (default 5) and the ratio import / parse; the target is ≤ 2.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse, urlunparse

BENCH_DIR = Path(__file__).resolve().parent
DATA_DIR = BENCH_DIR / "data"
PARTNER_ID = 9000002
ROOMS = 100
TARGET_RATIO = 2.0


# ---------------------------------------------------------------- the file


def ical_file(events: int, rooms: list[int], cameras: list[int], seed: int) -> bytes:
    """`events` single VEVENTs, no two in one room at once (90-minute slots on a weekly grid)."""
    rng = random.Random(seed)
    first = datetime(2027, 1, 4, 8, 0, tzinfo=UTC)
    slots = [first + timedelta(days=d, minutes=105 * s) for d in range(365) for s in range(6)]
    taken: set[tuple[int, int]] = set()
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//bench//ical_import//EN"]
    for n in range(events):
        while True:
            slot, room = rng.randrange(len(slots)), rng.randrange(len(rooms))
            if (slot, room) not in taken:
                taken.add((slot, room))
                break
        start = slots[slot]
        resources = [rooms[room]] + ([cameras[room]] if n % 2 else [])
        lines += [
            "BEGIN:VEVENT",
            f"UID:bench-{seed}-{n}@timetable.example",
            "DTSTAMP:20260901T080000Z",
            f"DTSTART:{start:%Y%m%dT%H%M%SZ}",
            f"DTEND:{start + timedelta(minutes=90):%Y%m%dT%H%M%SZ}",
            f"SUMMARY:Lecture {n % 700}\\, group {n % 7}",
            f"DESCRIPTION:Course {n % 700}: introduction\\; week {n % 15 + 1}",
            f"LOCATION:Room {room + 1}",
            "X-KALTURA-TYPE:1",
            f"X-KALTURA-RESOURCE-IDS:{','.join(map(str, resources))}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode()


# ---------------------------------------------------------------- one run (child process)


def child(args: argparse.Namespace) -> int:
    """Migrate the fresh database named by DATABASE_URL, set up the partner, time one parse and
    one import; print the result as one JSON line."""
    import gc

    import _django  # noqa: F401  (sets up Django; keep it first)
    from django.core.management import call_command
    from icalendar import Calendar

    from calendar_app import scheduling, writes
    from calendar_app.imports.ical_apply import import_calendar
    from calendar_app.models import AuditEntry, Partner, ResourceType, ScheduleEvent

    call_command("migrate", interactive=False, verbosity=0)
    partner = Partner.objects.create(
        id=PARTNER_ID, name="iCal import bench", admin_secret=Partner.new_secret(),
        secret=Partner.new_secret(), time_zone="Europe/Berlin", prevent_conflicts=args.prevent_conflicts,
    )  # fmt: skip
    now = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)
    actor = writes.Actor(partner, now, "bench", AuditEntry.Source.IMPORT)
    rooms = [
        scheduling.create_resource(actor, {"type": ResourceType.LOCATION, "name": f"Room {n}"}).pk
        for n in range(ROOMS)
    ]
    cameras = [
        scheduling.create_resource(
            actor, {"type": ResourceType.CAMERA, "name": f"Cam {n}", "parent_id": r}
        ).pk
        for n, r in enumerate(rooms)
    ]
    data = ical_file(args.events, rooms, cameras, args.seed)
    gc.collect()
    began = time.perf_counter()
    Calendar.from_ical(data)
    parse = time.perf_counter() - began
    gc.collect()
    began = time.perf_counter()
    results = import_calendar(actor, data)
    imported = time.perf_counter() - began
    failed = [r for r in results if r.status != "ok"]
    if failed or ScheduleEvent.objects.count() != args.events:
        print(f"import failed: {len(failed)} rows, first: {failed[:1]}", file=sys.stderr)
        return 1
    database = _django.describe_database()
    print(json.dumps({"parse_s": parse, "import_s": imported, "bytes": len(data), "database": database}))
    return 0


# ---------------------------------------------------------------- fresh databases (parent)


def fresh_database(run: int) -> tuple[str, Callable[[], None]]:
    """The URL of a new, empty database for one run, and how to remove it afterwards."""
    url = os.environ.get("DATABASE_URL", "")
    if not url or url.startswith("sqlite"):
        # Beside the file DATABASE_URL names (default bench/data/ical-import.sqlite3), one per run.
        base = Path(url.removeprefix("sqlite:///")) if url else DATA_DIR / "ical-import.sqlite3"
        base.parent.mkdir(parents=True, exist_ok=True)
        path = base.with_name(f"{base.stem}-run{run}{base.suffix}")

        def remove() -> None:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)

        remove()
        return f"sqlite:///{path}", remove
    import psycopg

    name = f"bench_ical_import_{os.getpid()}_{run}"
    server = urlparse(url)

    def execute(sql: str) -> None:
        with psycopg.connect(urlunparse(server), autocommit=True) as connection:
            connection.execute(sql)

    execute(f"CREATE DATABASE {name}")
    return urlunparse(server._replace(path=f"/{name}")), lambda: execute(f"DROP DATABASE IF EXISTS {name}")


def one_run(args: argparse.Namespace, run: int) -> dict:
    url, remove = fresh_database(run)
    try:
        command = [sys.executable, __file__, "--child", f"--events={args.events}", f"--seed={args.seed}"]
        if args.prevent_conflicts:
            command.append("--prevent-conflicts")
        env = {**os.environ, "DATABASE_URL": url}
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    finally:
        remove()
    if done.returncode != 0:
        raise SystemExit(f"run {run} failed:\n{done.stdout}{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=10_000, help="VEVENTs in the file (default 10,000)")
    parser.add_argument("--runs", type=int, default=5, help="runs, each on a fresh database (default 5)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--prevent-conflicts", action="store_true", help="the partner refuses conflicts")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args)

    runs = []
    for run in range(1, args.runs + 1):
        runs.append(one_run(args, run))
        done = runs[-1]
        print(f"  run {run}: parse {done['parse_s']:.3f} s, import {done['import_s']:.3f} s", flush=True)
    from run import stats  # the house report shape (imports Django; the children do the work)

    parse = stats([r["parse_s"] * 1000 for r in runs])
    imported = stats([r["import_s"] * 1000 for r in runs])
    ratio = imported["p50_ms"] / parse["p50_ms"]
    conflicts = "on" if args.prevent_conflicts else "off"
    per_event = {
        name: r["p50_ms"] / args.events * 1000 for name, r in (("parse", parse), ("import", imported))
    }
    print(
        f"\ndatabase:  {runs[0]['database']} (a fresh one per run)\n"
        f"machine:   {os.cpu_count()} CPUs, Python {platform.python_version()}\n"
        f"file:      {args.events:,} VEVENTs, {runs[0]['bytes']:,} bytes; prevent_conflicts {conflicts}\n\n"
        f"  {args.runs} runs (ms)                  {'p50':>9}{'min':>9}{'max':>9}"
    )
    for name, r in (("icalendar parse", parse), ("import_calendar", imported)):
        print(f"  {name:<30}{r['p50_ms']:>9.0f}{r['min_ms']:>9.0f}{r['max_ms']:>9.0f}")
    print(
        f"  ratio of the medians: {ratio:.2f} (target ≤ {TARGET_RATIO:.0f}); per event: "
        f"parse {per_event['parse']:.0f} µs, import {per_event['import']:.0f} µs"
    )
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"runs": runs, "parse": parse, "import": imported, "ratio": ratio}, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
