"""Drop folders, the files they hold and the bulk upload jobs they and the API submit."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.templatetags.admin_urls import admin_urlname
from django.db.models import OuterRef
from django.db.models.functions import Length
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from calendar_app import clock
from calendar_app.admin.base import RemoteLocationForm, ViewOnlyAdmin, count_of
from calendar_app.imports import drop_folders, jobs
from calendar_app.models import (
    BulkUpload,
    DropFolder,
    DropFolderFile,
    EventType,
    ScheduleEvent,
    ScheduleResource,
)

MAX_RESULT_ROWS_SHOWN = 500


class DropFolderForm(RemoteLocationForm):
    """The password and the private key are write-only (admin/base.py RemoteLocationForm)."""

    class Meta:
        model = DropFolder
        fields = [
            "partner", "name", "kind", "enabled", "events_type", "poll_interval", "stable_seconds", "path",
            "host", "port", "username", "password", "private_key", "host_key", "bucket", "prefix", "region",
            "endpoint_url",
        ]  # fmt: skip


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
                (r.line + 1, r.action, r.status, self._object_link(model, r.object_id), r.reference_id,
                 " ".join([f"{r.reason} ({r.code})" if r.code else r.reason, *r.warnings]))
                for r in results[:MAX_RESULT_ROWS_SHOWN]
            ),
        )  # fmt: skip
        more = len(results) - MAX_RESULT_ROWS_SHOWN
        return format_html(
            '<table class="bulk-upload-results"><thead><tr><th>row</th><th>action</th><th>status</th>'
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
