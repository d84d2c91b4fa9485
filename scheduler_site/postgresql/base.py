"""Django's PostgreSQL backend, with a connection health check that costs no round trip.

CONN_HEALTH_CHECKS keeps a persistent connection that PostgreSQL dropped (a restart, an
administrator's pg_terminate_backend, an idle timeout) from failing the first request that
meets it (tests/stack/test_faults_web.py). Django checks with a `SELECT 1` before the first query
of every request: a round trip a request, and a sixth of the web and database CPU of a device's
304 poll (bench/poll_layers.py, issue #20).

A server that ends a connection says why and closes the socket, so an idle connection with
anything to read is one the server is done with; a healthy idle one has nothing (this server
never LISTENs, the one source of unasked-for messages). The check asks the kernel, without
waiting, whether the socket has anything to read. A peer that vanished without a word (a
network cut) passes it, as it would pass a `SELECT 1` only after the TCP timeouts; the query
that meets it fails, and Django closes the connection after that request.
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None or connection.closed or connection.broken:
            return False
        poller = select.poll()
        try:
            poller.register(connection.fileno(), select.POLLIN | select.POLLPRI)
            return not poller.poll(0)  # readable, hung up or in error: done with
        except (OSError, ValueError):  # no socket any more
            return False
