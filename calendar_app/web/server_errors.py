"""The pages' answer to a failure no view handled (settings' `handler500`, scheduler_site/urls.py).

A database that cannot be reached (PostgreSQL down or restarting) is 503 Service Unavailable with
a short page and Retry-After: the request failed at once and the next one will likely work, which
a person, a calendar app polling a feed and a load balancer should each know. Anything else is
Django's own 500. The API door answers in the Kaltura envelope itself (kaltura_api/dispatch.py).
"""

from __future__ import annotations

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.views import defaults

RETRY_AFTER_SECONDS = 5
# Written out, not rendered: the template engine's context processors read the database.
UNAVAILABLE_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Service unavailable · Lecture scheduler</title></head>
<body>
  <h1>Service unavailable</h1>
  <p>The scheduler cannot reach its database just now. Try again in a few seconds.</p>
</body>
</html>
"""


def server_error(request: HttpRequest) -> HttpResponse:
    # Django calls its handler500 while handling the exception: the one sys.exc_info() holds.
    if isinstance(sys.exc_info()[1], OperationalError | InterfaceError):
        response = HttpResponse(UNAVAILABLE_PAGE, status=503, content_type="text/html; charset=utf-8")
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return defaults.server_error(request)
