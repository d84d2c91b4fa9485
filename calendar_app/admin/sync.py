"""The upstream Kaltura sync (calendar_app/sync/): each partner's connection, the outbox of
pushes and the map of local to upstream ids. The sync alone writes the outbox and the map, so
their pages only show them; a push that failed for good is retried from here or from the
booking's panel in the calendar."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.templatetags.admin_urls import admin_urlname
from django.contrib.admin.utils import model_ngettext
from django.db import models
from django.db.models import Case, OuterRef, Subquery, When
from django.db.models.functions import Cast
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator
from django.utils.timesince import timesince

from calendar_app import clock
from calendar_app.admin.base import ViewOnlyAdmin, WriteOnlySecretsForm, count_of
from calendar_app.models import (
    Entry,
    EventType,
    KalturaConnection,
    ScheduleEvent,
    ScheduleResource,
    SyncOperation,
    UpstreamObject,
)
from calendar_app.sync import connection as connections
from calendar_app.sync import queue, reconcile
from calendar_app.sync.client import UpstreamError, client_for
from calendar_app.sync.pull import pull

Status = SyncOperation.Status
QUEUED = (Status.PENDING, Status.RUNNING)
ERROR_SHOWN = 120  # characters of an error in a list; the whole text is its tooltip
LINES_REPORTED = 20  # of a pull, in the message after the action
MODELS: dict[str, type[models.Model]] = {
    SyncOperation.Kind.EVENT: ScheduleEvent,
    SyncOperation.Kind.RESOURCE: ScheduleResource,
    SyncOperation.Kind.ENTRY: Entry,
}


class KalturaConnectionForm(WriteOnlySecretsForm):
    """The admin secret and the app token are write-only, as a drop folder's password is: never
    sent back to the browser, kept as stored when their fields are left empty, cleared only on
    request."""

    SECRETS = ("admin_secret", "app_token")
    NEEDED = {
        KalturaConnection.Auth.ADMIN_SECRET: ("admin_secret",),
        KalturaConnection.Auth.APP_TOKEN: ("app_token_id", "app_token"),
    }
    admin_secret = forms.CharField(
        required=False, max_length=256, widget=forms.PasswordInput(render_value=False),
        help_text="The upstream partner's admin secret. Not shown once stored; leave empty to keep it.",
    )  # fmt: skip
    app_token = forms.CharField(
        required=False, max_length=256, widget=forms.PasswordInput(render_value=False),
        help_text="The app token's value. Not shown once stored; leave empty to keep it.",
    )  # fmt: skip
    forget_secrets = forms.BooleanField(required=False, label="Forget the stored admin secret and app token")
    service_url = forms.URLField(
        max_length=512, assume_scheme="https",
        help_text=KalturaConnection._meta.get_field("service_url").help_text,
    )  # fmt: skip
    event_types = forms.TypedMultipleChoiceField(
        choices=EventType.choices, coerce=int, required=False, widget=forms.CheckboxSelectMultiple,
        help_text="The types of event pushed; none ticked: every type.",
    )  # fmt: skip

    class Meta:
        model = KalturaConnection
        fields = [
            "partner", "enabled", "service_url", "upstream_partner_id", "auth", "admin_secret", "user_id",
            "app_token_id", "app_token", "app_token_hash_type", "sync_resources", "event_types",
        ]  # fmt: skip

    def clean(self) -> dict[str, Any]:
        cleaned_data = super().clean()
        # What the session needs: without it every push would fail for good.
        auth = cleaned_data.get("auth")
        for name in self.NEEDED.get(auth, ()):
            if not cleaned_data.get(name):
                self.add_error(name, f"Required for {KalturaConnection.Auth(auth).label} sessions.")
        return cleaned_data


def ops_link(partner_id: int, label: str, **filters: Any) -> str:
    url = reverse(admin_urlname(SyncOperation._meta, "changelist"))
    query = urlencode({"partner__id__exact": partner_id, **filters})
    return format_html('<a href="{}?{}">{}</a>', url, query, label)


def ago(moment: datetime | None) -> str:
    if moment is None:
        return ""
    now = clock.now()
    return "just now" if now - moment < timedelta(minutes=1) else f"{timesince(moment, now)} ago"


def shortened(text: str) -> str:
    if not text:
        return ""
    return format_html('<span title="{}">{}</span>', text, Truncator(text).chars(ERROR_SHOWN))


def reconcile_summary(report: dict[str, Any] | None) -> str:
    """A reconcile report (as stored on the connection) in one line."""
    if not report:
        return "never run"
    checked = reconcile.counted(report.get("checked", {}))
    counts = report.get("counts", {})
    drift = ", ".join(f"{n} {what}" for what, n in counts.items()) if counts else "in step"
    return f"checked {checked or 'nothing'}: {drift}"


@admin.register(KalturaConnection)
class KalturaConnectionAdmin(admin.ModelAdmin):
    form = KalturaConnectionForm
    list_display = [
        "partner", "enabled", "service_url", "queued", "failed", "oldest_queued", "last_error",
        "last_test", "last_reconcile_counts",
    ]  # fmt: skip
    list_filter = ["enabled", "auth"]
    list_select_related = ["partner"]
    search_fields = ["partner__name", "=partner__id", "service_url"]
    readonly_fields = [
        "queue_summary", "last_test_at", "last_test_result", "last_reconcile_at", "reconcile_report",
        "created_at", "updated_at",
    ]  # fmt: skip
    fieldsets = [
        (None, {"fields": ["partner", "enabled", "service_url", "upstream_partner_id"]}),
        ("Session", {
            "description": "An admin secret with the user the sessions act as, or (better: it can "
            "be limited to the scheduling services and revoked upstream) an app token with its id "
            "and hash type.",
            "fields": [
                "auth", "admin_secret", "user_id", "app_token_id", "app_token", "app_token_hash_type",
                "forget_secrets",
            ],
        }),
        ("What is pushed", {"fields": ["sync_resources", "event_types"]}),
        ("State", {"fields": readonly_fields}),
    ]  # fmt: skip
    actions = ["test_connection", "pull_from_upstream", "reconcile_report_only"]

    def get_queryset(self, request):
        ops = SyncOperation.objects.filter(partner=OuterRef("partner"))
        queued = ops.filter(status__in=QUEUED).order_by("created_at")
        errors = ops.exclude(error="").order_by("-pk")  # as connection.queue_state() reads them
        return (
            super()
            .get_queryset(request)
            .annotate(
                queued_count=count_of(queued),
                failed_count=count_of(ops.filter(status=Status.FAILED)),
                oldest_queued_at=Subquery(queued.values("created_at")[:1]),
                last_error_code=Subquery(errors.values("error_code")[:1]),
                last_error_text=Subquery(errors.values("error")[:1]),
            )
        )

    def get_readonly_fields(self, request, obj=None):
        # The id map and the outbox are the partner's: a connection never moves to another.
        return [*self.readonly_fields, "partner"] if obj else self.readonly_fields

    def save_model(self, request, obj, form, change):
        obj.updated_at = clock.now()  # the sync's client for it is built again (client.client_for)
        super().save_model(request, obj, form, change)

    @admin.display(description="queued", ordering="queued_count")
    def queued(self, connection: KalturaConnection) -> str:
        return ops_link(connection.partner_id, str(connection.queued_count), status__in="0,1")

    @admin.display(description="failed", ordering="failed_count")
    def failed(self, connection: KalturaConnection) -> str:
        return ops_link(connection.partner_id, str(connection.failed_count), status__exact=Status.FAILED)

    @admin.display(description="oldest queued", ordering="oldest_queued_at")
    def oldest_queued(self, connection: KalturaConnection) -> str:
        return ago(connection.oldest_queued_at)

    @admin.display(description="last error")
    def last_error(self, connection: KalturaConnection) -> str:
        if not connection.last_error_text:
            return ""
        return shortened(f"{connection.last_error_code}: {connection.last_error_text}")

    @admin.display(description="last test", ordering="last_test_at")
    def last_test(self, connection: KalturaConnection) -> str:
        if connection.last_test_at is None:
            return "never run"
        return format_html("{} ({})", shortened(connection.last_test_result), ago(connection.last_test_at))

    @admin.display(description="last reconcile", ordering="last_reconcile_at")
    def last_reconcile_counts(self, connection: KalturaConnection) -> str:
        summary = reconcile_summary(connection.last_reconcile)
        when = connection.last_reconcile_at
        return summary if when is None else f"{summary} ({ago(when)})"

    @admin.display(description="queue")
    def queue_summary(self, connection: KalturaConnection) -> str:
        if connection.pk is None:
            return self.get_empty_value_display()
        oldest = connection.oldest_queued_at
        waiting = f" (the oldest queued {ago(oldest)})" if oldest else ""
        return format_html(
            "{} queued{}, {} failed; last error: {}",
            self.queued(connection), waiting, self.failed(connection), self.last_error(connection) or "none",
        )  # fmt: skip

    @admin.display(description="last reconcile report")
    def reconcile_report(self, connection: KalturaConnection) -> str:
        if not connection.last_reconcile:
            return "never run"
        details = connection.last_reconcile.get("details", [])
        lines = format_html_join("", "<li>{}</li>", ((line,) for line in details))
        return format_html("{}<ul>{}</ul>", reconcile_summary(connection.last_reconcile), lines)

    @admin.action(description="Test connection")
    def test_connection(self, request: HttpRequest, queryset) -> None:
        for connection in queryset.select_related("partner"):
            tested = connections.test(connection)
            if tested.ok:
                self.message_user(request, f"{connection.partner}: ok, {tested.message}", messages.SUCCESS)
            else:
                self.message_user(request, f"{connection.partner}: failed, {tested.message}", messages.ERROR)

    @admin.action(description="Pull from upstream (resources and entries)")
    def pull_from_upstream(self, request: HttpRequest, queryset) -> None:
        for connection in queryset.select_related("partner"):
            try:
                pulled = pull(connection, client_for(connection))
            except UpstreamError as error:
                self._refused(request, connection, error)
                continue
            lines = pulled.lines() or ["nothing upstream"]
            more = len(lines) - LINES_REPORTED
            text = "; ".join(lines[:LINES_REPORTED]) + (f"; and {more} more" if more > 0 else "")
            level = messages.WARNING if pulled.errors else messages.SUCCESS
            self.message_user(request, f"{connection.partner}: pulled {text}", level)

    @admin.action(description="Reconcile (report only)")
    def reconcile_report_only(self, request: HttpRequest, queryset) -> None:
        for connection in queryset.select_related("partner"):
            try:
                report = reconcile.reconcile(connection, client_for(connection))
            except UpstreamError as error:
                self._refused(request, connection, error)
                continue
            reconcile.save(connection, report)
            level = messages.WARNING if report.drifts else messages.SUCCESS
            summary = reconcile_summary(report.as_json())
            self.message_user(request, f"{connection.partner}: {summary} (the lines are on its page)", level)

    def _refused(self, request: HttpRequest, connection: KalturaConnection, error: UpstreamError) -> None:
        text = f"{connection.partner}: the upstream answered {error.code}: {error.message}"
        self.message_user(request, text, messages.ERROR)


@admin.register(SyncOperation)
class SyncOperationAdmin(ViewOnlyAdmin):
    """The outbox: each local object to push, and how its push went."""

    list_display = [
        "id", "partner", "kind", "object_link", "status", "attempts", "created_at", "next_attempt_at",
        "error_code", "short_error",
    ]  # fmt: skip
    list_filter = ["status", "kind", "partner"]
    list_select_related = ["partner"]
    search_fields = ["=object_id"]
    ordering = ["-pk"]
    fields = [
        "partner", "kind", "object_link", "status", "attempts", "created_at", "next_attempt_at",
        "dispatched_at", "finished_at", "error_code", "error",
    ]  # fmt: skip
    readonly_fields = fields
    actions = ["retry_failed"]

    def get_queryset(self, request):
        # The object's name, if it still exists: one subquery per kind, no query per row. The
        # id is text (an entry's is "0_ab12cd34"); a resource's or an event's is cast to their
        # integer key inside its own branch, so PostgreSQL never casts an entry's id and the
        # lookup keeps the primary key's index.
        def name_of(model: type[models.Model], field: str, key: Any) -> Subquery:
            return Subquery(model.objects.filter(pk=key).values(field)[:1])

        number = Cast(OuterRef("object_id"), models.BigIntegerField())
        object_name = Case(
            When(kind=SyncOperation.Kind.EVENT, then=name_of(ScheduleEvent, "summary", number)),
            When(kind=SyncOperation.Kind.RESOURCE, then=name_of(ScheduleResource, "name", number)),
            When(kind=SyncOperation.Kind.ENTRY, then=name_of(Entry, "name", OuterRef("object_id"))),
            output_field=models.CharField(),
        )
        return super().get_queryset(request).annotate(object_name=object_name)

    @admin.display(description="object")
    def object_link(self, op: SyncOperation) -> str:
        label = f"{op.kind} {op.object_id}"
        if op.object_name is None:
            return label
        url = reverse(admin_urlname(MODELS[op.kind]._meta, "change"), args=[op.object_id])
        return format_html('<a href="{}">{}</a> {}', url, label, op.object_name)

    @admin.display(description="error")
    def short_error(self, op: SyncOperation) -> str:
        return shortened(op.error)

    @admin.action(description="Retry failed operations")
    def retry_failed(self, request: HttpRequest, queryset) -> None:
        failed = list(queryset.filter(status=Status.FAILED))
        for op in failed:
            queue.retry(op)
        if not failed:
            self.message_user(request, "None of the selected operations had failed.", messages.WARNING)
            return
        what = model_ngettext(self.opts, len(failed))
        self.message_user(request, f"Retried {len(failed)} failed {what}.", messages.SUCCESS)


@admin.register(UpstreamObject)
class UpstreamObjectAdmin(ViewOnlyAdmin):
    """Which upstream object each local one is, as the sync found or made it."""

    list_display = ["kind", "local_id", "upstream_id", "partner", "synced_at"]
    list_filter = ["kind", "partner"]
    list_select_related = ["partner"]
    search_fields = ["=local_id", "=upstream_id"]
    ordering = ["-synced_at", "-pk"]
