"""The benchmark scripts keep working: a tiny dataset, generated and measured end to end.

generate.py refuses to write when its rows no longer match what scheduling.py writes, so this
also catches the write path drifting away from the dataset the published numbers came from.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def bench(script: str, *args: str, database: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}"}
    return subprocess.run(
        [sys.executable, f"bench/{script}", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_it_generates_a_dataset_and_measures_it(tmp_path):
    database = tmp_path / "bench.sqlite3"
    generated = bench("generate.py", "--occurrences", "3000", "--resources", "60", database=database)
    assert generated.returncode == 0, generated.stdout + generated.stderr
    assert "shape check: generator rows match" in generated.stdout
    measured = bench(
        "run.py", "--iterations", "3", "--warmup", "1", "--save-runs", "1", "--no-generate", database=database
    )
    assert measured.returncode == 0, measured.stdout + measured.stderr
    assert "check_proposal: 15-week weekly series" in measured.stdout
    assert "committed 1/1" in measured.stdout and "refused 1/1" in measured.stdout


def test_the_ical_import_benchmark_runs(tmp_path):
    measured = bench(
        "ical_import.py", "--events", "200", "--runs", "1", "--json", str(tmp_path / "ical.json"),
        database=tmp_path / "ical.sqlite3",
    )  # fmt: skip
    assert measured.returncode == 0, measured.stdout + measured.stderr
    assert "ratio of the medians" in measured.stdout
    assert not list(tmp_path.glob("ical-run*.sqlite3"))  # each run's database is removed


def test_the_week_view_benchmark_builds_once_and_measures(tmp_path):
    database = tmp_path / "week.sqlite3"
    small = ("--rooms", "3", "--events", "60", "--iterations", "2", "--warmup", "1")
    first = bench("week_view.py", *small, database=database)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "built partner 9000003" in first.stdout and "60 events, 9 columns" in first.stdout
    again = bench("week_view.py", *small, database=database)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "reusing partner 9000003" in again.stdout and "grid.build, week" in again.stdout
