"""Chunked upload throughput: a recording sent with the official client, as a capture device sends
one (uploadToken.add, then uploadToken.upload chunk after chunk), to local storage.

    .venv/bin/python bench/upload.py                      # 256 MiB in 1, 8 and 64 MiB chunks, 3 runs
    .venv/bin/python bench/upload.py --size-mib 64 --chunks-mib 4,16 --runs 5
    .venv/bin/python bench/upload.py --quick              # ~5 s: what tests/test_bench_upload.py runs

The script starts this server as deployed (granian, two processes of four threads, DEBUG off,
bench/_server.py's UpstreamServer) on its own SQLite file and MEDIA_ROOT in a temporary folder,
and removes both at the end. The file is random bytes, split into chunk files before anything is
timed. A run is timed from uploadToken.add to the answer to the final chunk; the final chunk's
own time is given apart, and so is media.addContent's (media.add not counted), which joins the
parts into one file and hashes it. Each run's file is checked against its SHA-256 as the server
reports it (the token's `checksum`, set by then), and the report gives the median of the runs
for each chunk size, and the same file in one request when it fits the request cap.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx
from _server import UpstreamServer
from KalturaClient import KalturaClient, KalturaConfiguration
from KalturaClient.Plugins.Core import (
    KalturaMediaEntry,
    KalturaMediaType,
    KalturaSessionType,
    KalturaUploadedFileTokenResource,
    KalturaUploadToken,
)

MIB = 1024 * 1024


@dataclass
class Figure:
    chunk_mib: float  # 0: the whole file in one request
    chunks: int
    runs: int
    median_seconds: float
    median_mb_per_second: float
    median_final_chunk_seconds: float
    median_attach_seconds: float  # media.addContent: the parts joined and hashed


def main() -> None:
    args = _arguments()
    with tempfile.TemporaryDirectory(prefix="bench-upload-") as folder:
        server = UpstreamServer(Path(folder), workers=2, threads=4)
        server.env.update(
            MEDIA_ROOT=str(Path(folder) / "media"), UPLOAD_CHUNK_MAX_BYTES=str(args.request_cap)
        )
        server.prepare()
        server.start()
        try:
            figures = _measure(server, Path(folder), args)
        finally:
            server.stop()
    if args.json:
        args.json.write_text(json.dumps({"size_mib": args.size_mib, "figures": [asdict(f) for f in figures]}))


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size-mib", type=float, default=256)
    parser.add_argument("--chunks-mib", default="1,8,64", help="comma-separated chunk sizes")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--request-cap", type=int, default=512 * MIB, help="UPLOAD_CHUNK_MAX_BYTES")
    parser.add_argument("--quick", action="store_true", help="8 MiB in 1 and 4 MiB chunks, one run")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    if args.quick:
        args.size_mib, args.chunks_mib, args.runs = 8, "1,4", 1
    return args


def _measure(server: UpstreamServer, folder: Path, args: argparse.Namespace) -> list[Figure]:
    data = os.urandom(int(args.size_mib * MIB))
    expected = "sha256:" + hashlib.sha256(data).hexdigest()
    client = _client(server)
    sizes = [float(s) for s in args.chunks_mib.split(",")]
    if len(data) <= args.request_cap:
        sizes.append(0)  # the whole file in one request
    print(f"upload of {args.size_mib:g} MiB to local storage through the official client", flush=True)
    figures = []
    for size in sizes:
        paths = _split(data, int(size * MIB) or len(data), folder / "chunks")
        runs = [_one_upload(client, server, paths, expected) for _ in range(args.runs)]
        figures.append(_figure(size, len(paths), len(data), runs))
        print(_line(figures[-1]), flush=True)
    return figures


def _client(server: UpstreamServer) -> KalturaClient:
    config = KalturaConfiguration()
    config.serviceUrl = server.url
    client = KalturaClient(config)
    client.setKs(
        client.session.start(server.admin_secret, "bench", KalturaSessionType.ADMIN, server.partner_id)
    )
    return client


def _split(data: bytes, size: int, folder: Path) -> list[Path]:
    folder.mkdir(exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    paths = []
    for index, start in enumerate(range(0, len(data), size)):
        path = folder / f"rec.{index:05d}.mp4"
        path.write_bytes(data[start : start + size])
        paths.append(path)
    return paths


def _one_upload(
    client: KalturaClient, server: UpstreamServer, paths: list[Path], expected: str
) -> tuple[float, float, float]:
    """(whole upload, final chunk, addContent) in seconds; the stored file's checksum must be
    the source's."""
    started = time.perf_counter()
    token = client.uploadToken.add(KalturaUploadToken(fileName="rec.mp4"))
    for index, path in enumerate(paths):
        last = index == len(paths) - 1
        if last:
            final_started = time.perf_counter()
        with path.open("rb") as file:
            client.uploadToken.upload(token.id, file, index > 0, last, -1)
    ended = time.perf_counter()
    entry = client.media.add(KalturaMediaEntry(name="Bench", mediaType=KalturaMediaType.VIDEO))
    attach_started = time.perf_counter()
    client.media.addContent(entry.id, KalturaUploadedFileTokenResource(token=token.id))
    attached = time.perf_counter()
    checksum = _checksum(server, client.getKs(), token.id)
    if checksum != expected:
        raise SystemExit(f"the stored file is not the one sent: {checksum} != {expected}")
    return ended - started, ended - final_started, attached - attach_started


def _checksum(server: UpstreamServer, ks: str, token_id: str) -> str:
    answer = httpx.post(
        f"{server.url}/api_v3/service/uploadtoken/action/get",
        json={"ks": ks, "uploadTokenId": token_id, "format": 1},
        timeout=30,
    )
    return answer.json().get("checksum") or ""


def _figure(chunk_mib: float, chunks: int, size: int, runs: list[tuple[float, float, float]]) -> Figure:
    whole = statistics.median(r[0] for r in runs)
    return Figure(
        chunk_mib=chunk_mib,
        chunks=chunks,
        runs=len(runs),
        median_seconds=round(whole, 3),
        median_mb_per_second=round(size / MIB / whole, 1),
        median_final_chunk_seconds=round(statistics.median(r[1] for r in runs), 3),
        median_attach_seconds=round(statistics.median(r[2] for r in runs), 3),
    )


def _line(figure: Figure) -> str:
    what = f"{figure.chunk_mib:g} MiB chunks x {figure.chunks}" if figure.chunk_mib else "one request"
    return (
        f"{what:>24}: {figure.median_mb_per_second:8.1f} MiB/s  ({figure.median_seconds:.2f} s, "
        f"final chunk {figure.median_final_chunk_seconds:.3f} s, "
        f"addContent {figure.median_attach_seconds:.2f} s, median of {figure.runs})"
    )


if __name__ == "__main__":
    sys.exit(main())
