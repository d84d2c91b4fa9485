"""gunicorn settings for production (`make stack`, deploy/scheduler-web.service):

    python -m gunicorn -c python:scheduler_site.production scheduler_site.wsgi

Processes and threads: WEB_WORKERS processes (default: two per core) with WEB_THREADS threads each
(default 4), gunicorn's gthread worker. A request mostly runs Python (Django, the ORM, rendering),
so one process per core does the work and the second per core covers the time a process waits on
PostgreSQL or Redis; the threads keep idle keep-alive connections (every capture device holds
one) from occupying a whole process.

TLS: with TLS_CERT and TLS_KEY set, gunicorn serves HTTPS itself (`make stack` on loopback, with a
certificate it makes). Behind a proxy that terminates TLS (the usual host, deploy/nginx.conf)
leave them unset: the proxy sends X-Forwarded-Proto, which settings.py trusts.

scheduler_site/embedded.py (`make run`) takes these settings and adds its task worker.
"""

from __future__ import annotations

import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_WORKERS") or 2 * (os.cpu_count() or 1))
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS", "4"))
certfile = os.environ.get("TLS_CERT") or None
keyfile = os.environ.get("TLS_KEY") or None
# A worker is replaced after this many requests (staggered), so a slow leak anywhere cannot grow
# a process for ever.
max_requests = 10_000
max_requests_jitter = 1_000
# A request still running after this is killed with its worker, which the master replaces.
timeout = 60
# Idle keep-alive connections are closed after this; a client that reuses one at that very moment
# sees a reset. Clients in a crowd (and capture devices polling) pause longer than gunicorn's 2 s.
keepalive = 20
graceful_timeout = 10
accesslog = os.environ.get("ACCESS_LOG") or None  # "-" prints every request
loglevel = "info"
control_socket_disable = True  # gunicorn's control socket would live in ~/.gunicorn; unused here


def child_exit(server, worker) -> None:
    """A worker that exits (killed, or replaced after max_requests) leaves its metrics files in
    PROMETHEUS_MULTIPROC_DIR: calendar_app/metrics.py stops counting its live gauges."""
    from calendar_app import metrics  # prometheus_client only: the master never sets Django up

    metrics.process_exited(worker.pid)
