"""The data model (docs/architecture.md). Every row belongs to a partner; every read goes through
`Model.objects.for_partner(partner)`."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterable
from typing import Self
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.dispatch import Signal

from calendar_app import clock
from calendar_app.secret_box import EncryptedTextField


class PartnerScopedQuerySet(models.QuerySet):
    def for_partner(self, partner: Partner | int) -> Self:
        partner_id = partner if isinstance(partner, int) else partner.pk
        return self.filter(partner_id=partner_id)


# Sent with the ids of the partners whose credential rows a bulk update changed (a save or delete
# sends Django's own signals): calendar_app/auth_epochs.py listens.
credentials_updated = Signal()


class PartnerQuerySet(models.QuerySet):
    """A bulk update of partners says which it changed, as a save does (bulk_update goes through
    update). So does one of the other rows that decide who may call as a partner
    (CredentialQuerySet: its app tokens, ended sessions)."""

    def update(self, **kwargs) -> int:
        return _update_announced(self, "pk", kwargs)


class CredentialQuerySet(PartnerScopedQuerySet):
    def update(self, **kwargs) -> int:
        return _update_announced(self, "partner_id", kwargs)


def _update_announced(queryset: models.QuerySet, partner_column: str, changes: dict) -> int:
    partner_ids = set(queryset.values_list(partner_column, flat=True))
    updated = models.QuerySet.update(queryset, **changes)
    credentials_updated.send(queryset.model, partner_ids=partner_ids)
    return updated


class Partner(models.Model):
    """A tenant: one Kaltura account. Its id is the Kaltura partner id, chosen by the operator."""

    id = models.PositiveIntegerField(primary_key=True)
    name = models.CharField(max_length=256)
    admin_secret = models.CharField(max_length=64)
    secret = models.CharField("user secret", max_length=64)
    time_zone = models.CharField(max_length=64, default="UTC", help_text="IANA zone for display")
    prevent_conflicts = models.BooleanField(
        default=False,
        help_text="Refuse bookings that collide on a resource or fall inside a blackout.",
    )
    # What a live entry made here broadcasts to (entries.py builds its URLs from these). Empty
    # secondaries give entries without a backup endpoint.
    live_rtmp_primary = models.CharField(
        "primary RTMP ingest", max_length=256, default="rtmp://localhost:1935/kLive",
        help_text="Base URL of new live entries' primary RTMP endpoint.",
    )  # fmt: skip
    live_rtmp_secondary = models.CharField("secondary RTMP ingest", max_length=256, blank=True, default="")
    live_rtsp_primary = models.CharField(
        "primary RTSP ingest", max_length=256, default="rtsp://localhost:554/kLive",
        help_text="Base URL of new live entries' primary RTSP endpoint.",
    )  # fmt: skip
    live_rtsp_secondary = models.CharField("secondary RTSP ingest", max_length=256, blank=True, default="")
    recording_name_pattern = models.CharField(
        max_length=256, default="{summary} ({date})",
        help_text="Name of a recording made for a booking when its device sends none: {summary}, "
        "{date} (the booking's local date), {start} (its local start time), {template} (the "
        "template entry's name).",
    )  # fmt: skip
    created_at = models.DateTimeField(default=clock.now)
    updated_at = models.DateTimeField(default=clock.now)

    objects = PartnerQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.name} ({self.pk})"

    @property
    def zone(self) -> ZoneInfo:
        """The zone the partner's people see times in, and a series without a zone repeats in."""
        return ZoneInfo(self.time_zone or "UTC")

    @staticmethod
    def new_secret() -> str:
        return secrets.token_hex(16)


class Membership(models.Model):
    class Role(models.TextChoices):
        ADMIN = "admin"
        SCHEDULER = "scheduler"
        VIEWER = "viewer"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)

    objects = PartnerScopedQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "partner"], name="one_role_per_partner")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.partner_id}: {self.role}"


class ResourceType(models.IntegerChoices):
    # Kaltura's core ScheduleResourceType values.
    LOCATION = 1
    LIVE_ENTRY = 2
    CAMERA = 3


class ResourceStatus(models.IntegerChoices):
    DISABLED = 1
    ACTIVE = 2
    DELETED = 3


class ScheduleResourceQuerySet(PartnerScopedQuerySet):
    def below(self, roots: Iterable[int]) -> dict[int, set[int]]:
        """For each root, the ids of the resources of this queryset under it, at any depth (a
        building's rooms and their cameras); one query for all roots."""
        children: dict[int | None, list[int]] = {}
        for pk, parent_id in self.values_list("pk", "parent_id"):
            children.setdefault(parent_id, []).append(pk)
        found: dict[int, set[int]] = {}
        for root in roots:
            seen: set[int] = set()
            stack = list(children.get(root, []))
            while stack:
                pk = stack.pop()
                if pk not in seen:
                    seen.add(pk)
                    stack.extend(children.get(pk, []))
            found[root] = seen
        return found


class ScheduleResource(models.Model):
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE)
    type = models.PositiveSmallIntegerField(choices=ResourceType.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    name = models.CharField(max_length=256)
    # NULL, not "", for "no system name": NULLs never collide in the unique constraint.
    system_name = models.CharField(max_length=256, null=True, blank=True)  # noqa: DJ001
    description = models.TextField(blank=True, default="")
    status = models.PositiveSmallIntegerField(choices=ResourceStatus.choices, default=ResourceStatus.ACTIVE)
    tags = models.TextField(blank=True, default="")
    stream_url = models.CharField(max_length=256, blank=True, default="")  # camera
    entry_id = models.CharField(max_length=256, blank=True, default="")  # live entry
    # Seats of a room, for finding a free one (web/free_room_page.py). Ours, not Kaltura's: the
    # API neither sends nor accepts it (kaltura_api/catalog.py does not declare it).
    capacity = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=clock.now)
    updated_at = models.DateTimeField(default=clock.now)

    objects = ScheduleResourceQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "system_name"],
                condition=~Q(status=ResourceStatus.DELETED) & ~Q(system_name=""),
                name="unique_live_system_name",
            )
        ]
        indexes = [models.Index(fields=["partner", "status"])]

    def __str__(self) -> str:
        return self.name


class EventType(models.IntegerChoices):
    RECORD = 1
    LIVE_STREAM = 2
    BLACKOUT = 3
    MEETING = 4


class EventStatus(models.IntegerChoices):
    CANCELLED = 1
    ACTIVE = 2
    DELETED = 3


class RecurrenceType(models.IntegerChoices):
    NONE = 0
    RECURRING = 1  # the series row
    RECURRENCE = 2  # one occurrence of a series


class ClassificationType(models.IntegerChoices):
    PUBLIC = 1
    PRIVATE = 2
    CONFIDENTIAL = 3


class ScheduleEventQuerySet(PartnerScopedQuerySet):
    def bookable(self) -> ScheduleEventQuerySet:
        """Rows that occupy time: active, and not a series row (its occurrences stand for it)."""
        return self.filter(status=EventStatus.ACTIVE).exclude(recurrence_type=RecurrenceType.RECURRING)

    def overlapping(self, start, end) -> ScheduleEventQuerySet:
        """Half-open [start, end): back-to-back events do not overlap."""
        return self.filter(start__lt=end, end__gt=start)


def new_ical_uid() -> str:
    return f"{uuid.uuid4()}@lecture-scheduler"


class ScheduleEvent(models.Model):
    """Series, occurrences and single events in one table, as Kaltura stores them."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE)
    type = models.PositiveSmallIntegerField(choices=EventType.choices)
    status = models.PositiveSmallIntegerField(choices=EventStatus.choices, default=EventStatus.ACTIVE)
    recurrence_type = models.PositiveSmallIntegerField(
        choices=RecurrenceType.choices, default=RecurrenceType.NONE
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="occurrences"
    )
    # UTC instants. A series row holds its first occurrence's slot, as Kaltura does.
    start = models.DateTimeField()
    end = models.DateTimeField()
    duration = models.PositiveIntegerField(default=0, help_text="seconds of one occurrence")
    # Occurrences: the start the rule generated (iCal RECURRENCE-ID), and whether it was edited.
    original_start = models.DateTimeField(null=True, blank=True)
    is_exception = models.BooleanField(default=False)
    # Fields an exception set itself; later series edits leave them alone.
    overridden_fields = models.JSONField(default=list, blank=True)
    # Series: IANA zone the rule is expanded in, and Kaltura's recurrence fields (snake_case).
    time_zone = models.CharField(max_length=64, blank=True, default="")
    recurrence = models.JSONField(null=True, blank=True)
    # An open-ended series (neither count nor until): the instant up to which its occurrences
    # have been made; the beat makes the next ones (scheduling.extend_series). None otherwise.
    materialized_until = models.DateTimeField(null=True, blank=True)

    summary = models.CharField(max_length=256)
    description = models.TextField(blank=True, default="")
    reference_id = models.CharField(max_length=256, blank=True, default="")
    classification_type = models.PositiveSmallIntegerField(
        choices=ClassificationType.choices, default=ClassificationType.PUBLIC
    )
    geo_latitude = models.FloatField(null=True, blank=True)
    geo_longitude = models.FloatField(null=True, blank=True)
    location = models.CharField(max_length=256, blank=True, default="")
    organizer = models.CharField(max_length=256, blank=True, default="")
    owner_id = models.CharField(max_length=256, blank=True, default="")
    priority = models.PositiveSmallIntegerField(null=True, blank=True)
    sequence = models.PositiveIntegerField(default=1)
    contact = models.CharField(max_length=1024, blank=True, default="")
    comment = models.TextField(blank=True, default="")
    tags = models.TextField(blank=True, default="")
    linked_to = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="followers"
    )
    linked_to_offset = models.IntegerField(null=True, blank=True)

    # Entry events (record, live stream, meeting).
    template_entry_id = models.CharField(max_length=20, blank=True, default="")
    entry_ids = models.TextField(blank=True, default="")
    category_ids = models.TextField(blank=True, default="")
    # Live stream events.
    source_entry_id = models.CharField(max_length=20, blank=True, default="")
    projected_audience = models.PositiveIntegerField(null=True, blank=True)
    pre_start_time = models.PositiveIntegerField(default=0)
    post_end_time = models.PositiveIntegerField(default=0)
    pre_start_entry_id = models.CharField(max_length=20, blank=True, default="")
    post_end_entry_id = models.CharField(max_length=20, blank=True, default="")
    is_content_interruptible = models.BooleanField(null=True, blank=True)
    live_features = models.JSONField(null=True, blank=True)

    ical_uid = models.CharField(max_length=255, default=new_ical_uid)
    created_at = models.DateTimeField(default=clock.now)
    updated_at = models.DateTimeField(default=clock.now)
    # The feed VEVENT of this row (fragments.py), valid while `ical_fragment_of` equals
    # `updated_at`: a write that forgets the fragment still makes it stale, never wrong.
    ical_fragment = models.TextField(blank=True, default="")
    ical_fragment_of = models.DateTimeField(null=True, blank=True)

    objects = ScheduleEventQuerySet.as_manager()

    class Meta:
        indexes = [
            # By start, carrying what tells whether a row occupies a slot (end, series row or not):
            # the slots of a free-room search are read from the index alone (free_rooms.py; 55 ->
            # 8 ms on SQLite for the bench's 15-week pattern). Also every (partner, status, start) use.
            models.Index(
                fields=["partner", "status", "start", "end", "recurrence_type"], name="event_slot_cover"
            ),
            models.Index(fields=["partner", "end"]),
            models.Index(fields=["partner", "type", "start"]),
            models.Index(fields=["partner", "reference_id"]),
            # "What did this write change?" (fragments.changed) without a scan.
            models.Index(fields=["partner", "updated_at"]),
            # iCal import matches a VEVENT's UID to the event it was exported from.
            models.Index(fields=["partner", "ical_uid"]),
            # The open-ended series the beat extends, across partners; every other row is NULL.
            models.Index(
                fields=["materialized_until"],
                condition=Q(materialized_until__isnull=False),
                name="open_ended_series",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(end__gte=models.F("start")), name="end_not_before_start"),
            models.UniqueConstraint(
                fields=["parent", "original_start"],
                condition=Q(parent__isnull=False),
                name="one_occurrence_per_slot",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.summary} @ {self.start:%Y-%m-%d %H:%M}Z"

    @property
    def is_series(self) -> bool:
        return self.recurrence_type == RecurrenceType.RECURRING

    @property
    def is_occurrence(self) -> bool:
        return self.recurrence_type == RecurrenceType.RECURRENCE


class ScheduleEventResource(models.Model):
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE)
    event = models.ForeignKey(ScheduleEvent, on_delete=models.CASCADE, related_name="resource_links")
    resource = models.ForeignKey(ScheduleResource, on_delete=models.CASCADE, related_name="event_links")
    created_at = models.DateTimeField(default=clock.now)
    updated_at = models.DateTimeField(default=clock.now)

    objects = PartnerScopedQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["event", "resource"], name="one_link_per_pair")]
        # (event, resource) comes with the unique constraint; conflicts look links up by resource.
        indexes = [models.Index(fields=["resource", "event"])]

    def __str__(self) -> str:
        return f"event {self.event_id} ↔ resource {self.resource_id}"


class AppToken(models.Model):
    """A device credential. The token itself must stay readable: Kaltura's startSession proves
    possession with hash(widget KS + token), which the server can only check by recomputing it."""

    class HashType(models.TextChoices):
        MD5 = "MD5"
        SHA1 = "SHA1"
        SHA256 = "SHA256"
        SHA512 = "SHA512"

    class Status(models.IntegerChoices):
        DISABLED = 1
        ACTIVE = 2
        DELETED = 3

    id = models.CharField(primary_key=True, max_length=20)
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE)
    token = models.CharField(max_length=64)
    hash_type = models.CharField(max_length=8, choices=HashType.choices, default=HashType.SHA256)
    status = models.PositiveSmallIntegerField(choices=Status.choices, default=Status.ACTIVE)
    session_type = models.PositiveSmallIntegerField(default=0)  # USER
    session_user_id = models.CharField(max_length=256, blank=True, default="")
    session_duration = models.PositiveIntegerField(default=86400)
    session_privileges = models.TextField(blank=True, default="")
    expiry = models.DateTimeField(null=True, blank=True)
    description = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=clock.now)
    updated_at = models.DateTimeField(default=clock.now)

    objects = CredentialQuerySet.as_manager()

    def __str__(self) -> str:
        return f"app token {self.pk}"

    @staticmethod
    def new_id() -> str:
        return "0_" + secrets.token_hex(4)

    @staticmethod
    def new_token() -> str:
        # 16 random bytes as 32 hex characters: the length of Kaltura's own app tokens.
        return secrets.token_hex(16)


class AuditEntry(models.Model):
    class Source(models.TextChoices):
        API = "api"
        WEB = "web"
        ADMIN = "admin"
        IMPORT = "import"
        SYSTEM = "system"
        SYNC = "sync"  # copied from the upstream Kaltura (pull): not pushed back to it

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE)
    at = models.DateTimeField(default=clock.now)
    actor = models.CharField(max_length=256, blank=True, default="")
    source = models.CharField(max_length=8, choices=Source.choices)
    action = models.CharField(max_length=32)
    object_type = models.CharField(max_length=32)
    object_id = models.CharField(max_length=32)
    before = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    after = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)

    objects = PartnerScopedQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "audit entries"
        indexes = [models.Index(fields=["partner", "object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor} {self.action} {self.object_type} {self.object_id}"


class RevokedSession(models.Model):
    """A KS ended by `session.end` before its expiry. Rows past `expires_at` can go: the KS
    would be refused as expired anyway."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE)
    fingerprint = models.CharField(max_length=64, unique=True)  # sha256 of the KS
    expires_at = models.DateTimeField()

    objects = CredentialQuerySet.as_manager()

    def __str__(self) -> str:
        return f"revoked KS {self.fingerprint[:12]}…"


def new_feed_token() -> str:
    return secrets.token_urlsafe(32)


class FeedToken(models.Model):
    """The unguessable address of a resource's iCal feed (/feeds/<token>.ics). Rotating it makes
    the old address stop working; a location's feed includes what is below it (its cameras)."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE)
    resource = models.OneToOneField(ScheduleResource, on_delete=models.CASCADE, related_name="feed")
    token = models.CharField(max_length=64, unique=True, default=new_feed_token)
    created_at = models.DateTimeField(default=clock.now)
    rotated_at = models.DateTimeField(default=clock.now)

    objects = PartnerScopedQuerySet.as_manager()

    def __str__(self) -> str:
        return f"feed of {self.resource}"

    def rotate(self, now) -> None:
        self.token = new_feed_token()
        self.rotated_at = now
        self.save(update_fields=["token", "rotated_at"])


class BulkUpload(models.Model):
    """A bulk upload job: the file, its state, and one result per row. The row is
    written in the same transaction as the request that submits it, so a job is never lost;
    a Celery task processes it (imports/jobs.py)."""

    class Status(models.IntegerChoices):  # KalturaBatchJobStatus
        PENDING = 0
        QUEUED = 1
        PROCESSING = 2
        FINISHED = 5
        FAILED = 6
        ABORTED = 7
        FATAL = 10
        FINISHED_PARTIALLY = 12

    class Kind(models.TextChoices):
        EVENTS_ICAL = "events_ical", "schedule events (iCal)"
        RESOURCES_CSV = "resources_csv", "schedule resources (CSV)"

    class Source(models.TextChoices):
        API = "api"
        DROP_FOLDER = "drop_folder", "drop folder"
        ADMIN = "admin"

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.PositiveSmallIntegerField(choices=Status.choices, default=Status.PENDING)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.API)
    file_name = models.CharField(max_length=256, blank=True, default="")
    file_data = models.BinaryField()
    # iCal: the event type of VEVENTs without X-KALTURA-TYPE (Kaltura's eventsType).
    events_type = models.PositiveSmallIntegerField(null=True, blank=True)
    description = models.CharField(max_length=1024, blank=True, default="")
    uploaded_by = models.CharField(max_length=256, blank=True, default="")
    num_rows = models.PositiveIntegerField(default=0)
    num_processed = models.PositiveIntegerField(default=0)
    num_errors = models.PositiveIntegerField(default=0)
    results = models.JSONField(default=list, blank=True)  # bulk_results.RowResult.as_dict()
    error_code = models.CharField(max_length=64, blank=True, default="")
    error = models.TextField(blank=True, default="")
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=clock.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The job's last sign of life: sent to a worker (QUEUED), or a chunk of rows saved by its
    # worker (PROCESSING). jobs.recover() judges a job lost by it.
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    objects = PartnerScopedQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["partner", "-created_at"]), models.Index(fields=["status"])]

    def __str__(self) -> str:
        return f"bulk upload {self.pk} ({self.get_kind_display()}, {self.get_status_display()})"


class RemoteLocation(models.Model):
    """Where files are read from (drop folders) or written to (schedule publishing): a local
    directory, an SFTP or FTP directory, or an S3 bucket prefix, with the credentials to reach it."""

    class Kind(models.TextChoices):
        LOCAL = "local", "local directory"
        SFTP = "sftp", "SFTP"
        FTP = "ftp", "FTP"
        S3 = "s3", "S3 bucket"

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE)
    name = models.CharField(max_length=256)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    enabled = models.BooleanField(default=True)
    path = models.CharField(
        max_length=1024, blank=True, default="",
        help_text="The directory (local, SFTP, FTP). For FTP it may be relative to the login directory.",
    )  # fmt: skip
    host = models.CharField(max_length=256, blank=True, default="")
    port = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: the protocol's default.")
    username = models.CharField(max_length=256, blank=True, default="", help_text="S3: the access key id.")
    # Encrypted at rest (secret_box.py); the admin form still limits the password to 256 characters.
    password = EncryptedTextField(blank=True, default="", help_text="S3: the secret access key.")
    private_key = EncryptedTextField(
        blank=True, default="", help_text="SFTP: an unencrypted private key (OpenSSH or PEM)."
    )
    host_key = models.TextField(
        blank=True, default="",
        help_text="SFTP: the server's public key ('ssh-ed25519 AAAA…'). Left empty, the key "
        "offered at the first connection is recorded here and required from then on.",
    )  # fmt: skip
    bucket = models.CharField(max_length=256, blank=True, default="")
    prefix = models.CharField(max_length=1024, blank=True, default="", help_text="S3: the key prefix.")
    region = models.CharField(max_length=64, blank=True, default="")
    endpoint_url = models.URLField(
        max_length=512, blank=True, default="", help_text="S3: a non-AWS endpoint (MinIO, Ceph …)."
    )

    # What each kind cannot do without.
    REQUIRED: dict[str, list[str]] = {
        Kind.LOCAL: ["path"],
        Kind.SFTP: ["host"],
        Kind.FTP: ["host"],
        Kind.S3: ["bucket"],
    }

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"

    def clean(self) -> None:
        missing = [name for name in self.REQUIRED.get(self.kind, []) if not getattr(self, name)]
        if missing:
            needed = f"Required for a location of kind {self.get_kind_display()}."
            raise ValidationError(dict.fromkeys(missing, needed))


class DropFolder(RemoteLocation):
    """A place files are dropped into for import (drop_folders.py): a local directory, an SFTP or
    FTP directory, or an S3 bucket prefix. Each stable .ics or .csv file becomes one bulk upload
    job of the folder's partner, then moves to processed/ (or failed/) inside the folder."""

    events_type = models.PositiveSmallIntegerField(
        choices=EventType.choices, default=EventType.RECORD,
        help_text="The type of events an .ics file creates when a VEVENT has no X-KALTURA-TYPE.",
    )  # fmt: skip
    poll_interval = models.PositiveIntegerField(default=60, help_text="seconds between polls")
    stable_seconds = models.PositiveIntegerField(
        default=30,
        help_text="A file is taken once an earlier poll, at least this many seconds ago, saw it "
        "with the same size and modification stamp: one still being uploaded is never read.",
    )
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=clock.now)
    updated_at = models.DateTimeField(default=clock.now)

    objects = PartnerScopedQuerySet.as_manager()


class DropFolderFile(models.Model):
    """One version of one file seen in a drop folder: its name, size and fingerprint (mtime or
    ETag). The row is unique per version, and taking a file is a conditional UPDATE of its row,
    so a version becomes at most one job however many polls race for it."""

    class Status(models.IntegerChoices):  # KalturaDropFolderFileStatus
        HANDLED = 4
        ERROR = 9, "error"  # Kaltura's ERROR_HANDLING
        PROCESSING = 13
        DETECTED = 15

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE)
    folder = models.ForeignKey(DropFolder, on_delete=models.CASCADE, related_name="files")
    name = models.CharField(max_length=1024)
    size = models.PositiveBigIntegerField()
    fingerprint = models.CharField(max_length=128)
    status = models.PositiveSmallIntegerField(choices=Status.choices, default=Status.DETECTED)
    bulk_upload = models.ForeignKey(
        BulkUpload, null=True, blank=True, on_delete=models.SET_NULL, related_name="drop_folder_files"
    )
    error = models.TextField(blank=True, default="")
    moved_to = models.CharField(max_length=1024, blank=True, default="")
    detected_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    handled_at = models.DateTimeField(null=True, blank=True)

    objects = PartnerScopedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["folder", "name", "size", "fingerprint"], name="one_row_per_file_version"
            )
        ]
        indexes = [models.Index(fields=["folder", "status"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.size} bytes, {self.get_status_display()})"


class KalturaConnection(models.Model):
    """A partner's upstream Kaltura account (the SaaS or a Kaltura server) that its bookings are
    pushed to (calendar_app/sync/). The credentials are stored encrypted (secret_box.py)."""

    class Auth(models.TextChoices):
        ADMIN_SECRET = "admin_secret", "admin secret"
        APP_TOKEN = "app_token", "app token"

    partner = models.OneToOneField(Partner, on_delete=models.CASCADE, related_name="kaltura_connection")
    service_url = models.URLField(max_length=512, help_text="e.g. https://www.kaltura.com")
    upstream_partner_id = models.PositiveIntegerField("upstream partner id")
    auth = models.CharField(max_length=16, choices=Auth.choices, default=Auth.ADMIN_SECRET)
    admin_secret = EncryptedTextField(blank=True, default="")
    user_id = models.CharField(
        max_length=256, blank=True, default="", help_text="The session's user (admin secret)."
    )
    app_token_id = models.CharField(max_length=32, blank=True, default="")
    app_token = EncryptedTextField(blank=True, default="")
    app_token_hash_type = models.CharField(
        max_length=8, choices=AppToken.HashType.choices, default=AppToken.HashType.SHA256
    )
    enabled = models.BooleanField("sync on", default=False)
    sync_resources = models.BooleanField(
        default=True, help_text="Push rooms, cameras and live entries; off: map them by system name only."
    )
    event_types = models.JSONField(
        default=list, blank=True, help_text="Event types to push (1 record, 2 live stream, 3 blackout, "
        "4 meeting); empty: all.",
    )  # fmt: skip
    last_test_at = models.DateTimeField(null=True, blank=True)
    last_test_result = models.TextField(blank=True, default="")
    last_reconcile_at = models.DateTimeField(null=True, blank=True)
    last_reconcile = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=clock.now)
    updated_at = models.DateTimeField(default=clock.now)

    objects = PartnerScopedQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.service_url} partner {self.upstream_partner_id}"

    def syncs_event_type(self, event_type: int) -> bool:
        return not self.event_types or event_type in self.event_types


class SyncOperation(models.Model):
    """One local object (a resource, an event or an entry) that must be pushed upstream: written by the
    write envelope in the same transaction as the change (outbox.py), so it is never lost.
    Applying one pushes the object's current state, so it is idempotent and consecutive
    changes coalesce into the one PENDING row an object may have."""

    class Kind(models.TextChoices):
        RESOURCE = "resource"
        EVENT = "event"
        ENTRY = "entry"

    class Status(models.IntegerChoices):
        PENDING = 0
        RUNNING = 1
        DONE = 2
        FAILED = 3  # a permanent error: the object's later operations wait for a retry
        SUPERSEDED = 4  # a failure an admin retried when a newer change was already queued

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    object_id = models.CharField(max_length=32)  # a resource's or event's id; an entry's is text
    status = models.PositiveSmallIntegerField(choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=clock.now)
    # Not before: the backoff of a transient failure.
    next_attempt_at = models.DateTimeField(default=clock.now)
    # Handed to the broker (PENDING) or to a worker (RUNNING): the beat task judges lost ones by it.
    dispatched_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error_code = models.CharField(max_length=64, blank=True, default="")
    error = models.TextField(blank=True, default="")

    objects = PartnerScopedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "kind", "object_id"],
                condition=Q(status=0),
                name="one_pending_sync_per_object",
            )
        ]
        indexes = [
            models.Index(fields=["partner", "kind", "object_id"]),
            models.Index(fields=["status", "next_attempt_at"]),
        ]

    def __str__(self) -> str:
        return f"sync {self.kind} {self.object_id} ({self.get_status_display()})"


class UpstreamObject(models.Model):
    """Which upstream object a local one is: resources and events by id, occurrences by id,
    entries (upstream entry ids) by id."""

    class Kind(models.TextChoices):
        RESOURCE = "resource"
        EVENT = "event"
        ENTRY = "entry"

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    local_id = models.CharField(max_length=32)
    upstream_id = models.CharField(max_length=32)
    synced_at = models.DateTimeField(default=clock.now)

    objects = PartnerScopedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["partner", "kind", "local_id"], name="one_upstream_per_local"),
            models.UniqueConstraint(fields=["partner", "kind", "upstream_id"], name="one_local_per_upstream"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.local_id} = upstream {self.upstream_id}"


# The devices' side (entries, uploads, published schedules, receipts), in its own module.
from calendar_app.models.devices import (  # noqa: E402, F401 (they refer to the models above)
    DeviceReceipt,
    Entry,
    EntryType,
    PublishTarget,
    UploadToken,
    new_entry_id,
)
