"""Benchmarks against the bench dataset: conflict checks and series saves, in-process, ORM.

    .venv/bin/python bench/run.py                    # generates the 1M dataset first if missing
    .venv/bin/python bench/run.py --iterations 500 --save-runs 9
    .venv/bin/python bench/run.py --only conflicts   # or: --only save
    .venv/bin/python bench/run.py --json bench/data/results.json

Targets DATABASE_URL like the app (unset: bench/data/bench.sqlite3). What is timed:

- check_proposal: scheduling.check_proposal(actor, proposal, resource_ids, ConflictType.BOTH)
  for a 15-week weekly series (90 min, Europe/Berlin) and for a single 90-minute event, on a
  random room and camera (two thirds of the probes) or the room alone, at a random lecture slot
  of a random week of the dataset. That is the service call the API and the UI make:
  validation, expansion and the conflict queries.
- conflicts.find with the same windows precomputed: the query and the matching alone.
- create_event: a daily series of 1,000 occurrences on a room and its camera, committed, then
  deleted (the deletion is not timed). Once with the dataset's partner as generated
  (prevent_conflicts off), and with prevent_conflicts on, both where the series collides with
  the dataset's holiday blackouts (refused, rolled back) and after the dataset (committed).

Each conflict benchmark runs warm-up calls first, then --iterations timed calls
(time.perf_counter around the call) and reports p50 / p95 / mean / max in milliseconds.
--explain prints the plan of the conflict query for one series probe (EXPLAIN QUERY PLAN on
SQLite, EXPLAIN (ANALYZE, BUFFERS) on PostgreSQL).
"""

from __future__ import annotations

import argparse
import copy
import gc
import json
import os
import platform
import random
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import _django  # noqa: F401  (sets up Django; keep it first)
import django
import generate
from django.db import connection
from django.db.models import Max, Min
from django.test.utils import CaptureQueriesContext

from calendar_app import clock, conflicts, scheduling, writes
from calendar_app.conflicts import ConflictType
from calendar_app.errors import ConflictDetected
from calendar_app.models import (
    AuditEntry,
    EventType,
    Partner,
    RecurrenceType,
    ResourceType,
    ScheduleEvent,
    ScheduleResource,
)

SERIES_WEEKS = 15
LECTURE = timedelta(minutes=90)
SAVE_OCCURRENCES = 1000
ZONE = generate.ZONE_NAME


@dataclass
class Probe:
    resource_ids: list[int]
    start: datetime


@dataclass
class Result:
    name: str
    samples: list[float]  # milliseconds
    per_call: dict[str, float] = field(default_factory=dict)
    note: str = ""

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.name,
            **stats(self.samples),
            **{k: round(v, 2) for k, v in self.per_call.items()},
            **({"note": self.note} if self.note else {}),
        }


def save_json(path: str | None, results: dict) -> None:
    """A bench's results and the database they were measured on, as JSON at `path` (if given)."""
    if path:
        with open(path, "w") as fh:
            json.dump({"database": _django.describe_database(), "results": results}, fh, indent=2)


def timed(call: Callable[[], object], iterations: int, warmup: int) -> list[float]:
    """Samples in ms of `iterations` calls, after `warmup` calls and a collection (not the
    previous measurement's garbage)."""
    for _ in range(warmup):
        call()
    gc.collect()
    samples = []
    for _ in range(iterations):
        began = time.perf_counter()
        call()
        samples.append((time.perf_counter() - began) * 1000)
    return samples


def stats(samples: list[float]) -> dict[str, float]:
    """n, p50, p95, mean, min and max (ms, rounded) of timed samples: one shape for every report."""
    s = sorted(samples)
    return {
        "n": len(s),
        "p50_ms": round(percentile(s, 50), 3),
        "p95_ms": round(percentile(s, 95), 3),
        "mean_ms": round(statistics.fmean(s), 3),
        "min_ms": round(s[0], 3),
        "max_ms": round(s[-1], 3),
    }


def percentile(ordered: list[float], p: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    if len(ordered) == 1:
        return ordered[0]
    k = (len(ordered) - 1) * p / 100
    low = int(k)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


# ---------------------------------------------------------------- dataset


def ensure_dataset(allow_generate: bool) -> Partner:
    partner = generate.bench_partner()
    if generate.dataset_info(partner) is None:
        if not allow_generate:
            raise SystemExit(
                "no bench dataset in this database: run `.venv/bin/python bench/generate.py` first"
            )
        print(
            "no bench dataset in this database: generating the default one (1M event rows, "
            "2,000 resources) with bench/generate.py; this takes a few minutes\n",
            flush=True,
        )
        generate.main([])
        print()
        partner = generate.bench_partner()
    return partner


def campus(partner: Partner) -> list[tuple[int, list[int]]]:
    """(room id, its camera ids) for every room that has cameras."""
    cameras = defaultdict(list)
    rows = ScheduleResource.objects.for_partner(partner).filter(type=ResourceType.CAMERA)
    for camera_id, room_id in rows.order_by("pk").values_list("pk", "parent_id"):
        cameras[room_id].append(camera_id)
    return sorted(cameras.items())


def lecture_weeks(partner: Partner) -> tuple[date, date]:
    """Mondays of the first and last week a 15-week probe may start in, within the lectures."""
    series = ScheduleEvent.objects.for_partner(partner).filter(recurrence_type=RecurrenceType.RECURRING)
    span = series.aggregate(first=Min("start"), last=Max("start"))
    first = span["first"].astimezone(generate.ZONE).date()
    last = span["last"].astimezone(generate.ZONE).date()
    return first - timedelta(days=first.weekday()), last - timedelta(days=last.weekday())


def make_probes(partner: Partner, n: int, rng: random.Random) -> list[Probe]:
    rooms = campus(partner)
    first, last = lecture_weeks(partner)
    weeks = (last - first).days // 7
    probes = []
    for _ in range(n):
        room, cameras = rng.choice(rooms)
        resource_ids = [room, rng.choice(cameras)] if rng.random() < 2 / 3 else [room]
        day = first + timedelta(weeks=rng.randrange(weeks + 1), days=rng.randrange(5))
        probes.append(Probe(resource_ids, generate.local(day, rng.choice(generate.SLOTS))))
    return probes


def proposal(start: datetime, *, series: bool) -> dict[str, Any]:
    data = {"type": EventType.RECORD, "summary": "Bench probe", "start": start, "end": start + LECTURE}
    if series:
        data["recurrence_type"] = RecurrenceType.RECURRING
        data["recurrence"] = {"frequency": "weeks", "count": SERIES_WEEKS, "time_zone": generate.ZONE_NAME}
    return data


# ---------------------------------------------------------------- timing


def measure(
    name: str, call: Callable[[Probe], Any], probes: list[Probe], warmup: int, counted: str = "conflicts"
) -> Result:
    for probe in probes[:warmup]:
        call(probe)
    found = []
    samples = []
    gc.collect()
    for probe in probes[warmup:]:
        began = time.perf_counter()
        out = call(probe)
        samples.append((time.perf_counter() - began) * 1000)
        found.append(len(out))
    return Result(name, samples, {f"{counted}_per_call": statistics.fmean(found)})


def conflict_benchmarks(partner: Partner, iterations: int, warmup: int, seed: int) -> Iterator[Result]:
    actor = writes.Actor(partner, clock.now(), "bench")
    probes = make_probes(partner, warmup + iterations, random.Random(seed))

    def service(series: bool):
        return lambda p: scheduling.check_proposal(
            actor, proposal(p.start, series=series), p.resource_ids, ConflictType.BOTH
        )

    series_windows = {id(p): scheduling.windows_for(actor, proposal(p.start, series=True)) for p in probes}
    single_windows = {id(p): scheduling.windows_for(actor, proposal(p.start, series=False)) for p in probes}

    def query(windows):
        return lambda p: conflicts.find(partner, windows[id(p)], p.resource_ids, ConflictType.BOTH)

    with CaptureQueriesContext(connection) as queries:
        service(True)(probes[0])
    first = measure("check_proposal: 15-week weekly series", service(True), probes, warmup)
    first.per_call["queries_per_call"] = len(queries.captured_queries)
    yield first
    yield measure("check_proposal: single event", service(False), probes, warmup)
    yield measure("conflicts.find: 15 windows (query + match)", query(series_windows), probes, warmup)
    yield measure("conflicts.find: 1 window (query + match)", query(single_windows), probes, warmup)
    yield measure(
        "windows_for: 15-week series (no database)",
        lambda p: scheduling.windows_for(actor, proposal(p.start, series=True)),
        probes,
        warmup,
        counted="windows",
    )


def save_benchmarks(partner: Partner, runs: int, seed: int) -> Iterator[Result]:
    rng = random.Random(seed + 1)
    rooms = campus(partner)
    first, last = lecture_weeks(partner)
    template = ScheduleEvent.objects.for_partner(partner).exclude(template_entry_id="").first()
    after_dataset = last + timedelta(weeks=60)  # past every lecture, single event and blackout
    enforcing = copy.copy(partner)
    enforcing.prevent_conflicts = True
    in_term = first + timedelta(weeks=4)
    variants = [
        ("create_event: daily x1000, prevent_conflicts off", partner, in_term),
        ("create_event: daily x1000, prevent_conflicts on, refused", enforcing, in_term),
        ("create_event: daily x1000, prevent_conflicts on, no conflicts", enforcing, after_dataset),
    ]
    for name, who, day in variants:
        samples, outcomes = [], defaultdict(int)
        for run in range(runs + 1):  # the first run warms up and is not counted
            room, cameras = rng.choice(rooms)
            start = generate.local(day + timedelta(days=rng.randrange(28)), generate.SLOTS[0])
            start -= timedelta(hours=1)  # 07:15, before the first lecture
            data = {
                "type": EventType.RECORD,
                "recurrence_type": RecurrenceType.RECURRING,
                "summary": "Bench daily recording",
                "start": start,
                "end": start + timedelta(minutes=45),
                "recurrence": {"frequency": "days", "count": SAVE_OCCURRENCES, "time_zone": ZONE},
                "template_entry_id": template.template_entry_id if template else "",
            }
            actor = writes.Actor(who, clock.now(), "bench")
            began = time.perf_counter()
            try:
                event = scheduling.create_event(actor, data, resource_ids=[room, cameras[0]])
                outcome = "committed"
            except ConflictDetected:
                event, outcome = None, "refused"
            elapsed = (time.perf_counter() - began) * 1000
            if event is not None:
                made = ScheduleEvent.objects.filter(parent=event).count()
                if made != SAVE_OCCURRENCES:
                    raise SystemExit(f"expected {SAVE_OCCURRENCES} occurrences, got {made}")
                cleanup(event)
            if run:
                samples.append(elapsed)
                outcomes[outcome] += 1
        note = ", ".join(f"{k} {v}/{runs}" for k, v in sorted(outcomes.items()))
        yield Result(name, samples, note=note)


def cleanup(series: ScheduleEvent) -> None:
    """Remove a benchmark series with everything create_event wrote for it."""
    AuditEntry.objects.filter(
        partner_id=series.partner_id, object_type="ScheduleEvent", object_id=str(series.pk)
    ).delete()
    ScheduleEvent.objects.filter(pk=series.pk).delete()  # cascades to occurrences and links


# ---------------------------------------------------------------- plans


def explain(partner: Partner, seed: int) -> str:
    actor = writes.Actor(partner, clock.now(), "bench")
    probe = make_probes(partner, 1, random.Random(seed + 2))[0]
    resource_ids = probe.resource_ids
    if len(resource_ids) == 1:  # show the two-resource case
        resource_ids = [resource_ids[0], next(c for r, c in campus(partner) if r == resource_ids[0])[0]]
    with CaptureQueriesContext(connection) as queries:
        scheduling.check_proposal(actor, proposal(probe.start, series=True), resource_ids, ConflictType.BOTH)
    sql = queries.captured_queries[0]["sql"]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + sql)
            plan = "\n".join(f"{'  ' * _depth(row, cursor)}{row[-1]}" for row in cursor.fetchall())
    return f"-- {probe.start:%Y-%m-%d %H:%M}Z, resources {resource_ids}\n{sql}\n\n{plan}"


_depths: dict[int, int] = {}


def _depth(row, cursor) -> int:
    node, parent = row[0], row[1]
    _depths[node] = _depths.get(parent, -1) + 1
    return _depths[node]


# ---------------------------------------------------------------- report


def header(partner: Partner) -> list[str]:
    info = generate.dataset_info(partner) or {}
    stats = "yes" if generate.sqlite_has_stats() else "no (the app never runs ANALYZE)"
    lines = [
        f"database:  {_django.describe_database()}",
        f"dataset:   {int(info.get('rows', 0)):,} event rows ({int(info.get('series', 0)):,} series, "
        f"{int(info.get('occurrences', 0)):,} occurrences, {int(info.get('singles', 0)):,} single events, "
        f"{info.get('blackouts', '?')} blackouts), {int(info.get('resources', 0)):,} resources, "
        f"seed {info.get('seed', '?')}",
        f"machine:   {os.cpu_count()} CPUs, Python {platform.python_version()}, Django {django.__version__}, "
        f"DEBUG={os.environ.get('DEBUG')}",
        f"run at:    {datetime.now(UTC):%Y-%m-%d %H:%M}Z",
    ]
    if connection.vendor == "sqlite":
        lines.insert(2, f"sqlite statistics (ANALYZE): {stats}")
    return lines


def columns() -> str:
    return f"  {'':<60}{'p50':>11}{'p95':>11}{'mean':>11}{'max':>11}"


def row(r: Result) -> str:
    s = r.summary()
    extra = []
    for counted in ("conflicts", "windows"):
        if f"{counted}_per_call" in s:
            extra.append(f"{s[f'{counted}_per_call']:.1f} {counted}/call")
    if "queries_per_call" in s:
        extra.append(f"{s['queries_per_call']:.0f} queries/call")
    if r.note:
        extra.append(r.note)
    times = "".join(f"{s[k]:>9.2f}ms" for k in ("p50_ms", "p95_ms", "mean_ms", "max_ms"))
    return f"  {r.name:<60}{times}" + (f"   {'; '.join(extra)}" if extra else "")


def report(title: str, results: Iterable[Result]) -> list[Result]:
    """Print the table a row at a time: on the shipped code a SQLite run takes minutes."""
    print(f"\n{title}\n{columns()}", flush=True)
    done = []
    for result in results:
        print(row(result), flush=True)
        done.append(result)
    return done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=200, help="timed conflict checks (default 200)")
    parser.add_argument("--warmup", type=int, default=20, help="untimed calls first (default 20)")
    parser.add_argument("--save-runs", type=int, default=5, help="timed series saves per variant (default 5)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", choices=("conflicts", "save"), help="run one benchmark only")
    parser.add_argument("--explain", action="store_true", help="print the conflict query and its plan")
    parser.add_argument("--no-generate", action="store_true", help="fail instead of generating a dataset")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = parser.parse_args(argv)

    partner = ensure_dataset(not args.no_generate)
    lines = header(partner)
    print("\n".join(lines), flush=True)
    conflict_results: list[Result] = []
    save_results: list[Result] = []
    if args.only in (None, "conflicts"):
        conflict_results = report(
            f"Conflict checks, ConflictType.BOTH, {args.iterations} timed calls after {args.warmup} "
            "warm-up (ms):",
            conflict_benchmarks(partner, args.iterations, args.warmup, args.seed),
        )
    if args.only in (None, "save"):
        save_results = report(
            f"Series save, scheduling.create_event with room + camera, committed; {args.save_runs} "
            "timed runs after 1 warm-up (ms; p50 = median):",
            save_benchmarks(partner, args.save_runs, args.seed),
        )
    if args.explain:
        print(f"\nConflict query plan:\n{explain(partner, args.seed)}", flush=True)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(
                {
                    "header": lines,
                    "vendor": connection.vendor,
                    "conflicts": [r.summary() for r in conflict_results],
                    "save": [r.summary() for r in save_results],
                },
                fh,
                indent=2,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
