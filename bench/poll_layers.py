"""Where a capture device's 304 poll spends its CPU, layer by layer, in-process (issue #20).

    .venv/bin/python bench/poll_layers.py --stack          # on a production stack of its own
    set -a; . var/stack/env; set +a                         # or on a running one (make stack)
    .venv/bin/python bench/poll_layers.py --partner-id 100 --admin-secret S

It makes a device (appToken.add, session.startWidgetSession, appToken.startSession with
setrole:CAPTURE_DEVICE_ROLE) and polls one room (scheduleEvent.list, format=ical, If-None-Match)
through Django's WSGI handler, with no HTTP server: `--polls` polls after a warm-up, timed with
the thread's CPU clock (time.thread_time: what the web process spends, not the waits on
PostgreSQL or Redis, whose own CPU comes on top). Timers wrap the functions of each layer, so a
layer's figure includes the layers below it. The whole request less the view is the middleware
and Django's request/response; the web server's HTTP and TLS are not in it (bench/load.py's polls phase
gives the CPU per request over HTTPS).
"""

from __future__ import annotations

import argparse
import collections
import functools
import hashlib
import io
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from _crowd import DEVICE_ROLE
from _crowd import EVENT_LIST as POLL

LAYERS = (  # (module, function, label): the label's indent says what it is part of
    ("calendar_app.kaltura_api.dispatch", "run", "view (dispatch.run)"),
    ("calendar_app.kaltura_api.dispatch", "authenticate", "  authenticate"),
    ("calendar_app.auth_epochs", "current", "    auth epoch (cache)"),
    ("calendar_app.kaltura_api.auth", "_check", "    checked in full (SQL; not remembered)"),
    ("calendar_app.kaltura_api.deliveries", "poll", "  request"),
    ("calendar_app.kaltura_api.deliveries", "recall", "  recall: caches, one round trip + version"),
    ("calendar_app.feeds", "schedule_version", "    schedule version (SQL)"),
    ("calendar_app.kaltura_api.deliveries", "record_poll", "  receipt (written when due)"),
)


class Door:
    """The WSGI handler called directly, as the web server would, over HTTPS."""

    def __init__(self) -> None:
        from django.core.handlers.wsgi import WSGIHandler
        from django.test.client import RequestFactory

        self.handler, self.factory = WSGIHandler(), RequestFactory(HTTP_HOST="127.0.0.1")

    def get(self, path: str, query: dict[str, str], **headers: str) -> tuple[str, dict[str, str], bytes]:
        return self._call(self.factory.get(path, query, secure=True, **headers).environ)

    def api(self, service: str, action: str, **params: Any) -> Any:
        body = json.dumps({"format": 1, **params}).encode()
        request = self.factory.post(
            f"/api_v3/service/{service}/action/{action}", body, "application/json", secure=True
        )
        return json.loads(self._call(request.environ, body)[2])

    def _call(self, environ: dict, body: bytes = b"") -> tuple[str, dict[str, str], bytes]:
        answer: dict[str, Any] = {}
        environ = {**environ, "wsgi.input": io.BytesIO(body)}

        def start(status: str, headers: list[tuple[str, str]]) -> None:
            answer.update(status=status, headers=dict(headers))

        content = b"".join(self.handler(environ, start))
        return answer["status"], answer["headers"], content


def device_poll(door: Door, partner_id: int, admin_secret: str) -> tuple[dict[str, str], str]:
    """A device's poll of the first room (its query string) and the ETag its first answer gave."""
    admin = door.api("session", "start", secret=admin_secret, partnerId=partner_id, type=2)
    rooms = door.api("schedule_scheduleResource", "list", ks=admin,
                     filter={"objectType": "KalturaLocationScheduleResourceFilter"})["objects"]  # fmt: skip
    room = next(room["id"] for room in rooms if room.get("parentId"))
    device = {"objectType": "KalturaAppToken", "sessionPrivileges": DEVICE_ROLE, "hashType": "SHA256"}
    token = door.api("appToken", "add", ks=admin, appToken=device)
    widget = door.api("session", "startWidgetSession", widgetId=f"_{partner_id}")["ks"]
    proof = hashlib.sha256((widget + token["token"]).encode()).hexdigest()
    ks = door.api("appToken", "startSession", ks=widget, id=token["id"], tokenHash=proof)["ks"]
    query = {"ks": ks, "format": "ical", "filter[objectType]": "KalturaScheduleEventFilter",
             "filter[resourceIdsLike]": str(room), "pager[pageSize]": "500"}  # fmt: skip
    status, headers, _ = door.get(POLL, query)
    if not status.startswith("200"):
        raise SystemExit(f"the device's first poll was answered {status}")
    return query, headers["ETag"]


def timed_layers(spent: collections.Counter) -> None:
    """Wraps each layer's function (its module attribute, which its callers look up) in a timer."""
    import importlib

    for module_name, name, label in LAYERS:
        module = importlib.import_module(module_name)
        setattr(module, name, _timer(getattr(module, name), label, spent))


def _timer(function: Callable, label: str, spent: collections.Counter) -> Callable:
    @functools.wraps(function)
    def timed(*args, **kwargs):
        began = time.thread_time()
        try:
            return function(*args, **kwargs)
        finally:
            spent[label] += time.thread_time() - began

    return timed


def measure(partner_id: int, admin_secret: str, polls: int) -> list[str]:
    import _django  # noqa: F401  (sets up Django, on the DATABASE_URL the caller set)

    door = Door()
    query, etag = device_poll(door, partner_id, admin_secret)
    spent: collections.Counter = collections.Counter()
    timed_layers(spent)
    for _ in range(polls // 10):
        door.get(POLL, query, HTTP_IF_NONE_MATCH=etag)
    spent.clear()
    began = time.thread_time()
    for _ in range(polls):
        status, _, _ = door.get(POLL, query, HTTP_IF_NONE_MATCH=etag)
        if not status.startswith("304"):
            raise SystemExit(f"a poll with the current ETag was answered {status}")
    whole = (time.thread_time() - began) / polls * 1000
    lines = [
        f"device 304, CPU of the web thread per poll ({polls} polls):",
        f"{'whole request':<44}{whole:7.3f} ms",
    ]
    lines += [f"{label:<44}{spent[label] / polls * 1000:7.3f} ms" for _, _, label in LAYERS]
    view = spent[LAYERS[0][2]] / polls * 1000
    return [*lines, f"{'middleware, request and response':<44}{whole - view:7.3f} ms"]


def on_own_stack(argv: list[str]) -> int:
    """Starts a stack, runs this script again with its environment, stops the stack."""
    from _stack import ProductionStack

    with ProductionStack() as stack:
        env_file = stack.folder / "env"
        command = f"set -a; . {env_file}; set +a; exec {sys.executable} {__file__} " + " ".join(
            [*argv, "--partner-id", str(stack.partner_id), "--admin-secret", stack.admin_secret]
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        return subprocess.run(["sh", "-c", command], env=env).returncode


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stack", action="store_true", help="on a production stack of its own")
    parser.add_argument("--partner-id", type=int, default=100)
    parser.add_argument("--admin-secret", help="the partner's admin secret (seed_demo prints it)")
    parser.add_argument("--polls", type=int, default=2000)
    args = parser.parse_args(argv)
    if args.stack:
        return on_own_stack([a for a in argv if a != "--stack"])
    if not args.admin_secret or "DATABASE_URL" not in os.environ:
        parser.error("without --stack: the stack's environment (. var/stack/env) and --admin-secret")
    print("\n".join(measure(args.partner_id, args.admin_secret, args.polls)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
