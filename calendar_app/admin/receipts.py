"""Delivery receipts: what each device last fetched (devices/receipts.py), and a filter for the
devices gone quiet before an upcoming booking. The application writes them; an admin may delete
those of a retired device, which would otherwise be flagged before every booking of its room."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Q

from calendar_app import clock
from calendar_app.admin.base import ViewOnlyAdmin
from calendar_app.devices import receipts
from calendar_app.models import DeviceReceipt


class QuietFilter(admin.SimpleListFilter):
    title = "quiet before an upcoming booking"
    parameter_name = "quiet"

    def lookups(self, request, model_admin):
        return [("yes", "Quiet, with a booking coming")]

    def queryset(self, request, queryset):
        if self.value() != "yes":
            return queryset
        now = clock.now()
        partners = queryset.order_by().values_list("partner_id", flat=True).distinct()
        wanted = Q(pk__in=[])
        for partner_id in partners:
            devices = [quiet.device for quiet in receipts.quiet_devices(partner_id, now)]
            wanted |= Q(partner_id=partner_id, device__in=devices)
        return queryset.filter(wanted)


@admin.register(DeviceReceipt)
class DeviceReceiptAdmin(ViewOnlyAdmin):
    list_display = ["device", "label", "resource", "channel", "fetched_at", "version", "partner"]
    list_filter = [QuietFilter, "channel", "partner"]
    list_select_related = ["partner", "resource"]
    search_fields = ["device", "label", "version"]
    date_hierarchy = "fetched_at"
    ordering = ["-fetched_at", "-pk"]

    def has_delete_permission(self, request, obj=None):
        return True
