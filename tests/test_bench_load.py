"""bench/load.py keeps working: a small crowd on make run's stack, started and stopped by the
script, with every answer checked (an error answer counts, and fails the run)."""

from __future__ import annotations

import json

from tests.test_bench import bench


def test_it_puts_a_crowd_on_the_embedded_stack_and_reports_it(tmp_path):
    results = tmp_path / "load.json"
    measured = bench(
        "load.py", "--clients", "8", "--duration", "4", "--warmup", "1", "--json", str(results),
        "--log", str(tmp_path / "server.log"), database=tmp_path / "unused.sqlite3",
    )  # fmt: skip
    assert measured.returncode == 0, measured.stdout + measured.stderr
    written = json.loads(results.read_text())
    assert written["errors"] == 0
    assert all(written["per_op"][op]["requests"] > 0 for op in ("list", "get", "getConflicts", "write"))
    assert written["memory_mib"]["last"] > 50  # the server's processes were measured
