"""bench/api.py keeps working: a tiny dataset, served over real HTTP and measured end to end.

The script starts its own server on the tiny database and stops it; every answer is checked, so
a green run also means each benchmarked call answered without a Kaltura error.
"""

from __future__ import annotations

import json

from tests.test_bench import bench


def test_it_serves_a_dataset_and_measures_it_over_http(tmp_path):
    database = tmp_path / "bench.sqlite3"
    generated = bench("generate.py", "--occurrences", "3000", "--resources", "60", database=database)
    assert generated.returncode == 0, generated.stdout + generated.stderr
    results = tmp_path / "results.json"
    # Two weeks of this dataset hold ~200 events: a page of 50 is full, as the check demands.
    measured = bench(
        "api.py", "--iterations", "3", "--warmup", "1", "--page-size", "50", "--json", str(results),
        database=database,
    )  # fmt: skip
    assert measured.returncode == 0, measured.stdout + measured.stderr
    for name in ("getConflicts: 15-week weekly series", "list: 50 of a 2-week window", "list: one room"):
        assert name in measured.stdout
    written = json.loads(results.read_text())["results"]
    assert [r["benchmark"] for r in written] == ["conflicts", "list", "device", "get"]
    assert all(r["n"] == 3 and r["p50_ms"] > 0 for r in written)
