"""Events, resources and their links: scheduling.py owns them. Their forms only validate; once
a page (the form and its inlines) is valid, ServiceAdmin saves it with one call to the service,
and a refusal shows the page again with the service's reason as a form error. The admin never
saves or deletes those rows directly."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.templatetags.admin_urls import admin_urlname
from django.db import models
from django.db.models import OuterRef
from django.forms.models import BaseInlineFormSet, construct_instance
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from calendar_app import scheduling, writes
from calendar_app.admin.base import admin_actor, apply_each, count_of
from calendar_app.errors import ConflictDetected, NotFound, SchedulingError, ValidationFailed
from calendar_app.input_rules import EVENT_RULES
from calendar_app.models import (
    EventStatus,
    Partner,
    RecurrenceType,
    ResourceStatus,
    ScheduleEvent,
    ScheduleEventResource,
    ScheduleResource,
)

MAX_CONFLICTS_NAMED = 5


MAX_CONFLICTS_NAMED = 5


def form_field_for(form: forms.Form, domain_field: str) -> str | None:
    """The form field a domain field name is about: 'recurrence.count' -> 'recurrence',
    'parent_id' -> 'parent'; None when the form has no such field."""
    name = domain_field.split(".")[0]
    if name not in form.fields:
        name = name.removesuffix("_id")
    return name if name in form.fields else None


def describe_conflicts(error: ConflictDetected) -> str:
    events = sorted({c.event.pk: c.event for c in error.conflicts}.items())
    named = "; ".join(f"{event} (id {pk})" for pk, event in events[:MAX_CONFLICTS_NAMED])
    more = len(events) - MAX_CONFLICTS_NAMED
    return f"{error.message} — {named}" + (f" and {more} more" if more > 0 else "")


def add_domain_error(form: forms.Form, error: SchedulingError) -> None:
    """Show a refusal from scheduling.py next to the field it is about, or above the form."""
    if isinstance(error, ValidationFailed):
        field = form_field_for(form, error.field)
        # Keep the domain name in the text when the error lands elsewhere ("recurrence.count").
        form.add_error(field, error.message if field == error.field else str(error))
    elif isinstance(error, ConflictDetected):
        form.add_error(None, describe_conflicts(error))
    elif isinstance(error, NotFound):
        form.add_error(None, f"There is no {error.kind} {error.object_id} for this partner.")
    else:
        form.add_error(None, error.message)


class ServiceModelForm(forms.ModelForm):
    """A ModelForm for a model scheduling.py owns. It only validates: ServiceAdmin writes
    through the service once the whole page is valid, and sets `refusal` when it shows the page
    again because the service refused it."""

    refusal: SchedulingError | None = None  # set per request by ServiceAdmin.get_form()

    def clean(self) -> dict[str, Any]:
        cleaned_data = super().clean()
        if self.refusal is not None:
            add_domain_error(self, self.refusal)
        return cleaned_data

    def _post_clean(self) -> None:
        # Copy the values onto the instance, as ModelForm does, but leave the model's checks to
        # the service, which makes them when the admin saves: the model's constraints would
        # refuse the same input naming a constraint ("end_not_before_start"), not the reason.
        self.instance = construct_instance(self, self.instance, self._meta.fields, self._meta.exclude)

    def owning_partner(self) -> Partner:
        # Chosen on add, fixed after.
        return self.cleaned_data["partner"] if self.instance.pk is None else self.instance.partner

    # The service functions this form saves through: create(actor, values) and
    # update(actor, pk, changes).
    create: Callable[..., models.Model]
    update: Callable[..., models.Model]

    def write(self, actor: writes.Actor) -> models.Model:
        if self.instance.pk is None:
            return self.create(actor, self.domain_values(self.fields))
        if not self.changed_data:
            return self.instance
        return self.update(actor, self.instance.pk, self.domain_values(self.changed_data))

    def domain_values(self, names: Iterable[str]) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in names if name != "partner"}


class EventForm(ServiceModelForm):
    class Meta:
        model = ScheduleEvent
        fields = ["partner", *EVENT_RULES]  # what the service accepts (the admin shows fewer)
        help_texts = {
            "start": "For a series: the first occurrence.",
            "recurrence": 'Series only. Kaltura recurrence fields, e.g. {"frequency": "weeks", '
            '"count": 12, "by_day": "MO,WE", "time_zone": "Europe/Berlin"}.',
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "recurrence_type" in self.fields:
            # Occurrences are made by their series, never chosen here.
            choices = RecurrenceType.choices
            self.fields["recurrence_type"].choices = [c for c in choices if c[0] != RecurrenceType.RECURRENCE]

    def book(self, actor: writes.Actor, resource_ids: Collection[int] | None) -> ScheduleEvent:
        """The event and its resources as one write: all of it, or nothing. `resource_ids` are
        the resources it is to have, None to leave them as they are."""
        if self.instance.pk is None:
            return scheduling.create_event(
                actor, self.domain_values(self.fields), resource_ids=resource_ids or ()
            )
        # Only what changed: on an occurrence each changed field becomes an exception.
        pk, wanted = self.instance.pk, self.domain_values(self.changed_data)
        if not wanted and resource_ids is None:
            return self.instance
        with writes.envelope(actor):
            if "recurrence_type" in wanted:
                # edit_booking keeps a booking's recurrence type; update_event makes an event a
                # series or a series one event. The result is checked once, by edit_booking.
                scheduling.update_event(actor, pk, wanted, on_conflict=scheduling.OnConflict.IGNORE)
                wanted = {}
            return scheduling.edit_booking(actor, pk, wanted, resource_ids)


class ResourceForm(ServiceModelForm):
    class Meta:
        model = ScheduleResource
        fields = [
            "partner", "type", "name", "system_name", "description", "tags", "capacity", "parent",
            "stream_url", "entry_id",
        ]  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "parent" in self.fields:
            # The service refuses a parent of another partner; on change offer only valid ones.
            parents = ScheduleResource.objects.exclude(status=ResourceStatus.DELETED)
            if self.instance.pk is not None:
                parents = parents.for_partner(self.instance.partner_id).exclude(pk=self.instance.pk)
            self.fields["parent"].queryset = parents

    def domain_values(self, names: Iterable[str]) -> dict[str, Any]:
        names = list(names)
        values = super().domain_values(name for name in names if name != "parent")
        if "parent" in names:
            parent = self.cleaned_data["parent"]
            values["parent_id"] = parent.pk if parent else None
        return values

    create = staticmethod(scheduling.create_resource)
    update = staticmethod(scheduling.update_resource)


class LinkForm(ServiceModelForm):
    class Meta:
        model = ScheduleEventResource
        fields = ["event", "resource"]

    def owning_partner(self) -> Partner:
        return self.cleaned_data["event"].partner

    def write(self, actor: writes.Actor) -> ScheduleEventResource:
        event, resource = self.cleaned_data["event"], self.cleaned_data["resource"]
        return scheduling.link_resource(actor, event.pk, resource.pk)


class ServiceAdmin(admin.ModelAdmin):
    """Admin for a model scheduling.py owns. Nothing is written until the page is valid; then
    save_related() saves it with one call to the service, and deletion marks rows DELETED
    through the service."""

    def get_form(self, request: HttpRequest, obj=None, change=False, **kwargs: Any):
        form = super().get_form(request, obj, change, **kwargs)
        # get_form() builds a new form class per request, so this is this request's refusal.
        form.refusal = getattr(request, "refusal", None)
        return form

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except SchedulingError as refusal:
            # The service refused the page save_related() sent it, and nothing was written. Show
            # the page again as for any invalid form: validated anew, with the refusal as one
            # more error, so that this time it is not saved.
            request.refusal = refusal
            return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        pass  # saved by save_related(), which also has the inlines: one call to the service

    def save_related(self, request, form, formsets, change):
        actor = admin_actor(form.owning_partner(), request.user.get_username())
        written = self.write(actor, form, formsets)
        # The view goes on (change message, log entry, redirect) with the objects the forms
        # built: make them the rows the service stored.
        form.instance.pk = written.pk
        form.instance.refresh_from_db()
        for formset in formsets:
            formset.save(commit=False)  # its new rows now point at the stored object; saves nothing

    def write(self, actor: writes.Actor, form: ServiceModelForm, formsets: list) -> models.Model:
        return form.write(actor)

    def get_deleted_objects(self, objs, request):
        # Deleting marks the row DELETED; nothing cascades in the database, and rows that
        # PROTECT it (child resources) do not stop it, so the confirmation lists just these.
        objs = list(objs)
        return [str(obj) for obj in objs], {self.opts.verbose_name_plural: len(objs)}, set(), []


class ResourceFilter(admin.SimpleListFilter):
    """Events linked to one resource (of the partner chosen in the partner filter, if any)."""

    title = "resource"
    parameter_name = "resource"

    def lookups(self, request, model_admin):
        resources = ScheduleResource.objects.exclude(status=ResourceStatus.DELETED).select_related("partner")
        partner_id = request.GET.get("partner__id__exact", "")
        if partner_id.isdigit():
            resources = resources.filter(partner_id=partner_id)
        return [(r.pk, f"{r.name} ({r.partner.name})") for r in resources.order_by("partner", "name")]

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        if not self.value().isdigit():
            raise IncorrectLookupParameters(f"resource must be an id, not {self.value()!r}")
        linked = ScheduleEventResource.objects.filter(resource_id=self.value()).values("event_id")
        return queryset.filter(pk__in=linked)


class LinkFormSet(BaseInlineFormSet):
    def add_fields(self, form, index):
        super().add_fields(form, index)
        if "resource" in form.fields:
            resources = ScheduleResource.objects.exclude(status=ResourceStatus.DELETED)
            if self.instance.partner_id is not None:
                resources = resources.for_partner(self.instance.partner_id)
            form.fields["resource"].queryset = resources


class LinkInline(admin.TabularInline):
    """An event's resources. Rows are added or removed, never edited; EventAdmin saves them with
    the event, in the same call to the service."""

    model = ScheduleEventResource
    formset = LinkFormSet
    fields = ["resource"]
    extra = 1

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request, obj=None):
        return super().has_add_permission(request, obj) and _is_live(obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and _is_live(obj)


def _is_live(obj: ScheduleEvent | ScheduleResource | None) -> bool:
    # The service no longer finds deleted rows, so they can only be viewed.
    return obj is None or obj.status not in (EventStatus.DELETED, ResourceStatus.DELETED)


@admin.register(ScheduleEvent)
class EventAdmin(ServiceAdmin):
    form = EventForm
    inlines = [LinkInline]
    list_display = [
        "id", "summary", "type", "status", "recurrence_type", "start", "end", "partner", "resource_count",
    ]  # fmt: skip
    list_display_links = ["id", "summary"]
    list_filter = ["type", "status", "recurrence_type", "is_exception", ResourceFilter, "partner"]
    list_select_related = ["partner"]
    search_fields = ["id__exact", "summary", "reference_id", "tags", "organizer", "=ical_uid"]
    date_hierarchy = "start"
    ordering = ["-start"]
    actions = ["cancel_selected", "delete_selected"]
    readonly_fields = [
        "status", "duration", "time_zone", "parent", "occurrence_list", "original_start",
        "is_exception", "overridden_fields", "sequence", "ical_uid", "linked_to", "linked_to_offset",
        "created_at", "updated_at",
    ]  # fmt: skip
    fieldsets = [
        (None, {"fields": ["partner", "type", "status", "summary", "description"]}),
        ("Time", {"fields": [
            "start", "end", "duration", "recurrence_type", "recurrence", "time_zone",
            "parent", "occurrence_list", "original_start", "is_exception", "overridden_fields",
        ]}),
        ("Details", {"classes": ["collapse"], "fields": [
            "reference_id", "classification_type", "location", "organizer", "owner_id", "priority",
            "contact", "comment", "tags", "geo_latitude", "geo_longitude",
        ]}),
        ("Entries", {"classes": ["collapse"], "fields": [
            "template_entry_id", "entry_ids", "category_ids",
        ]}),
        ("Live stream", {"classes": ["collapse"], "fields": [
            "source_entry_id", "projected_audience", "pre_start_time", "post_end_time",
            "pre_start_entry_id", "post_end_entry_id", "is_content_interruptible", "live_features",
        ]}),
        ("Record", {"classes": ["collapse"], "fields": [
            "sequence", "ical_uid", "linked_to", "linked_to_offset", "created_at", "updated_at",
        ]}),
    ]  # fmt: skip

    def get_queryset(self, request):
        links = count_of(ScheduleEventResource.objects, event=OuterRef("pk"))
        return super().get_queryset(request).annotate(resource_count=links)

    def get_readonly_fields(self, request, obj=None):
        readonly = list(self.readonly_fields)
        if obj is not None:
            readonly += ["partner", "type"]
        if obj is not None and obj.is_occurrence:
            readonly += ["recurrence_type", "recurrence"]
        return readonly

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and _is_live(obj)

    def has_delete_permission(self, request, obj=None):
        # An occurrence is cancelled, not deleted (the service refuses, as Kaltura does).
        occurrence = obj is not None and obj.is_occurrence
        return super().has_delete_permission(request, obj) and _is_live(obj) and not occurrence

    @admin.display(description="resources", ordering="resource_count")
    def resource_count(self, event):
        return event.resource_count

    @admin.display(description="occurrences")
    def occurrence_list(self, event):
        # A link rather than an inline: a series may have 1,000 occurrences, too many for one
        # form (and for DATA_UPLOAD_MAX_NUMBER_FIELDS when it is posted back).
        if not event.is_series:
            return self.get_empty_value_display()
        count = event.occurrences.exclude(status=EventStatus.DELETED).count()
        url = reverse(admin_urlname(self.opts, "changelist")) + f"?parent__exact={event.pk}"
        return format_html('<a href="{}">{} occurrences</a>', url, count)

    def write(self, actor, form, formsets):
        return form.book(actor, self.resource_ids(form.instance, formsets))

    @staticmethod
    def resource_ids(event: ScheduleEvent, formsets: list) -> set[int] | None:
        """The event's resources as the inline leaves them; None when it changes none (or the
        page has no inline: the user may not change links)."""
        if not formsets:
            return None
        (links,) = formsets
        links.save(commit=False)  # sorts the rows into new_objects and deleted_objects only
        removed = {link.resource_id for link in links.deleted_objects}
        added = {link.resource_id for link in links.new_objects}
        if not (removed or added):
            return None
        linked = set(scheduling.resource_ids_of(event)) if event.pk else set()
        return linked - removed | added

    @admin.action(description="Cancel selected events", permissions=["change"])
    def cancel_selected(self, request, queryset):
        events = queryset.select_related("partner").exclude(status=EventStatus.DELETED)
        apply_each(self, request, events, lambda a, e: scheduling.cancel_event(a, e.pk), "Cancelled")

    # Named like Django's own action so that it replaces it: events are soft-deleted.
    @admin.action(description="Delete selected events", permissions=["delete"])
    def delete_selected(self, request, queryset):
        events = queryset.select_related("partner").exclude(status=EventStatus.DELETED)
        apply_each(self, request, events, lambda a, e: scheduling.delete_event(a, e.pk), "Deleted")

    def delete_model(self, request, obj):
        scheduling.delete_event(admin_actor(obj.partner, request.user.get_username()), obj.pk)


@admin.register(ScheduleResource)
class ResourceAdmin(ServiceAdmin):
    form = ResourceForm
    list_display = [
        "id", "name", "type", "status", "system_name", "parent", "capacity", "partner", "event_count",
    ]  # fmt: skip
    list_display_links = ["id", "name"]
    list_filter = ["type", "status", ("capacity", admin.EmptyFieldListFilter), "partner"]
    list_select_related = ["partner", "parent"]
    search_fields = ["id__exact", "name", "system_name", "tags", "description"]
    actions = ["delete_selected"]
    fields = [
        "partner", "type", "status", "name", "system_name", "description", "tags", "capacity", "parent",
        "stream_url", "entry_id", "created_at", "updated_at",
    ]  # fmt: skip
    readonly_fields = ["status", "created_at", "updated_at"]

    def get_queryset(self, request):
        links = count_of(ScheduleEventResource.objects, resource=OuterRef("pk"))
        return super().get_queryset(request).annotate(event_count=links)

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "partner", "type"] if obj else self.readonly_fields

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and _is_live(obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and _is_live(obj)

    @admin.display(description="events", ordering="event_count")
    def event_count(self, resource):
        return resource.event_count

    # Named like Django's own action so that it replaces it: resources are soft-deleted.
    @admin.action(description="Delete selected resources", permissions=["delete"])
    def delete_selected(self, request, queryset):
        resources = queryset.select_related("partner").exclude(status=ResourceStatus.DELETED)
        apply_each(self, request, resources, lambda a, r: scheduling.delete_resource(a, r.pk), "Deleted")

    def delete_model(self, request, obj):
        scheduling.delete_resource(admin_actor(obj.partner, request.user.get_username()), obj.pk)


@admin.register(ScheduleEventResource)
class LinkAdmin(ServiceAdmin):
    form = LinkForm
    list_display = ["id", "event", "resource", "partner", "created_at"]
    list_filter = ["partner"]
    list_select_related = ["event", "resource", "partner"]
    search_fields = ["event__summary", "resource__name"]
    raw_id_fields = ["event", "resource"]
    actions = ["delete_selected"]
    fields = ["event", "resource", "partner", "created_at"]
    readonly_fields = ["partner", "created_at"]

    def has_change_permission(self, request, obj=None):
        return False  # a link is made or removed, never edited

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and (obj is None or _is_live(obj.event))

    # Named like Django's own action so that it replaces it: unlinking a series' resource
    # unlinks its occurrences too, which only the service knows.
    @admin.action(description="Unlink selected event resources", permissions=["delete"])
    def delete_selected(self, request, queryset):
        links = queryset.select_related("partner", "event", "resource")
        apply_each(self, request, links, self._unlink, "Removed")

    def delete_model(self, request, obj):
        self._unlink(admin_actor(obj.partner, request.user.get_username()), obj)

    @staticmethod
    def _unlink(actor: writes.Actor, link: ScheduleEventResource) -> None:
        scheduling.unlink_resource(actor, link.event_id, link.resource_id)
