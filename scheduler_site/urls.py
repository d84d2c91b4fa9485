from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from calendar_app import feeds

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api_v3/", include("calendar_app.kaltura_api.urls")),
    path("feeds/<str:token>.ics", feeds.feed, name="feed"),
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
]
