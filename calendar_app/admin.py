"""Django admin for every model.

Events, resources and their links belong to scheduling.py (docs/architecture.md: one write path). Their
forms only validate. Once a page (the form and its inlines) is valid, the admin saves it with
one call to the service, and a refusal shows the page again with the service's reason as a form
error (ServiceAdmin); the admin never saves or deletes those rows directly. Feed tokens belong to
feed_tokens.py. The other models have no service and are written by the admin as usual.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.templatetags.admin_urls import admin_urlname
from django.contrib.admin.utils import model_ngettext
from django.db import models
from django.db.models import F, Func, OuterRef, Subquery
from django.db.models.functions import Length
from django.forms.models import BaseInlineFormSet, construct_instance
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from calendar_app import clock, feed_tokens, scheduling, writes
from calendar_app.errors import ConflictDetected, NotFound, SchedulingError, ValidationFailed
from calendar_app.imports import drop_folders, jobs
from calendar_app.input_rules import EVENT_RULES
from calendar_app.models import (
    AppToken,
    AuditEntry,
    BulkUpload,
    DropFolder,
    DropFolderFile,
    Entry,
    EventStatus,
    EventType,
    FeedToken,
    Membership,
    Partner,
    RecurrenceType,
    ResourceStatus,
    ScheduleEvent,
    ScheduleEventResource,
    ScheduleResource,
)

MAX_CONFLICTS_NAMED = 5


def count_of(queryset: models.QuerySet | models.Manager, **correlation: Any) -> Subquery:
    """COUNT(*) of related rows as a correlated subquery, e.g.
    count_of(ScheduleEventResource.objects, event=OuterRef("pk")). Unlike Count() over a join it
    needs no GROUP BY across the whole list, and several counts on one row do not multiply."""
    counted = queryset.filter(**correlation).order_by().annotate(n=Func(F("pk"), function="COUNT"))
    return Subquery(counted.values("n"), output_field=models.IntegerField())


def admin_actor(partner: Partner, user_id: str) -> writes.Actor:
    return writes.Actor(partner=partner, now=clock.now(), user_id=user_id, source=AuditEntry.Source.ADMIN)


# ---------------------------------------------------------------- service-backed forms


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
            "partner", "type", "name", "system_name", "description", "tags", "parent",
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


# ---------------------------------------------------------------- service-backed admins


def apply_each(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    objects: Iterable[Any],
    write: Callable[[writes.Actor, Any], object],
    done: str,
) -> None:
    """Call the service for each object in its own transaction; report refusals row by row."""
    user_id, count = request.user.get_username(), 0
    for obj in objects:
        try:
            write(admin_actor(obj.partner, user_id), obj)
        except SchedulingError as error:
            model_admin.message_user(request, f"{obj}: {error.message}", messages.ERROR)
        else:
            count += 1
    if count:
        what = model_ngettext(model_admin.opts, count)
        model_admin.message_user(request, f"{done} {count} {what}.", messages.SUCCESS)


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
    list_display = ["id", "name", "type", "status", "system_name", "parent", "partner", "event_count"]
    list_display_links = ["id", "name"]
    list_filter = ["type", "status", "partner"]
    list_select_related = ["partner", "parent"]
    search_fields = ["id__exact", "name", "system_name", "tags", "description"]
    actions = ["delete_selected"]
    fields = [
        "partner", "type", "status", "name", "system_name", "description", "tags", "parent",
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


# ---------------------------------------------------------------- the other models


class DirectAdmin(admin.ModelAdmin):
    """Admin for models outside the scheduling write path (they have a chosen id, not a serial
    one): written directly, the id fixed once created, updated_at kept current."""

    def get_readonly_fields(self, request, obj=None):
        # Changing a primary key in the admin would save a copy under the new id.
        return [*self.readonly_fields, "id"] if obj else self.readonly_fields

    def save_model(self, request, obj, form, change):
        obj.updated_at = clock.now()
        super().save_model(request, obj, form, change)


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


class ViewOnlyAdmin(admin.ModelAdmin):
    """Rows written by the application, never by hand: their admin pages only show them."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


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


# ---------------------------------------------------------------- imports: drop folders and jobs

MAX_RESULT_ROWS_SHOWN = 500


class DropFolderForm(forms.ModelForm):
    """The password and the private key are write-only: never sent back to the browser, kept as
    stored when their fields are left empty, cleared only on request."""

    SECRETS = ("password", "private_key")
    password = forms.CharField(
        required=False, widget=forms.PasswordInput(render_value=False),
        help_text="Not shown once stored; leave empty to keep it. S3: the secret access key.",
    )  # fmt: skip
    private_key = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 4, "autocomplete": "off"}),
        help_text="SFTP: an unencrypted private key (OpenSSH or PEM). Not shown once stored; "
        "leave empty to keep it.",
    )  # fmt: skip
    forget_secrets = forms.BooleanField(required=False, label="Forget the stored password and key")
    endpoint_url = forms.URLField(
        required=False, max_length=512, assume_scheme="https",
        help_text=DropFolder._meta.get_field("endpoint_url").help_text,
    )  # fmt: skip

    class Meta:
        model = DropFolder
        fields = [
            "partner", "name", "kind", "enabled", "events_type", "poll_interval", "stable_seconds", "path",
            "host", "port", "username", "password", "private_key", "host_key", "bucket", "prefix", "region",
            "endpoint_url",
        ]  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in self.SECRETS:
            self.initial[name] = ""  # a Textarea would echo the stored key

    def clean(self) -> dict[str, Any]:
        cleaned_data = super().clean()
        forget = cleaned_data.get("forget_secrets")
        for name in self.SECRETS:
            if not cleaned_data.get(name) and not forget:
                cleaned_data[name] = getattr(self.instance, name)
        return cleaned_data


@admin.register(DropFolder)
class DropFolderAdmin(admin.ModelAdmin):
    form = DropFolderForm
    list_display = [
        "name", "partner", "kind", "where", "enabled", "poll_interval", "last_polled_at", "health",
        "file_list",
    ]  # fmt: skip
    list_filter = ["kind", "enabled", "partner"]
    list_select_related = ["partner"]
    search_fields = ["name", "host", "path", "bucket"]
    readonly_fields = ["last_polled_at", "last_error", "file_list", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": [
            "partner", "name", "kind", "enabled", "events_type", "poll_interval", "stable_seconds",
        ]}),
        ("Connection", {
            "description": "Local: path. SFTP and FTP: host, port, username, path, and a password "
            "or (SFTP) a private key. S3: bucket, prefix, region, endpoint URL, and the access "
            "key id and secret as username and password.",
            "fields": [
                "path", "host", "port", "username", "password", "private_key", "forget_secrets", "host_key",
                "bucket", "prefix", "region", "endpoint_url",
            ],
        }),
        ("State", {"fields": ["last_polled_at", "last_error", "file_list", "created_at", "updated_at"]}),
    ]  # fmt: skip
    actions = ["poll_now"]

    def get_queryset(self, request):
        files = count_of(DropFolderFile.objects, folder=OuterRef("pk"))
        return super().get_queryset(request).annotate(file_count=files)

    def save_model(self, request, obj, form, change):
        obj.updated_at = clock.now()
        super().save_model(request, obj, form, change)

    @admin.display(description="where")
    def where(self, folder: DropFolder) -> str:
        return drop_folders.location(folder)

    @admin.display(description="last poll", boolean=True)
    def health(self, folder: DropFolder) -> bool | None:
        return None if folder.last_polled_at is None else not folder.last_error

    @admin.display(description="files", ordering="file_count")
    def file_list(self, folder: DropFolder) -> str:
        if folder.pk is None:
            return self.get_empty_value_display()
        url = reverse(admin_urlname(DropFolderFile._meta, "changelist")) + f"?folder__id__exact={folder.pk}"
        return format_html('<a href="{}">{} files</a>', url, folder.file_count)

    @admin.action(description="Poll the selected folders now")
    def poll_now(self, request: HttpRequest, queryset) -> None:
        now = clock.now()
        for folder in queryset.select_related("partner"):
            polled = drop_folders.poll(folder, now)
            if polled.error:
                self.message_user(request, f"{folder.name}: {polled.error}", messages.ERROR)
                continue
            self.message_user(
                request,
                f"{folder.name}: {polled.taken} file(s) imported, {polled.failed} set aside in failed/, "
                f"{polled.waiting} waiting for a later poll to find them unchanged.",
                messages.SUCCESS,
            )


def job_link(job: BulkUpload | None) -> str:
    if job is None:
        return "-"
    url = reverse(admin_urlname(BulkUpload._meta, "change"), args=[job.pk])
    return format_html('<a href="{}">{} ({})</a>', url, job.pk, job.get_status_display())


@admin.register(DropFolderFile)
class DropFolderFileAdmin(ViewOnlyAdmin):
    """The history of the drop folders: each file version seen, and the job it became."""

    list_display = [
        "name", "folder", "status", "size", "job", "rows", "row_errors", "problem", "detected_at",
        "handled_at",
    ]  # fmt: skip
    list_filter = ["status", "folder", "partner"]
    search_fields = ["name"]
    date_hierarchy = "detected_at"
    ordering = ["-detected_at", "-pk"]
    fields = [
        "folder", "name", "size", "fingerprint", "status", "job", "rows", "row_errors", "problem",
        "moved_to", "detected_at", "claimed_at", "handled_at",
    ]  # fmt: skip
    readonly_fields = fields

    def get_queryset(self, request):
        # The job's counts, not its file: never load megabytes of file bytes for a list.
        related = super().get_queryset(request).select_related("folder", "bulk_upload")
        return related.defer("bulk_upload__file_data", "bulk_upload__results")

    @admin.display(description="job")
    def job(self, file: DropFolderFile) -> str:
        return job_link(file.bulk_upload)

    @admin.display(description="rows")
    def rows(self, file: DropFolderFile) -> int | None:
        return file.bulk_upload.num_rows if file.bulk_upload else None

    @admin.display(description="row errors")
    def row_errors(self, file: DropFolderFile) -> int | None:
        return file.bulk_upload.num_errors if file.bulk_upload else None

    @admin.display(description="error")
    def problem(self, file: DropFolderFile) -> str:
        return file.error or (file.bulk_upload.error if file.bulk_upload else "")


@admin.register(BulkUpload)
class BulkUploadAdmin(ViewOnlyAdmin):
    """Bulk upload jobs, from the API and drop folders: their state and per-row results."""

    list_display = [
        "id", "partner", "kind", "source", "status", "file_name", "num_rows", "num_errors", "created_at",
        "finished_at",
    ]  # fmt: skip
    list_filter = ["status", "kind", "source", "partner"]
    list_select_related = ["partner"]
    search_fields = ["=id", "file_name", "uploaded_by"]
    date_hierarchy = "created_at"
    ordering = ["-created_at", "-pk"]
    fields = [
        "partner", "kind", "source", "status", "file_name", "file_size", "events_type_name", "description",
        "uploaded_by", "num_rows", "num_processed", "num_errors", "error_code", "error", "attempts",
        "created_at", "started_at", "finished_at", "result_table",
    ]  # fmt: skip
    readonly_fields = fields

    def get_queryset(self, request):
        # The bytes stay in the database (the page shows their size); results load on one page.
        jobs = super().get_queryset(request).defer("file_data", "results")
        return jobs.annotate(file_size=Length("file_data"))

    @admin.display(description="file size (bytes)")
    def file_size(self, job: BulkUpload) -> int:
        return job.file_size

    @admin.display(description="events type")
    def events_type_name(self, job: BulkUpload) -> str:
        if job.events_type is None:
            return self.get_empty_value_display()
        return (
            EventType(job.events_type).label if job.events_type in EventType.values else str(job.events_type)
        )

    @admin.display(description="results")
    def result_table(self, job: BulkUpload) -> str:
        results = jobs.results(job)
        if not results:
            return self.get_empty_value_display()
        model = ScheduleEvent if job.kind == BulkUpload.Kind.EVENTS_ICAL else ScheduleResource
        rows = format_html_join(
            "", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (r.line, r.action, r.status, self._object_link(model, r.object_id), r.reference_id,
                 f"{r.reason} ({r.code})" if r.code else r.reason)
                for r in results[:MAX_RESULT_ROWS_SHOWN]
            ),
        )  # fmt: skip
        more = len(results) - MAX_RESULT_ROWS_SHOWN
        return format_html(
            '<table class="bulk-upload-results"><thead><tr><th>line</th><th>action</th><th>status</th>'
            "<th>object</th><th>reference</th><th>reason</th></tr></thead><tbody>{}</tbody></table>{}",
            rows,
            f"… and {more} more rows" if more > 0 else "",
        )

    @staticmethod
    def _object_link(model, object_id: int | None) -> str:
        if object_id is None:
            return ""
        url = reverse(admin_urlname(model._meta, "change"), args=[object_id])
        return format_html('<a href="{}">{}</a>', url, object_id)
