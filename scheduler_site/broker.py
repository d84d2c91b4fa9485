"""Celery's Redis transport, with one fault of kombu's mended: after Redis restarts, a task that
was running when the connection dropped finishes and acknowledges its message on the channel
that connection belonged to. kombu (5.7) then reads the address off the closed connection and
raises AttributeError, which is no connection error to Celery: the worker's consumer broke, and
the worker either exited or, worse, lived on taking no tasks (tests/stack/test_faults_queue.py,
under load; celery/celery#8030, #10205, kombu#582).

Here that acknowledgement fails as what it is, a connection error: Celery logs "Couldn't ack"
and goes on consuming. The message stays unacknowledged in Redis and is delivered again after
the visibility timeout; our tasks claim their work with a conditional UPDATE, so a second
delivery finds it done.
"""

from __future__ import annotations

from kombu.transport import redis
from redis.exceptions import ConnectionError as RedisConnectionError


class Channel(redis.Channel):
    def _connparams(self, asynchronous=False):
        if self.connection.client is None:
            raise RedisConnectionError("the broker connection this message came on is closed")
        return super()._connparams(asynchronous=asynchronous)


class Transport(redis.Transport):
    Channel = Channel
