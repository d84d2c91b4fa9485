"""The production web server (`make stack`, deploy/scheduler-web.service): granian serving
scheduler_site.wsgi.

    python -m scheduler_site.production

Why granian and not gunicorn: it keeps HTTP/1.1, TLS and the connections in Rust, and a request
enters Python only to run Django. On this project's 2-core box that took capture devices' 304
polls from 774-832 a second under gunicorn (4 processes x 4 threads, its best: 879-910 with one
thread) to over 1,000 (bench/load.py --phase polls; docs/scaling.md).

Processes and threads: WEB_WORKERS processes (default: one per core) with WEB_THREADS threads each
(default 2) that run the WSGI application. A request mostly runs Python (Django, the ORM,
rendering): one process per core does the work, and the second thread covers the time the first
waits on PostgreSQL or Redis. More threads only contend for the GIL: on 2 cores, 2 x 4 served
940-1,052 device 304s a second and the mix's p99 was 253-300 ms, where 2 x 2 served 994-1,127
and 175-267 ms (bench/README.md). Idle keep-alive connections (every capture device holds one)
cost no thread. A request body, though, is read as Django asks for it, so a client that uploads
slowly holds a thread for as long: four capture devices at 256 KiB/s held a 2 x 2 server's
threads and a poll waited 7 s (bench/slow_uploads.py). Behind deploy/nginx.conf, which takes
each chunk in whole first, eight such devices left polls at 50 ms. Serving devices that upload
slowly without such a proxy, give WEB_THREADS room for them: with 2 x 4, four left polls at 10 ms.

TLS: with TLS_CERT and TLS_KEY (PKCS#8) set, the server speaks HTTPS itself (`make stack` on
loopback, with a certificate it makes); TLS 1.2 and 1.3, for encoders that stop at 1.2. Behind a
proxy that terminates TLS (the usual host, deploy/nginx.conf) leave them unset: the proxy sends
X-Forwarded-Proto, which settings.py trusts.

Other environment: HOST (127.0.0.1), PORT (8000), ACCESS_LOG ("-" logs every request).
scheduler_site/embedded.py (`make run`) runs the same server with its task worker beside it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from granian.constants import Interfaces, SSLProtocols
from granian.server import Server

APPLICATION = "scheduler_site.wsgi:application"


def server(environ: Mapping[str, str] = os.environ, *, workers: int | None = None) -> Server:
    cert, key = environ.get("TLS_CERT"), environ.get("TLS_KEY")
    return Server(
        APPLICATION,
        address=environ.get("HOST", "127.0.0.1"),
        port=int(environ.get("PORT", "8000")),
        interface=Interfaces.WSGI,
        workers=int(environ.get("WEB_WORKERS") or workers or os.cpu_count() or 1),
        blocking_threads=int(environ.get("WEB_THREADS") or 2),
        ssl_cert=Path(cert) if cert else None,
        ssl_key=Path(key) if key else None,
        ssl_protocol_min=SSLProtocols.tls12,
        # A worker that dies (killed, out of memory) is started again at once; one that dies again
        # within seconds of its restart stops the server instead of looping.
        respawn_failed_workers=True,
        # Every worker is replaced after a day, so a slow leak anywhere cannot grow one for ever:
        # its successor starts first, then it stops with the requests in hand finished.
        workers_lifetime=24 * 3600,
        # On SIGTERM requests in hand may finish; a worker still busy after this is killed.
        workers_kill_timeout=30,
        log_access=bool(environ.get("ACCESS_LOG")),
    )


def main() -> None:
    # No request is killed for running too long (gunicorn's timeout did that, with the whole
    # process): a PostgreSQL statement is cancelled after 30 s instead (settings.py). The workers
    # start with this environment.
    os.environ.setdefault("DB_STATEMENT_TIMEOUT", "30")
    server().serve()


if __name__ == "__main__":
    main()
