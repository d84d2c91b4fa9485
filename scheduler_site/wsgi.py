"""The WSGI application, with one addition to Django's: a request whose Content-Type parameters
Django cannot read fails inside Django before any middleware or view runs, and reaches the
server as a bare 500 page. Django (5.2) raises ValueError for an RFC 2231 parameter in an unknown
charset (`charset*=bogus''x`) or a NUL in the charset, and LookupError later for a codec that is
no text encoding (`charset=rot13`). Such a request is read as if its Content-Type had no
parameters: the API reads forms as UTF-8 whatever the charset (calendar_app/kaltura_api/params.py),
and browsers send UTF-8.

Once the app is loaded, what it made is frozen out of the garbage collector's full passes (gc.freeze,
as Python's docs suggest for long-lived servers): those objects live as long as the process, and
walking them made about one request in ten ~60 ms slower (bench/timeline_view.py's p95).
"""

from __future__ import annotations

import gc
import os

import django
from django.core.handlers.wsgi import WSGIHandler, WSGIRequest

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "scheduler_site.settings")


class Request(WSGIRequest):
    def __init__(self, environ) -> None:
        try:
            super().__init__(environ)
            b"".decode(self.encoding or "utf-8")  # LookupError: a codec that is no text encoding
        except (ValueError, LookupError):
            environ["CONTENT_TYPE"] = environ.get("CONTENT_TYPE", "").split(";", 1)[0].strip()
            super().__init__(environ)


class Handler(WSGIHandler):
    request_class = Request


django.setup(set_prefix=False)
application = Handler()
gc.freeze()
