"""The devices' side of the model: entries (templates, live endpoints, recordings), the upload
tokens recordings arrive through, the schedule files published for devices that sync by file,
and the receipts of what each device last fetched (docs/devices.md)."""

from __future__ import annotations

import secrets

from django.db import models
from django.db.models import Q

from calendar_app import clock
from calendar_app.models import Partner, PartnerScopedQuerySet, RemoteLocation, ScheduleResource


class EntryType(models.TextChoices):
    MEDIA = "media"
    LIVE_STREAM = "live"


def new_entry_id() -> str:
    # Kaltura entry ids: "<dc>_" + 8 lowercase alphanumerics.
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    return "0_" + "".join(secrets.choice(alphabet) for _ in range(8))


class Entry(models.Model):
    """The slice of a Kaltura entry that scheduling needs: templates, live endpoints, recordings."""

    class Status(models.IntegerChoices):  # KalturaEntryStatus, the values entries here take
        READY = 2
        DELETED = 3
        NO_CONTENT = 7

    id = models.CharField(primary_key=True, max_length=20, default=new_entry_id)
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE)
    type = models.CharField(max_length=8, choices=EntryType.choices, default=EntryType.MEDIA)
    name = models.CharField(max_length=256)
    description = models.TextField(blank=True, default="")
    tags = models.TextField(blank=True, default="")
    categories = models.TextField(blank=True, default="")
    category_ids = models.TextField(blank=True, default="")
    owner_id = models.CharField(max_length=256, blank=True, default="")
    entitled_users_edit = models.TextField("co-editors", blank=True, default="")
    entitled_users_publish = models.TextField("co-publishers", blank=True, default="")
    reference_id = models.CharField(max_length=256, blank=True, default="")
    status = models.SmallIntegerField(default=Status.READY)
    media_type = models.PositiveSmallIntegerField(default=1)  # KalturaMediaType: VIDEO 1, IMAGE 2, AUDIO 5
    template_entry = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="recordings"
    )
    # Who made it: the session's user, and the app token a device's session came from (a
    # capture device may update only the entries its own token made).
    creator_id = models.CharField(max_length=256, blank=True, default="")
    creator_app_token = models.CharField(max_length=20, blank=True, default="")
    media_file = models.FileField(upload_to="recordings/%Y/%m/", blank=True, max_length=512)
    file_name = models.CharField(max_length=256, blank=True, default="")  # as the uploader named it
    file_size = models.PositiveBigIntegerField(null=True, blank=True)
    checksum = models.CharField(max_length=64, blank=True, default="", help_text="SHA-256 of the file")
    primary_rtmp_endpoint = models.CharField(max_length=512, blank=True, default="")
    secondary_rtmp_endpoint = models.CharField(max_length=512, blank=True, default="")
    primary_rtsp_endpoint = models.CharField(max_length=512, blank=True, default="")
    secondary_rtsp_endpoint = models.CharField(max_length=512, blank=True, default="")
    stream_name = models.CharField(max_length=256, blank=True, default="")
    stream_username = models.CharField(max_length=256, blank=True, default="")
    stream_password = models.CharField(max_length=256, blank=True, default="")
    created_at = models.DateTimeField(default=clock.now)
    updated_at = models.DateTimeField(default=clock.now)

    objects = PartnerScopedQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "entries"
        indexes = [models.Index(fields=["partner", "type", "status"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.pk})"


def new_upload_token_id() -> str:
    # Kaltura's upload token ids: "<dc>_" + 32 hex characters.
    return "0_" + secrets.token_hex(16)


class UploadToken(models.Model):
    """A file on its way in (uploadToken.*): chunks are appended to one file in storage until the
    final chunk; media.addContent then hands the file to an entry. Tokens left unfinished past
    UPLOAD_TOKEN_TIMEOUT_SECONDS are timed out and their files removed (uploads.py)."""

    class Status(models.IntegerChoices):  # KalturaUploadTokenStatus
        PENDING = 0
        PARTIAL_UPLOAD = 1
        FULL_UPLOAD = 2
        CLOSED = 3
        TIMED_OUT = 4
        DELETED = 5

    id = models.CharField(primary_key=True, max_length=40, default=new_upload_token_id)
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE)
    status = models.PositiveSmallIntegerField(choices=Status.choices, default=Status.PENDING)
    user_id = models.CharField(max_length=256, blank=True, default="")
    app_token = models.CharField(max_length=20, blank=True, default="")  # the uploading device's
    file_name = models.CharField(max_length=256, blank=True, default="")
    file_size = models.PositiveBigIntegerField(null=True, blank=True)  # as declared on add, if it was
    uploaded_file_size = models.PositiveBigIntegerField(default=0)
    auto_finalize = models.BooleanField(null=True, blank=True)
    storage_name = models.CharField(max_length=512, blank=True, default="")  # the file in storage
    checksum = models.CharField(max_length=64, blank=True, default="", help_text="SHA-256, once complete")
    attached_object_type = models.CharField(max_length=64, blank=True, default="")
    attached_object_id = models.CharField(max_length=40, blank=True, default="")
    created_at = models.DateTimeField(default=clock.now)
    updated_at = models.DateTimeField(default=clock.now)

    objects = PartnerScopedQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["status", "updated_at"])]

    def __str__(self) -> str:
        return f"upload token {self.pk} ({self.get_status_display()})"


class PublishTarget(RemoteLocation):
    """Where a partner's schedule is published as files, for devices that sync by file: one file
    per resource and format, rewritten (under a temporary name, then renamed) after changes."""

    class Format(models.TextChoices):
        ICAL = "ical", "iCal (.ics)"
        XML = "xml", "XML (the API's list)"
        JSON = "json", "JSON (the API's list)"

    formats = models.JSONField(default=list, blank=True, help_text="Empty: all three.")
    resources = models.ManyToManyField(
        ScheduleResource, blank=True, related_name="+", help_text="Empty: every active resource."
    )
    days_ahead = models.PositiveIntegerField(default=120, help_text="How far ahead the files reach.")
    debounce_seconds = models.PositiveIntegerField(
        default=10, help_text="Changes within this many seconds are published together."
    )
    # A change asks for a publish (requested_at); the task publishes what was asked for once the
    # requests have been quiet for `debounce_seconds`.
    requested_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    versions = models.JSONField(default=dict, blank=True)  # file name -> version last written
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=clock.now)
    updated_at = models.DateTimeField(default=clock.now)

    objects = PartnerScopedQuerySet.as_manager()


class DeviceReceipt(models.Model):
    """The last time a device fetched a resource's schedule, and which version it got. A device
    is an app-token session (its token) or, for feed polls, the feed; `resource` is empty when
    the fetch was the partner's whole schedule."""

    class Channel(models.TextChoices):
        API = "api", "API list"
        ICAL = "ical", "API iCal"
        FEED = "feed", "iCal feed"

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE)
    device = models.CharField(max_length=64)  # "app-token:<id>", "feed:<resource id>", "user:<id>"
    label = models.CharField(max_length=256, blank=True, default="")
    resource = models.ForeignKey(ScheduleResource, null=True, blank=True, on_delete=models.CASCADE)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    fetched_at = models.DateTimeField()
    version = models.CharField(max_length=128, blank=True, default="")  # the ETag served

    objects = PartnerScopedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "device", "resource"], name="one_receipt_per_device_resource"
            ),
            models.UniqueConstraint(
                fields=["partner", "device"], condition=Q(resource=None), name="one_whole_schedule_receipt"
            ),
        ]
        indexes = [models.Index(fields=["resource", "fetched_at"])]

    def __str__(self) -> str:
        what = self.resource or "the whole schedule"
        return f"{self.label or self.device} fetched {what} at {self.fetched_at:%Y-%m-%d %H:%M}"
