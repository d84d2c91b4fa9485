"""Capture devices uploading slowly, beside a load: how many threads of the web server they hold
(issue #20: a request's body is read as Django asks for it, so a slow upload keeps a thread).

    .venv/bin/python bench/slow_uploads.py --url https://127.0.0.1:8443 --cafile var/stack/tls/cert.pem \\
        --admin-secret S --uploaders 4 --kib-per-second 256 --duration 40 &
    .venv/bin/python bench/load.py --url https://127.0.0.1:8443 --cafile var/stack/tls/cert.pem \\
        --admin-secret S --admin-password P --phase polls

Each uploader opens an upload token (uploadToken.add) and sends one chunk to it with
uploadToken.upload, as the official client does (multipart: the parameters as JSON, then
`fileData`), at --kib-per-second, over and over until --duration is up; the chunk's size is
--chunk-kib. It prints how many chunks were stored and how long each took. What to read is the
other command's figures: the polls while the uploads hold their threads.
"""

from __future__ import annotations

import argparse
import json
import secrets
import statistics
import sys
import threading
import time
from collections.abc import Iterator

import httpx

BOUNDARY = "slow-upload-" + secrets.token_hex(8)
PIECE = 16 * 1024  # bytes sent between two pauses


def call(client: httpx.Client, service: str, action: str, params: dict) -> dict:
    answer = client.post(f"/api_v3/service/{service}/action/{action}", json={**params, "format": 1})
    return result(answer, f"{service}.{action}")


def result(answer: httpx.Response, what: str) -> dict:
    """The call's JSON result; an HTTP error or the API's error envelope stops the run."""
    answer.raise_for_status()
    found = answer.json()
    if isinstance(found, dict) and found.get("objectType") == "KalturaAPIException":
        raise SystemExit(f"{what}: {found['code']}: {found['message']}")
    return found


def paced_body(params: dict, size: int, bytes_per_second: float) -> tuple[int, Iterator[bytes]]:
    """A multipart body with `size` bytes of file, sent no faster than `bytes_per_second`."""
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="json"\r\n\r\n{json.dumps(params)}\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="fileData"; filename="rec.mp4"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()

    def pieces() -> Iterator[bytes]:
        yield head
        started, sent = time.monotonic(), 0
        while sent < size:
            piece = min(PIECE, size - sent)
            yield b"\0" * piece
            sent += piece
            time.sleep(max(0.0, started + sent / bytes_per_second - time.monotonic()))
        yield tail

    return len(head) + size + len(tail), pieces()


def uploader(args: argparse.Namespace, ks: str, until: float, took: list[float]) -> None:
    with httpx.Client(base_url=args.url, verify=args.cafile or True, timeout=600) as client:
        while time.monotonic() < until:
            token = call(client, "uploadToken", "add", {"ks": ks, "uploadToken": {"fileName": "rec.mp4"}})
            params = {"ks": ks, "uploadTokenId": token["id"], "resume": False, "finalChunk": True,
                      "resumeAt": -1, "format": 1}  # fmt: skip
            length, body = paced_body(params, args.chunk_kib * 1024, args.kib_per_second * 1024)
            began = time.monotonic()
            answer = client.post(
                "/api_v3/service/uploadToken/action/upload",
                content=body,
                headers={
                    "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
                    "Content-Length": str(length),
                },
            )
            result(answer, "uploadToken.upload")
            took.append(time.monotonic() - began)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--cafile", help="the certificate to trust (the stack's tls/cert.pem)")
    parser.add_argument("--admin-secret", required=True)
    parser.add_argument("--partner-id", type=int, default=100)
    parser.add_argument("--uploaders", type=int, default=4)
    parser.add_argument("--kib-per-second", type=float, default=256.0, help="each uploader's pace")
    parser.add_argument("--chunk-kib", type=int, default=2048, help="each chunk's size")
    parser.add_argument("--duration", type=float, default=40.0)
    args = parser.parse_args(argv)
    with httpx.Client(base_url=args.url, verify=args.cafile or True) as client:
        ks = call(
            client, "session", "start", {"secret": args.admin_secret, "partnerId": args.partner_id, "type": 2}
        )
    until, took = time.monotonic() + args.duration, []
    threads = [threading.Thread(target=uploader, args=(args, ks, until, took)) for _ in range(args.uploaders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    median = statistics.median(took) if took else float("nan")
    print(f"{args.uploaders} uploaders at {args.kib_per_second:g} KiB/s: {len(took)} chunks of "
          f"{args.chunk_kib} KiB stored, median {median:.1f} s each")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
