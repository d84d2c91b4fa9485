from django.apps import AppConfig


class CalendarAppConfig(AppConfig):
    name = "calendar_app"
    verbose_name = "Scheduling"
    default_auto_field = "django.db.models.BigAutoField"
