"""Benchmark of Find a room (issue #19): the search for a 15-week, twice-a-week pattern on the bench
campus (bench/campus.py: 300 rooms x 2 cameras, ~6,000 bookings a week over the term).

    .venv/bin/python bench/free_rooms.py                  # SQLite: bench/data/bench.sqlite3
    .venv/bin/python bench/free_rooms.py --iterations 200

The search: Mondays and Wednesdays 10:00-11:30 (Europe/Berlin) through the whole term (30
dates), a camera needed, anywhere on campus. Timed, after warm-up calls, with perf_counter:
- free_rooms.find in-process (the core: its SQL and the matching), with its number of queries;
- over real HTTP against `runserver --nothreading` with DEBUG off (bench/api.py's `served`),
  signed in through the login form: the whole page, and the results alone as htmx asks for them
  when a field changes (target: p50 <= 100 ms).
"""

from __future__ import annotations

import argparse
import sys
from datetime import time as clock_time

import _django  # noqa: F401  (sets up Django; keep it first)
import campus
import httpx
from api import machine, served
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from run import save_json, stats, timed

from calendar_app import free_rooms

TARGET_MS = 100
START, END = clock_time(10, 0), clock_time(11, 30)
WEEKDAYS = ("MO", "WE")


def search(c: campus.Campus) -> free_rooms.Search:
    pattern = free_rooms.Weekly(WEEKDAYS, START, END, c.term_start, c.term_end)
    return free_rooms.Search(c.partner, pattern, free_rooms.Needs(camera=True))


def query(c: campus.Campus) -> dict[str, object]:
    """The search form's fields for the same search, as the page sends them."""
    return {
        "day": str(c.term_start), "start_time": START.strftime("%H:%M"), "end_time": END.strftime("%H:%M"),
        "repeat": "on", "weekdays": list(WEEKDAYS), "last": str(c.term_end), "camera": "on",
        "summary": "Lecture", "type": "1",
    }  # fmt: skip


def over_http(c: campus.Campus, iterations: int, warmup: int, free: int) -> dict[str, dict]:
    """p50/p95 of the page and of its htmx results; each answer must say the `free` rooms found
    in-process (a session of another partner would answer quickly, and wrongly)."""
    requests = {"HTTP page": {}, "HTTP results (htmx)": {"HX-Request": "true"}}
    path, params = reverse("calendar:free_rooms"), query(c)
    results = {}
    with served("runserver") as url, httpx.Client(base_url=url) as client:
        campus.sign_in(client, c)
        for name, headers in requests.items():

            def call(headers=headers) -> object:
                response = client.get(path, params=params, headers=headers)
                if response.status_code != 200:
                    raise SystemExit(f"GET {path}: HTTP {response.status_code}")
                return response

            results[name] = stats(timed(call, iterations, warmup))
            if f"{free} rooms free" not in call().text:
                raise SystemExit(f"GET {path} ({name}) did not find the {free} free rooms")
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--iterations", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--json", help="write the results to this file")
    args = parser.parse_args(argv)

    c = campus.ensure()
    wanted = search(c)
    result = free_rooms.find(wanted)
    print(f"database: {_django.describe_database()}\nmachine:  {machine()}")
    print(
        f"search:   {len(result.slots)} dates ({', '.join(WEEKDAYS)} {START:%H:%M}-{END:%H:%M}, "
        f"{c.term_start} to {c.term_end}), a camera: {len(result.free)} rooms free, {len(result.busy)} busy"
    )
    with CaptureQueriesContext(connection) as queries:
        free_rooms.find(wanted)
    summary = {
        "free_rooms.find": {**stats(timed(lambda: free_rooms.find(wanted), args.iterations, args.warmup))}
    }
    summary["free_rooms.find"]["queries"] = len(queries)
    summary |= over_http(c, args.iterations, args.warmup, len(result.free))
    print(f"  {'':<22}{'p50':>10}{'p95':>10}{'n':>6}")
    for name, s in summary.items():
        extra = f"  ({s['queries']} queries)" if "queries" in s else ""
        print(f"  {name:<22}{s['p50_ms']:>8.1f}ms{s['p95_ms']:>8.1f}ms{s['n']:>6}{extra}")
    for name in ("free_rooms.find", "HTTP results (htmx)"):
        met = "met" if summary[name]["p50_ms"] <= TARGET_MS else "MISSED"
        print(f"target: {name}, p50 <= {TARGET_MS} ms: {met}")
    save_json(args.json, summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
