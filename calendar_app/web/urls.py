from django.urls import path
from django.views.generic import RedirectView

from calendar_app.web import accounts, feed_page, free_room_page, views

app_name = "calendar"
TIMELINE = {"layout": "timeline"}  # a row per resource, time across; the others: a column per resource

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="calendar:timeline", query_string=True), name="home"),
    path("calendar/timeline/", views.calendar_page, {"days": 1, **TIMELINE}, name="timeline"),
    path("calendar/timeline/week/", views.calendar_page, {"days": 7, **TIMELINE}, name="timeline_week"),
    path("calendar/week/", views.calendar_page, {"days": 7}, name="week"),
    path("calendar/day/", views.calendar_page, {"days": 1}, name="day"),
    path("calendar/free/", free_room_page.find, name="free_rooms"),
    path("calendar/check/", views.check, name="check"),
    path("calendar/book/", views.book, name="book"),
    path("calendar/book/preview/", views.preview, name="preview"),
    path("calendar/book/check/", views.form_check, name="form_check"),
    path("calendar/events/<int:pk>/", views.event_detail, name="event"),
    path("calendar/events/<int:pk>/edit/", views.event_edit, name="edit"),
    path("calendar/events/<int:pk>/move/", views.event_move, name="move"),
    path("calendar/events/<int:pk>/cancel/", views.event_cancel, name="cancel"),
    path("calendar/events/<int:pk>/sync/<int:op_id>/retry/", views.sync_retry, name="sync_retry"),
    path("switch-partner/", accounts.switch_partner, name="switch_partner"),
    path("feeds/", feed_page.feeds_page, name="feeds"),
    path("feeds/<int:resource_id>/rotate/", feed_page.rotate_feed, name="rotate_feed"),
]
