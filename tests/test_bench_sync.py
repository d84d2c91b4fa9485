"""bench/sync.py keeps working: its upstream, Redis and two Celery workers started and stopped by
the script, a few operations of each measurement pushed for real (a failed operation fails it)."""

from __future__ import annotations

import json

from tests.test_bench import bench


def test_it_pushes_bookings_through_real_workers_and_reports(tmp_path):
    results = tmp_path / "sync.json"
    measured = bench(
        "sync.py", "--quick", "--profile", "3", "--json", str(results), database=tmp_path / "local.sqlite3"
    )
    assert measured.returncode == 0, measured.stdout + measured.stderr
    [run] = json.loads(results.read_text())["runs"]
    assert [run[k]["ops"] for k in ("one_worker", "two_workers", "drain")] == [20, 20, 40]
    assert all(run[k]["ops_per_second"] > 0 for k in ("one_worker", "two_workers", "drain"))
    assert run["latency"]["samples"] == 5 and run["latency"]["p50_ms"] > 0
    assert "commit -> visible upstream" in measured.stdout and "the upstream alone" in measured.stdout
    assert (tmp_path / "local.sqlite3").exists()  # its own database, as DATABASE_URL said
