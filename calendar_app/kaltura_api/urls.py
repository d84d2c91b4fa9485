"""Kaltura's URL forms: /api_v3/service/<svc>/action/<act>[/name/value...], the multirequest
URL, and /api_v3/index.php?service=..&action=.. (also /api_v3/ with the same params)."""

from django.urls import path, re_path

from calendar_app.kaltura_api import views

urlpatterns = [
    re_path(
        r"^service/(?P<service>[A-Za-z0-9_]+)/action/(?P<action>[A-Za-z0-9_]+)(?P<tail>/.*)?$", views.api
    ),
    re_path(r"^service/(?P<service>multirequest)/?(?P<tail>/.*)?$", views.api),
    path("index.php", views.api),
    path("", views.api),
]
