"""bench/load.py keeps working: a small crowd on the production stack and on make run's, each
started and stopped by the script, with every answer checked (an error answer counts, and fails
the run)."""

from __future__ import annotations

import json

from tests.test_bench import bench

# Even weights and a write every 0.1 s: a few hundred requests then reach every op.
EVEN = "device=1,feed=1,list=1,get=1,getConflicts=1,week=1"
WRITES = ("--writes-per-minute", "600")
MIX_OPS = ("list", "get", "getConflicts", "add", "addResource", "update", "week page")


def test_it_puts_a_crowd_on_the_production_stack_and_reports_it(tmp_path):
    results = tmp_path / "load.json"
    measured = bench(
        "load.py", "--clients", "8", "--duration", "5", "--polls-duration", "3", "--warmup", "1",
        "--mix", EVEN, *WRITES, "--json", str(results), "--log", str(tmp_path / "server.log"),
        database=tmp_path / "unused.sqlite3",
    )  # fmt: skip
    assert results.exists(), measured.stdout + measured.stderr  # the targets may be missed, not the run
    written = json.loads(results.read_text())
    mix, polls = written["phases"]["mix"], written["phases"]["polls"]
    assert mix["errors"] == 0 and polls["errors"] == 0, measured.stdout
    assert all(mix["per_op"][op]["requests"] > 0 for op in MIX_OPS), mix["per_op"]
    assert answered(mix, "device") and answered(mix, "feed")
    assert polls["per_op"]["device 304"]["requests"] > 0
    assert written["memory_mib"]["parts_last"]["worker-1"] > 50  # the stack's processes were measured


def test_it_puts_a_crowd_on_the_embedded_stack_and_reports_it(tmp_path):
    results = tmp_path / "load.json"
    measured = bench(
        "load.py", "--embedded", "--phase", "mix", "--clients", "8", "--duration", "4", "--warmup", "1",
        "--mix", EVEN, *WRITES, "--json", str(results), "--log", str(tmp_path / "server.log"),
        database=tmp_path / "unused.sqlite3",
    )  # fmt: skip
    assert measured.returncode == 0, measured.stdout + measured.stderr
    mix = json.loads(results.read_text())["phases"]["mix"]
    assert mix["errors"] == 0
    assert all(mix["per_op"][op]["requests"] > 0 for op in MIX_OPS), mix["per_op"]
    assert json.loads(results.read_text())["memory_mib"]["last"] > 50  # the server was measured


def answered(phase: dict, kind: str) -> int:
    """The polls of `kind` answered 304 or 200 (a write to the room changes its ETag)."""
    return sum(phase["per_op"].get(f"{kind} {status}", {}).get("requests", 0) for status in (304, 200))
