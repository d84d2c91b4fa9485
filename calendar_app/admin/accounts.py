"""Partners, memberships, entries, app tokens, feed tokens and the audit trail: rows outside
the scheduling write path (feed tokens belong to feed_tokens.py)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.templatetags.admin_urls import admin_urlname
from django.db.models import OuterRef, Q
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from calendar_app import clock, feed_tokens, writes
from calendar_app.admin.base import (
    DirectAdmin,
    ViewOnlyAdmin,
    WriteOnlySecretsForm,
    admin_actor,
    apply_each,
    count_of,
)
from calendar_app.admin.schedule import ServiceAdmin, ServiceModelForm
from calendar_app.devices import entries
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


MAX_BOOKINGS_SHOWN = 50  # on an entry's page: the latest bookings it is the template of or recorded for
ENTRY_ENDPOINTS = [
    "primary_rtmp_endpoint", "secondary_rtmp_endpoint", "primary_rtsp_endpoint", "secondary_rtsp_endpoint",
    "stream_name",
]  # fmt: skip


class EntryForm(WriteOnlySecretsForm, ServiceModelForm):
    """An entry, written through devices/entries.py (audited, and queued for sync like an API
    write). The stream password is write-only; a new live entry without one gets one."""

    SECRETS = ("stream_password",)
    stream_password = forms.CharField(
        required=False, max_length=256, widget=forms.PasswordInput(render_value=False),
        help_text="Not shown once stored; leave empty to keep it (a new live entry gets one).",
    )  # fmt: skip

    class Meta:
        model = Entry
        fields = [
            "partner", "type", "name", "description", "tags", "categories", "category_ids", "owner_id",
            "entitled_users_edit", "entitled_users_publish", "reference_id", "media_type", "template_entry",
            *ENTRY_ENDPOINTS, "stream_password",
        ]  # fmt: skip

    def clean(self) -> dict[str, Any]:
        cleaned_data = super().clean()
        template = cleaned_data.get("template_entry")
        partner = cleaned_data.get("partner") or getattr(self.instance, "partner", None)
        if template is not None and partner is not None and template.partner_id != partner.pk:
            self.add_error("template_entry", "The template must be an entry of the same partner.")
        return cleaned_data

    def owning_partner(self) -> Partner:
        return self.cleaned_data["partner"] if self.instance._state.adding else self.instance.partner

    def write(self, actor: writes.Actor) -> Entry:
        # An unsaved entry already has its (random) id: whether it is stored is what tells.
        adding = self.instance._state.adding
        names = self.fields if adding else self.changed_data
        values = {n: self.cleaned_data[n] for n in names if n in entries.ENTRY_RULES}
        if "template_entry" in names and self.cleaned_data.get("template_entry") is not None:
            values["template_entry_id"] = self.cleaned_data["template_entry"].pk
        if adding:
            return entries.create_entry(actor, self.cleaned_data["type"], values)
        if not values:
            return self.instance
        return entries.update_entry(actor, self.instance.pk, values)


@admin.register(Entry)
class EntryAdmin(ServiceAdmin):
    form = EntryForm
    list_display = [
        "id", "name", "type", "status", "template_entry", "creator_id", "file_size", "partner", "created_at",
    ]  # fmt: skip
    list_display_links = ["id", "name"]
    list_filter = ["type", "status", "partner"]
    list_select_related = ["partner", "template_entry"]
    search_fields = ["=id", "name", "reference_id", "tags", "owner_id", "creator_id"]
    raw_id_fields = ["template_entry"]
    actions = ["delete_selected"]
    readonly_fields = [
        "id", "status", "creator_id", "creator_app_token", "media_file", "file_name", "file_size", "checksum",
        "stream_username", "bookings", "created_at", "updated_at",
    ]  # fmt: skip
    fieldsets = [
        (None, {"fields": ["id", "partner", "type", "status", "name", "description", "template_entry"]}),
        ("Details", {"fields": [
            "tags", "categories", "category_ids", "owner_id", "entitled_users_edit", "entitled_users_publish",
            "reference_id", "media_type", "creator_id", "creator_app_token", "created_at", "updated_at",
        ]}),
        ("File", {"fields": ["media_file", "file_name", "file_size", "checksum"]}),
        ("Live endpoints", {"fields": [*ENTRY_ENDPOINTS, "stream_username", "stream_password"]}),
        ("Bookings", {"fields": ["bookings"]}),
    ]  # fmt: skip

    def get_readonly_fields(self, request, obj=None):
        # Fixed once the entry exists, as on the API (insert-only).
        fixed = ["partner", "type", "media_type", "template_entry"] if obj else []
        return [*self.readonly_fields, *fixed]

    def get_fieldsets(self, request, obj=None):
        if obj is not None:
            return self.fieldsets
        # A new entry has no id, file or bookings yet (its id is chosen when it is written).
        main, *rest = [(name, opts) for name, opts in self.fieldsets if name not in ("File", "Bookings")]
        return [(main[0], {"fields": [f for f in main[1]["fields"] if f != "id"]}), *rest]

    @admin.display(description="bookings")
    def bookings(self, entry: Entry):
        """The events it is the template of, and those it was recorded for."""
        events = ScheduleEvent.objects.for_partner(entry.partner_id).filter(
            Q(template_entry_id=entry.pk) | Q(entry_ids__contains=entry.pk)
        )
        rows = [
            format_html(
                '<a href="{}">{}</a> ({})',
                reverse(admin_urlname(ScheduleEvent._meta, "change"), args=[event.pk]),
                event,
                "template" if event.template_entry_id == entry.pk else "recorded",
            )
            for event in events.order_by("-start")[:MAX_BOOKINGS_SHOWN]
        ]
        return format_html_join(mark_safe("<br>"), "{}", ((row,) for row in rows)) or "—"

    @admin.action(description="Delete selected entries", permissions=["delete"])
    def delete_selected(self, request, queryset):
        live = queryset.select_related("partner").exclude(status=Entry.Status.DELETED)
        apply_each(self, request, live, lambda a, e: entries.delete_entry(a, e.pk), "Deleted")

    def delete_model(self, request, obj):
        entries.delete_entry(admin_actor(obj.partner, request.user.get_username()), obj.pk)


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
