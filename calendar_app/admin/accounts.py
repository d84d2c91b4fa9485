"""Partners, memberships, entries, app tokens, feed tokens and the audit trail: rows outside
the scheduling write path (feed tokens belong to feed_tokens.py)."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.templatetags.admin_urls import admin_urlname
from django.db.models import OuterRef
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from calendar_app import clock, feed_tokens
from calendar_app.admin.base import DirectAdmin, ViewOnlyAdmin, apply_each, count_of
from calendar_app.models import (
    AppToken,
    AuditEntry,
    Entry,
    FeedToken,
    Membership,
    Partner,
    ScheduleEvent,
    ScheduleEventResource,
    ScheduleResource,
)


@admin.register(Partner)
class PartnerAdmin(DirectAdmin):
    list_display = ["id", "name", "time_zone", "prevent_conflicts", "resource_count", "event_count"]
    list_display_links = ["id", "name"]
    list_filter = ["prevent_conflicts"]
    search_fields = ["id__exact", "name"]
    readonly_fields = ["created_at", "updated_at"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                resource_count=count_of(ScheduleResource.objects, partner=OuterRef("pk")),
                event_count=count_of(ScheduleEvent.objects, partner=OuterRef("pk")),
            )
        )

    def get_changeform_initial_data(self, request):
        return {"admin_secret": Partner.new_secret(), "secret": Partner.new_secret()}

    @admin.display(description="resources", ordering="resource_count")
    def resource_count(self, partner):
        return partner.resource_count

    @admin.display(description="events", ordering="event_count")
    def event_count(self, partner):
        return partner.event_count


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "partner", "role"]
    list_filter = ["role", "partner"]
    list_select_related = ["user", "partner"]
    search_fields = ["user__username", "user__email", "partner__name"]
    autocomplete_fields = ["user", "partner"]


@admin.register(Entry)
class EntryAdmin(DirectAdmin):
    list_display = ["id", "name", "type", "status", "owner_id", "partner", "created_at"]
    list_display_links = ["id", "name"]
    list_filter = ["type", "partner"]
    list_select_related = ["partner"]
    search_fields = ["=id", "name", "reference_id", "tags", "owner_id"]
    raw_id_fields = ["template_entry"]
    readonly_fields = ["created_at", "updated_at"]


@admin.register(AppToken)
class AppTokenAdmin(DirectAdmin):
    list_display = ["id", "partner", "description", "status", "hash_type", "session_user_id", "expiry"]
    list_filter = ["status", "hash_type", "partner"]
    list_select_related = ["partner"]
    search_fields = ["=id", "description", "session_user_id"]
    readonly_fields = ["created_at", "updated_at"]

    def get_changeform_initial_data(self, request):
        return {"id": AppToken.new_id(), "token": AppToken.new_token()}


@admin.register(AuditEntry)
class AuditEntryAdmin(ViewOnlyAdmin):
    """The audit trail."""

    list_display = ["at", "partner", "source", "actor", "action", "object_link"]
    list_filter = ["source", "action", "object_type", "partner"]
    list_select_related = ["partner"]
    search_fields = ["actor", "object_id", "object_type"]
    date_hierarchy = "at"
    ordering = ["-at", "-pk"]

    @admin.display(description="object")
    def object_link(self, entry):
        model = {
            "ScheduleEvent": ScheduleEvent,
            "ScheduleResource": ScheduleResource,
            "ScheduleEventResource": ScheduleEventResource,
        }.get(entry.object_type)
        label = f"{entry.object_type} {entry.object_id}"
        if model is None:
            return label
        url = reverse(admin_urlname(model._meta, "change"), args=[entry.object_id])
        return format_html('<a href="{}">{}</a>', url, label)


@admin.register(FeedToken)
class FeedTokenAdmin(admin.ModelAdmin):
    """Each resource's iCal feed address; rotating a token retires the old address at once."""

    list_display = ["resource", "partner", "feed_url", "rotated_at"]
    list_select_related = ["resource", "partner"]
    list_filter = ["partner"]
    search_fields = ["resource__name", "resource__system_name"]
    raw_id_fields = ["resource"]
    readonly_fields = ["token", "created_at", "rotated_at", "feed_url"]
    fields = ["resource", "feed_url", "token", "created_at", "rotated_at"]
    actions = ["rotate"]

    def get_readonly_fields(self, request, obj=None):
        # A token is its resource's: another resource gets a token of its own.
        return [*self.readonly_fields, "resource"] if obj else self.readonly_fields

    def save_model(self, request, obj, form, change):
        # A copy of its own: the form's unsaved token already poses as the resource's feed.
        resource = ScheduleResource.objects.select_related("partner", "feed").get(pk=obj.resource_id)
        feed_tokens.ensure(resource.partner, [resource], clock.now())
        # The view goes on (log entry, redirect) with the object the form built.
        obj.pk = resource.feed.pk
        obj.refresh_from_db()

    @admin.display(description="feed")
    def feed_url(self, feed: FeedToken) -> str:
        if not feed.pk:
            return "(once saved)"
        url = reverse("feed", args=[feed.token])
        return format_html('<a href="{}">{}</a>', url, url)

    @admin.action(description="Rotate the token (the old feed address stops working)")
    def rotate(self, request: HttpRequest, queryset) -> None:
        feeds = queryset.select_related("partner", "resource")
        apply_each(self, request, feeds, lambda a, feed: feed_tokens.rotate(a, feed.resource_id), "Rotated")
