r"""Kaltura's URL forms: /api_v3/service/<svc>/action/<act>[/name/value...], the multirequest
URL, and /api_v3/index.php?service=..&action=.. (also /api_v3/ with the same params).

Path segments are name/value pairs wherever they are, as in Kaltura's front controller, so
anything under /api_v3/ gets a Kaltura answer in the format it names (`/api_v3/nonsense/x/format/1`
is an unknown service, in JSON), never a 404 page. `[\s\S]`, not `.`: a segment may hold an
escaped newline (the `(?s)` flag would break Django's reverse() of every other URL).
"""

from django.urls import re_path

from calendar_app.kaltura_api import views

urlpatterns = [
    re_path(r"^service/(?P<service>[^/]+)/action/(?P<action>[^/]*)(?P<tail>/[\s\S]*)?$", views.api),
    re_path(r"^service/(?P<service>[^/]+)(?P<tail>/[\s\S]*)?$", views.api),  # multirequest
    re_path(r"^index\.php(?P<tail>/[\s\S]*)?$", views.api),
    re_path(r"^(?P<tail>[\s\S]*)$", views.api),
]
