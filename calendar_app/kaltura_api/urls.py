"""Kaltura's URL forms: /api_v3/service/<svc>/action/<act>[/name/value...], the multirequest
URL, and /api_v3/index.php?service=..&action=.. (also /api_v3/ with the same params)."""

from django.urls import path, re_path

from calendar_app.kaltura_api import views

urlpatterns = [
    re_path(r"^service/(?P<service>[^/]+)/action/(?P<action>[^/]*)(?P<tail>/.*)?$", views.api),
    re_path(r"^service/(?P<service>[^/]+)(?P<tail>/.*)?$", views.api),  # multirequest
    path("index.php", views.api),
    # Anything else under /api_v3/ still gets a Kaltura answer (an unknown service), not a 404 page.
    re_path(r"^", views.api),
]
