"""The places the schedule is published to as files, for devices that sync by file
(publishing/files.py)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest

from calendar_app import clock, remote_locations
from calendar_app.admin.base import RemoteLocationForm
from calendar_app.models import PublishTarget, ScheduleResource
from calendar_app.publishing import files as publishing


class PublishTargetForm(RemoteLocationForm):
    """The password and the private key are write-only (admin/base.py RemoteLocationForm)."""

    formats = forms.TypedMultipleChoiceField(
        choices=PublishTarget.Format.choices, required=False, widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: all three.",
    )  # fmt: skip

    class Meta:
        model = PublishTarget
        fields = [
            "partner", "name", "kind", "enabled", "formats", "resources", "days_ahead", "debounce_seconds",
            "path", "host", "port", "username", "password", "private_key", "host_key", "bucket", "prefix",
            "region", "endpoint_url",
        ]  # fmt: skip

    def clean(self):
        cleaned_data = super().clean()
        partner = cleaned_data.get("partner")
        # A partner publishes its own resources only (publishing.py scopes them again).
        if partner and any(r.partner_id != partner.pk for r in cleaned_data.get("resources") or []):
            self.add_error("resources", "Choose resources of the target's own partner.")
        return cleaned_data


STATE = ["requested_at", "published_at", "last_attempt_at", "last_error", "files", "created_at", "updated_at"]


@admin.register(PublishTarget)
class PublishTargetAdmin(admin.ModelAdmin):
    form = PublishTargetForm
    list_display = [
        "name",
        "partner",
        "kind",
        "where",
        "enabled",
        "published_at",
        "health",
        "last_error",
        "files",
    ]
    list_filter = ["kind", "enabled", "partner"]
    list_select_related = ["partner"]
    search_fields = ["name", "host", "path", "bucket"]
    filter_horizontal = ["resources"]
    readonly_fields = STATE
    fieldsets = [
        (None, {"fields": [
            "partner", "name", "kind", "enabled", "formats", "resources", "days_ahead", "debounce_seconds",
        ]}),
        ("Connection", {
            "description": "Local: path. SFTP and FTP: host, port, username, path, and a password "
            "or (SFTP) a private key. S3: bucket, prefix, region, endpoint URL, and the access "
            "key id and secret as username and password. Directories are created as needed.",
            "fields": [
                "path", "host", "port", "username", "password", "private_key", "forget_secrets", "host_key",
                "bucket", "prefix", "region", "endpoint_url",
            ],
        }),
        ("State", {"fields": STATE}),
    ]  # fmt: skip
    actions = ["publish_now"]

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "resources":
            kwargs["queryset"] = ScheduleResource.objects.select_related("partner").order_by(
                "partner", "name"
            )
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        obj.updated_at = clock.now()
        super().save_model(request, obj, form, change)

    @admin.display(description="where")
    def where(self, target: PublishTarget) -> str:
        return remote_locations.location(target)

    @admin.display(description="last publish", boolean=True)
    def health(self, target: PublishTarget) -> bool | None:
        return None if target.last_attempt_at is None else not target.last_error

    @admin.display(description="files")
    def files(self, target: PublishTarget) -> str:
        return ", ".join(sorted(target.versions)) or self.get_empty_value_display()

    @admin.action(description="Publish the selected targets now")
    def publish_now(self, request: HttpRequest, queryset) -> None:
        for pk, outcome in publishing.publish_now(queryset, clock.now()).items():
            if outcome is None:
                self.message_user(request, f"Target {pk}: another publish is under way.", messages.WARNING)
            elif outcome.error:
                self.message_user(request, f"Target {pk}: {outcome.error}", messages.ERROR)
            else:
                self.message_user(
                    request,
                    f"Target {pk}: {len(outcome.written)} file(s) written, {outcome.unchanged} unchanged.",
                    messages.SUCCESS,
                )
