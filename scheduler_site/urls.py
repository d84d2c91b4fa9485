from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from calendar_app import feeds
from calendar_app.web import monitoring

# A request Django refuses before any view (a Host outside ALLOWED_HOSTS) gets the envelope under /api_v3/.
handler400 = "calendar_app.kaltura_api.views.bad_request"
# A page that fails because the database cannot be reached answers 503, not 500.
handler500 = "calendar_app.web.server_errors.server_error"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api_v3/", include("calendar_app.kaltura_api.urls")),
    path("feeds/<str:token>.ics", feeds.feed, name="feed"),
    path("healthz", monitoring.healthz, name="healthz"),
    path("metrics", monitoring.metrics_page, name="metrics"),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("calendar_app.web.urls")),
]
