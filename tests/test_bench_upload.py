"""bench/upload.py keeps working: its server started and stopped by the script, a small file sent
in chunks and in one request through the official client, each checked against its checksum."""

from __future__ import annotations

import json

from tests.test_bench import bench


def test_it_uploads_in_chunks_and_reports_the_throughput(tmp_path):
    results = tmp_path / "upload.json"
    measured = bench("upload.py", "--quick", "--json", str(results), database=tmp_path / "unused.sqlite3")
    assert measured.returncode == 0, measured.stdout + measured.stderr
    figures = json.loads(results.read_text())["figures"]
    assert [(f["chunk_mib"], f["chunks"]) for f in figures] == [(1, 8), (4, 2), (0, 1)]
    assert all(f["median_mb_per_second"] > 0 for f in figures)
    assert "one request" in measured.stdout
