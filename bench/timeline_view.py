"""Benchmark of the staff calendar's resource timeline (issue #19): the page staff open first.

    .venv/bin/python bench/timeline_view.py                    # SQLite: bench/data/bench.sqlite3
    .venv/bin/python bench/timeline_view.py --iterations 200 --server granian
    .venv/bin/python bench/timeline_view.py --profile week     # cProfile of one page, then stop

The data is bench/campus.py's: 10 buildings of 30 rooms, each room with two cameras (every tenth a
live entry), ~6,000 bookings in the bench week, folded into the rooms' rows as the timeline shows
them by default (300 rows). The page builds its first screenful (the first building) and leaves
each other building a placeholder that the browser loads when it scrolls near (`?part=<id>`):
the bench times both, the parts at the addresses the week page itself gives (`data-part`).

Timed, after warm-up calls:
- in-process, DEBUG off: grid.build and timeline_html.render of the day (the bench week's
  Wednesday, with its blackout) and of the week as the page builds them, and a whole GET of the
  day page, the week page and one building of the week (`part`) through django.test.Client signed
  in as the campus admin (view, template, middleware; no network), with the number of SQL queries
  of one GET (CaptureQueriesContext) and the response's size;
- over real HTTP (bench/api.py's `served`: granian with one worker and one thread, or
  `runserver --nothreading`, DEBUG off), signed in through the login form, one httpx client with
  keep-alive as a browser tab has: GET /calendar/timeline/ and /calendar/timeline/week/ for the
  bench week, one building of the week, and all nine lazy buildings one after another (a sample
  is their sum: what scrolling through the whole campus costs the server); gzip accepted, as
  a browser does ("bytes" the page, "wire" what crossed the network).
  Target: the pages p50 <= 100 ms and p95 <= 150 ms.
"""

from __future__ import annotations

import argparse
import cProfile
import html
import pstats
import re
import sys
from collections.abc import Callable
from datetime import timedelta

import _django  # noqa: F401  (sets up Django; keep it first)
import campus
import httpx
from api import machine, served, server_kind
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.http import HttpResponse
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from run import save_json, stats, timed

from calendar_app import clock
from calendar_app.web import grid, timeline_html

P50_TARGET_MS, P95_TARGET_MS = 100, 150
PART = re.compile(r'data-part="([^"]+)"')


def pages(c: campus.Campus) -> dict[str, tuple[str, dict[str, str]]]:
    """The two timeline pages of the bench week: path and query."""
    wednesday = c.monday + timedelta(days=2)
    return {
        "day": (reverse("calendar:timeline"), {"date": str(wednesday)}),
        "week": (reverse("calendar:timeline_week"), {"date": str(c.monday)}),
    }


def part_urls(page: str) -> list[str]:
    """The addresses of the lazy buildings' rows, as the page's placeholders give them."""
    return [html.unescape(url) for url in PART.findall(page)]


def in_process(c: campus.Campus, iterations: int, warmup: int) -> dict[str, dict]:
    """grid.build, timeline_html.render and a Client GET of the day, the week and one building."""
    now = clock.now()
    client = Client()
    client.force_login(get_user_model().objects.get(username=c.username))

    def get(path: str, params: dict[str, str] | None = None) -> HttpResponse:
        response = client.get(path, params, secure=True)  # DEBUG off redirects plain HTTP
        if response.status_code != 200:
            raise SystemExit(f"GET {path}: HTTP {response.status_code}")
        return response

    results: dict[str, dict] = {}
    gets: dict[str, Callable[[], HttpResponse]] = {}
    for span, (path, params) in pages(c).items():
        days, first = (7, c.monday) if span == "week" else (1, c.monday + timedelta(days=2))
        query = grid.Query(c.partner, first, days, now, eager_rows=timeline_html.EAGER_ROWS)
        built = grid.build(query)
        results |= {
            f"grid.build, {span}": stats(timed(lambda query=query: grid.build(query), iterations, warmup)),
            f"render, {span}": stats(
                timed(lambda built=built: timeline_html.render(built, "/t/", "/t/?part="), iterations, warmup)
            ),
        }
        built_rows = [c for c in built.columns if c.group.key not in built.lazy]
        boxes = sum(len(cell) for day in built.cells for cell in day)
        results[f"grid.build, {span}"] |= {"rows": len(built_rows), "boxes": boxes}
        gets[f"Client GET, {span}"] = lambda path=path, params=params: get(path, params)
    week_parts = part_urls(gets["Client GET, week"]().content.decode())
    gets["Client GET, part"] = lambda: get(week_parts[len(week_parts) // 2])
    for name, call in gets.items():
        results[name] = stats(timed(call, iterations, warmup))
        with CaptureQueriesContext(connection) as queries:
            response = call()
        results[name] |= {"queries": len(queries), "bytes": len(response.content)}
    return results


def over_http(c: campus.Campus, kind: str, iterations: int, warmup: int) -> dict[str, dict]:
    results = {}
    with served(kind) as url, httpx.Client(base_url=url) as client:
        campus.sign_in(client, c)

        def get(path: str, params: dict[str, str] | None = None) -> httpx.Response:
            response = client.get(path, params=params)
            if response.status_code != 200:
                raise SystemExit(f"GET {path}: HTTP {response.status_code}")
            return response

        calls: dict[str, Callable[[], httpx.Response]] = {
            f"HTTP {span}": lambda path=path, params=params: get(path, params)
            for span, (path, params) in pages(c).items()
        }
        parts = part_urls(calls["HTTP week"]().text)
        calls["HTTP part"] = lambda: get(parts[len(parts) // 2])
        for name, call in calls.items():
            response = call()
            sizes = {"bytes": len(response.content), "wire": response.num_bytes_downloaded}
            results[name] = stats(timed(call, iterations, warmup)) | sizes
        every = stats(timed(lambda: [get(url) for url in parts], max(iterations // 5, 5), 2))
        responses = [get(url) for url in parts]
        results[f"HTTP all {len(parts)} parts"] = every | {
            "bytes": sum(len(r.content) for r in responses),
            "wire": sum(r.num_bytes_downloaded for r in responses),
        }
    return results


def profile(c: campus.Campus, span: str) -> None:
    """cProfile of one Client GET of the page, after a warm-up one: where its time goes."""
    path, params = pages(c)[span]
    client = Client()
    client.force_login(get_user_model().objects.get(username=c.username))
    client.get(path, params, secure=True)
    profiler = cProfile.Profile()
    profiler.runcall(client.get, path, params, secure=True)
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)


def report(summary: dict[str, dict]) -> None:
    print(f"  {'':<22}{'p50':>10}{'p95':>10}{'n':>6}  extra")
    for name, s in summary.items():
        extra = "  ".join(
            f"{k}={v:,}" for k, v in s.items() if k in ("queries", "bytes", "wire", "rows", "boxes")
        )
        print(f"  {name:<22}{s['p50_ms']:>8.1f}ms{s['p95_ms']:>8.1f}ms{s['n']:>6}  {extra}")
    for span in ("day", "week", "part"):
        s = summary.get(f"HTTP {span}")
        if s:
            met = s["p50_ms"] <= P50_TARGET_MS and s["p95_ms"] <= P95_TARGET_MS
            print(
                f"target: HTTP {span} timeline, p50 <= {P50_TARGET_MS} ms and p95 <= {P95_TARGET_MS} ms: "
                f"{'met' if met else 'MISSED'}"
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--iterations", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--server", choices=("auto", "granian", "runserver"), default="auto")
    parser.add_argument("--no-http", action="store_true", help="in-process timings only")
    parser.add_argument("--profile", choices=("day", "week"), help="profile one page and stop")
    parser.add_argument("--json", help="write the results to this file")
    args = parser.parse_args(argv)

    c = campus.ensure()
    if args.profile:
        with override_settings(ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"]):
            profile(c, args.profile)
        return 0
    print(f"database: {_django.describe_database()}\nmachine:  {machine()}")
    with override_settings(ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"]):  # the Client's host
        summary = in_process(c, args.iterations, args.warmup)
    if not args.no_http:
        kind = server_kind(args.server)
        print(f"server:   {kind}")
        summary |= over_http(c, kind, args.iterations, args.warmup)
    report(summary)
    save_json(args.json, summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
