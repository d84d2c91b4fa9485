"""Every Kaltura object type this server speaks, as data (docs/kaltura-compatibility.md §3).
Field order is wire order. Filters list their fields as (field, kind, operators), which
expands to Kaltura's names: ("startDate", TIME, "GTE LTE") -> startDateGreaterThanOrEqual, ...
"""

from __future__ import annotations

from calendar_app.kaltura_api.objects import Arr, Computed, Field, Obj, define
from calendar_app.kaltura_api.values import Bool, Float, Int, IntEnum, Str, StrEnum, Time
from calendar_app.models import EntryType, EventType, RecurrenceType, ResourceType

INT, STR, TIME, FLOAT, BOOL = Int(), Str(), Time(), Float(), Bool()
EVENT_STATUS = IntEnum("KalturaScheduleEventStatus", frozenset({1, 2, 3}))
RESOURCE_STATUS = IntEnum("KalturaScheduleResourceStatus", frozenset({1, 2, 3}))
RECURRENCE_TYPE = IntEnum("KalturaScheduleEventRecurrenceType", frozenset(RecurrenceType.values))
CLASSIFICATION = IntEnum("KalturaScheduleEventClassificationType", frozenset({1, 2, 3}))
CONFLICT_TYPE = IntEnum("KalturaScheduleEventConflictType", frozenset({1, 2, 3}))
SESSION_TYPE = IntEnum("KalturaSessionType", frozenset({0, 2}))
APP_TOKEN_STATUS = IntEnum("KalturaAppTokenStatus", frozenset({1, 2, 3}))
HASH_TYPE = StrEnum("KalturaAppTokenHashType", frozenset({"MD5", "SHA1", "SHA256", "SHA512"}))
FREQUENCY = StrEnum(
    "KalturaScheduleEventRecurrenceFrequency",
    frozenset({"seconds", "minutes", "hours", "days", "weeks", "months", "years"}),
)
WEEKDAY = StrEnum("KalturaScheduleEventRecurrenceDay", frozenset({"SU", "MO", "TU", "WE", "TH", "FR", "SA"}))


def ro(wire: str, kind, attr: str = "", **extra) -> Field:
    return Field(wire, kind, attr, readonly=True, **extra)


def _linked_to(event, context):
    if event.linked_to_id is None:
        return None
    return {"event_id": event.linked_to_id, "offset": event.linked_to_offset or 0}


# ---------------------------------------------------------------- schedule events

define("KalturaLinkedScheduleEvent", None, Field("offset", INT), Field("eventId", INT))
define(
    "KalturaScheduleEventRecurrence",
    None,
    Field("name", STR),
    Field("frequency", FREQUENCY),
    Field("until", Time(as_unix=True)),
    Field("timeZone", STR),
    Field("count", INT),
    Field("interval", INT),
    Field("bySecond", STR),
    Field("byMinute", STR),
    Field("byHour", STR),
    Field("byDay", STR),
    Field("byMonthDay", STR),
    Field("byYearDay", STR),
    Field("byWeekNumber", STR),
    Field("byMonth", STR),
    Field("byOffset", STR),
    Field("weekStartDay", WEEKDAY),
)
define(
    "KalturaScheduleEvent",
    None,
    ro("id", INT, "pk"),
    ro("partnerId", INT, "partner_id"),
    ro("parentId", INT, "parent_id"),
    Field("summary", STR),
    Field("description", STR),
    ro("status", EVENT_STATUS),
    Field("startDate", TIME, "start"),
    Field("endDate", TIME, "end"),
    Field("referenceId", STR),
    Field("linkedTo", Obj(base="KalturaLinkedScheduleEvent"), read=_linked_to),
    # Followers of a linked event; linking is refused (see services), so there are none.
    ro("linkedBy", STR, read=lambda event, context: None),
    Field("classificationType", CLASSIFICATION),
    Field("geoLatitude", FLOAT),
    Field("geoLongitude", FLOAT),
    Field("location", STR),
    Field("organizer", STR),
    Field("ownerId", STR),
    Field("priority", INT),
    Field("sequence", INT),
    Field("recurrenceType", RECURRENCE_TYPE),
    Field("duration", INT),
    Field("contact", STR),
    Field("comment", STR),
    Field("tags", STR),
    ro("createdAt", TIME),
    ro("updatedAt", TIME),
    Field("recurrence", Obj(base="KalturaScheduleEventRecurrence")),
    abstract=True,
)
define(
    "KalturaEntryScheduleEvent",
    "KalturaScheduleEvent",
    Field("templateEntryId", STR),
    Field("entryIds", STR),
    Field("categoryIds", STR),
    ro("blackoutConflicts", Computed(), read=lambda event, context: context.blackout_conflicts(event)),
    abstract=True,
)
define("KalturaRecordScheduleEvent", "KalturaEntryScheduleEvent", event_type=EventType.RECORD)
define("KalturaBlackoutScheduleEvent", "KalturaScheduleEvent", event_type=EventType.BLACKOUT)
define("KalturaMeetingScheduleEvent", "KalturaEntryScheduleEvent", Field("preStartTime", INT), event_type=4)
define("KalturaBaseLiveScheduleEvent", "KalturaEntryScheduleEvent", abstract=True)
define(
    "KalturaLiveStreamScheduleEvent",
    "KalturaBaseLiveScheduleEvent",
    Field("sourceEntryId", STR),
    Field("projectedAudience", INT),
    Field("preStartTime", INT),
    Field("postEndTime", INT),
    Field("preStartEntryId", STR),
    Field("postEndEntryId", STR),
    Field("isContentInterruptible", BOOL),
    Field("liveFeatures", Arr(base="KalturaLiveFeature", max_items=20)),
    event_type=EventType.LIVE_STREAM,
)
define(
    "KalturaLiveFeature",
    None,
    Field("systemName", STR),
    Field("preStartTime", INT),
    Field("postEndTime", INT),
    abstract=True,
)
define(
    "KalturaLiveCaptionFeature",
    "KalturaLiveFeature",
    *(Field(name, STR) for name in ("mediaUrl", "mediaKey", "captionUrl", "captionToken")),
    Field("inputDelay", INT),
    Field("captionFormat", STR),
    Field("language", STR),
)
define(
    "KalturaLiveRestreamFeature",
    "KalturaLiveFeature",
    *(Field(name, STR) for name in ("primaryUrl", "secondaryUrl", "playbackUrl", "streamKey")),
)
EVENT_TYPE_NAMES = {
    EventType.RECORD: "KalturaRecordScheduleEvent",
    EventType.LIVE_STREAM: "KalturaLiveStreamScheduleEvent",
    EventType.BLACKOUT: "KalturaBlackoutScheduleEvent",
    EventType.MEETING: "KalturaMeetingScheduleEvent",
}

# ---------------------------------------------------------------- resources and links

define(
    "KalturaScheduleResource",
    None,
    ro("id", INT, "pk"),
    Field("parentId", INT, "parent_id"),
    ro("partnerId", INT, "partner_id"),
    Field("name", STR),
    Field("systemName", STR),
    Field("description", STR),
    ro("status", RESOURCE_STATUS),
    Field("tags", STR),
    ro("createdAt", TIME),
    ro("updatedAt", TIME),
    abstract=True,
)
define("KalturaLocationScheduleResource", "KalturaScheduleResource", resource_type=ResourceType.LOCATION)
define(
    "KalturaCameraScheduleResource",
    "KalturaScheduleResource",
    Field("streamUrl", STR),
    resource_type=ResourceType.CAMERA,
)
define(
    "KalturaLiveEntryScheduleResource",
    "KalturaScheduleResource",
    Field("entryId", STR),
    resource_type=ResourceType.LIVE_ENTRY,
)
RESOURCE_TYPE_NAMES = {
    ResourceType.LOCATION: "KalturaLocationScheduleResource",
    ResourceType.CAMERA: "KalturaCameraScheduleResource",
    ResourceType.LIVE_ENTRY: "KalturaLiveEntryScheduleResource",
}
define(
    "KalturaScheduleEventResource",
    None,
    Field("eventId", INT, "event_id", insert_only=True),
    Field("resourceId", INT, "resource_id", insert_only=True),
    ro("partnerId", INT, "partner_id"),
    ro("createdAt", TIME),
    ro("updatedAt", TIME),
)

# ---------------------------------------------------------------- sessions and app tokens

define(
    "KalturaSessionInfo",
    None,
    ro("ks", STR),
    ro("sessionType", SESSION_TYPE),
    ro("partnerId", INT),
    ro("userId", STR),
    ro("expiry", INT),
    ro("privileges", STR),
)
# The account itself (partner.getInfo): who it is, never its secrets.
define(
    "KalturaPartner",
    None,
    ro("id", INT, "pk"),
    ro("name", STR),
    ro("createdAt", TIME),
    ro("status", INT, read=lambda partner, context: 1),  # KalturaPartnerStatus.ACTIVE
)
define("KalturaStartWidgetSessionResponse", None, ro("partnerId", INT), ro("ks", STR), ro("userId", STR))
define(
    "KalturaAppToken",
    None,
    ro("id", STR, "pk"),
    ro("token", STR),
    ro("partnerId", INT, "partner_id"),
    ro("createdAt", TIME),
    ro("updatedAt", TIME),
    ro("status", APP_TOKEN_STATUS),
    Field("expiry", TIME),
    Field("sessionType", SESSION_TYPE),
    Field("sessionUserId", STR),
    Field("sessionDuration", INT),
    Field("sessionPrivileges", STR),
    Field("hashType", HASH_TYPE),
    Field("description", STR),
)

# ---------------------------------------------------------------- entries

# Kaltura's string enums: every value it defines is accepted (a filter on one we never store
# matches nothing); only MEDIA_CLIP and LIVE_STREAM entries exist here.
ENTRY_STATUS = StrEnum(
    "KalturaEntryStatus",
    frozenset(
        {"-2", "-1", "0", "1", "2", "3", "4", "5", "6", "7", "virusScan.Infected", "virusScan.ScanFailure"}
    ),
)
ENTRY_TYPE = StrEnum(
    "KalturaEntryType",
    frozenset({
        "-1", "1", "2", "5", "6", "7", "8", "10", "conference.CONFERENCE_ENTRY_SERVER",
        "externalMedia.externalMedia", "room.room", "sip.SIP_ENTRY_SERVER",
    }),
)  # fmt: skip
MEDIA_TYPE = IntEnum("KalturaMediaType", frozenset({1, 2, 5, 201, 202, 203, 204}))
ENTRY_TYPE_VALUES = {EntryType.MEDIA: "1", EntryType.LIVE_STREAM: "7"}  # model type -> KalturaEntryType
MEDIA_TYPES = {EntryType.MEDIA: 1, EntryType.LIVE_STREAM: 201}  # VIDEO, LIVE_STREAM_FLASH (as Kaltura sets)
ENTRY_TYPE_NAMES = {EntryType.MEDIA: "KalturaMediaEntry", EntryType.LIVE_STREAM: "KalturaLiveStreamEntry"}


def _for_broadcasters(attr: str):
    """Live endpoints and stream credentials go only to sessions that broadcast (the context is
    the caller's session), as in iCal; Kaltura leaves its @requiresPermission ones (the URLs,
    the password, the username) out for sessions without that permission."""

    def read(entry, session):
        return getattr(entry, attr) if session is not None and session.may_see_stream_credentials else None

    return read


define(
    "KalturaBaseEntry",
    None,
    ro("id", STR, "pk"),
    Field("name", STR),
    Field("description", STR),
    ro("partnerId", INT, "partner_id"),
    Field("userId", STR, "owner_id"),
    # Who added the entry (the session's user); an entry made in admin has only its owner.
    ro("creatorId", STR, read=lambda entry, session: entry.creator_id or entry.owner_id),
    Field("tags", STR),
    Field("categories", STR),
    Field("categoriesIds", STR, "category_ids"),
    ro("status", ENTRY_STATUS, read=lambda entry, session: str(entry.status)),
    Field("type", ENTRY_TYPE, insert_only=True, read=lambda entry, session: ENTRY_TYPE_VALUES[entry.type]),
    ro("createdAt", TIME),
    ro("updatedAt", TIME),
    Field("referenceId", STR),
    Field("entitledUsersEdit", STR),
    Field("entitledUsersPublish", STR),
    Field("templateEntryId", STR, "template_entry_id", insert_only=True),
    abstract=True,
)
define("KalturaPlayableEntry", "KalturaBaseEntry", abstract=True)


def _media_type(entry, session):
    """A media entry's own (video, image, audio); a live entry's is Kaltura's live type."""
    return entry.media_type if entry.type == EntryType.MEDIA else MEDIA_TYPES[entry.type]


define(
    "KalturaMediaEntry",
    "KalturaPlayableEntry",
    Field("mediaType", MEDIA_TYPE, insert_only=True, read=_media_type),
)
define("KalturaLiveEntry", "KalturaMediaEntry", abstract=True)
define(
    "KalturaLiveStreamEntry",
    "KalturaLiveEntry",
    *(
        Field(wire, STR, attr, read=_for_broadcasters(attr))
        for wire, attr in (
            ("primaryBroadcastingUrl", "primary_rtmp_endpoint"),
            ("secondaryBroadcastingUrl", "secondary_rtmp_endpoint"),
            ("primaryRtspBroadcastingUrl", "primary_rtsp_endpoint"),
            ("secondaryRtspBroadcastingUrl", "secondary_rtsp_endpoint"),
            ("streamName", "stream_name"),
            ("streamPassword", "stream_password"),
        )
    ),
    ro("streamUsername", STR, "stream_username", read=_for_broadcasters("stream_username")),
)

# ---------------------------------------------------------------- filters and pagers

OPERATORS = {
    "EQ": "Equal",
    "IN": "In",
    "NOTIN": "NotIn",
    "GTE": "GreaterThanOrEqual",
    "LTE": "LessThanOrEqual",
    "LIKE": "Like",
    "MLOR": "MultiLikeOr",
    "MLAND": "MultiLikeAnd",
}
LIKES = "LIKE MLOR MLAND"


def filter_fields(*specs: tuple[str, object, str]) -> list[Field]:
    """("id", INT, "EQ IN") -> idEqual (int), idIn (comma string). `attr` keeps the wire name."""
    out = []
    for name, kind, operators in specs:
        for op in operators.split():
            wire = name + OPERATORS[op]
            out.append(Field(wire, kind if op in ("EQ", "GTE", "LTE") else STR, attr=wire))
    return out


define("KalturaPager", None, Field("pageSize", INT), Field("pageIndex", INT))
define("KalturaFilterPager", "KalturaPager")
define("KalturaFilter", None, Field("orderBy", STR, attr="orderBy"))
define("KalturaRelatedFilter", "KalturaFilter")
TIMESTAMPS = (("createdAt", TIME, "GTE LTE"), ("updatedAt", TIME, "GTE LTE"))

define(
    "KalturaScheduleEventBaseFilter",
    "KalturaRelatedFilter",
    *filter_fields(
        ("id", INT, "EQ IN NOTIN"),
        ("parentId", INT, "EQ IN NOTIN"),
        ("status", EVENT_STATUS, "EQ IN"),
        ("startDate", TIME, "GTE LTE"),
        ("endDate", TIME, "GTE LTE"),
        ("referenceId", STR, "EQ IN"),
        ("ownerId", STR, "EQ IN"),
        ("priority", INT, "EQ IN GTE LTE"),
        ("recurrenceType", RECURRENCE_TYPE, "EQ IN"),
        ("tags", STR, LIKES),
        *TIMESTAMPS,
    ),
)
define(
    "KalturaScheduleEventFilter",
    "KalturaScheduleEventBaseFilter",
    *filter_fields(
        ("resourceIds", STR, LIKES),
        ("parentResourceIds", STR, LIKES),
        ("resourceSystemNames", STR, LIKES),
        ("templateEntryCategoriesIds", STR, LIKES),
        ("resourceId", STR, "EQ"),
    ),
)
define(
    "KalturaEntryScheduleEventBaseFilter",
    "KalturaScheduleEventFilter",
    *filter_fields(("templateEntryId", STR, "EQ"), ("entryIds", STR, LIKES), ("categoryIds", STR, LIKES)),
)
define(
    "KalturaEntryScheduleEventFilter",
    "KalturaEntryScheduleEventBaseFilter",
    *filter_fields(("parentCategoryIds", STR, LIKES)),
)
for _prefix, _type in (("Record", 1), ("Meeting", 4)):
    define(f"Kaltura{_prefix}ScheduleEventBaseFilter", "KalturaEntryScheduleEventFilter", event_type=_type)
    define(f"Kaltura{_prefix}ScheduleEventFilter", f"Kaltura{_prefix}ScheduleEventBaseFilter")
# Kaltura derives the blackout filter from the record filter (so it inherits the entry fields).
define("KalturaBlackoutScheduleEventFilter", "KalturaRecordScheduleEventBaseFilter", event_type=3)
define("KalturaLiveStreamScheduleEventBaseFilter", "KalturaEntryScheduleEventFilter", event_type=2)
define(
    "KalturaLiveStreamScheduleEventFilter",
    "KalturaLiveStreamScheduleEventBaseFilter",
    *filter_fields(("sourceEntryId", STR, "EQ")),
)

define(
    "KalturaScheduleResourceBaseFilter",
    "KalturaRelatedFilter",
    *filter_fields(
        ("id", INT, "EQ IN NOTIN"),
        ("parentId", INT, "EQ IN"),
        ("name", STR, "EQ"),
        ("systemName", STR, "EQ IN"),
        ("status", RESOURCE_STATUS, "EQ IN"),
        ("tags", STR, LIKES),
        *TIMESTAMPS,
    ),
)
define("KalturaScheduleResourceFilter", "KalturaScheduleResourceBaseFilter")
for _prefix, _type in (("Location", 1), ("LiveEntry", 2), ("Camera", 3)):
    define(
        f"Kaltura{_prefix}ScheduleResourceBaseFilter", "KalturaScheduleResourceFilter", resource_type=_type
    )
    define(f"Kaltura{_prefix}ScheduleResourceFilter", f"Kaltura{_prefix}ScheduleResourceBaseFilter")

define(
    "KalturaScheduleEventResourceBaseFilter",
    "KalturaRelatedFilter",
    *filter_fields(("eventId", INT, "EQ IN"), ("resourceId", INT, "EQ IN"), *TIMESTAMPS),
)
define(
    "KalturaScheduleEventResourceFilter",
    "KalturaScheduleEventResourceBaseFilter",
    *filter_fields(("eventIdOrItsParentId", INT, "EQ")),
)
define(
    "KalturaAppTokenBaseFilter",
    "KalturaFilter",
    *filter_fields(
        ("id", STR, "EQ IN"), ("status", APP_TOKEN_STATUS, "EQ IN"), ("sessionUserId", STR, "EQ"), *TIMESTAMPS
    ),
)
define("KalturaAppTokenFilter", "KalturaAppTokenBaseFilter")

# ---------------------------------------------------------------- bulk upload

BATCH_JOB_STATUS = IntEnum("KalturaBatchJobStatus", frozenset({0, 1, 2, 5, 6, 7, 10, 12}))
BULK_OBJECT_TYPE = StrEnum(
    "KalturaBulkUploadObjectType",
    frozenset({"scheduleBulkUpload.SCHEDULE_EVENT", "scheduleBulkUpload.SCHEDULE_RESOURCE"}),
)
define(
    "KalturaBulkUploadResult",
    None,
    ro("id", INT),
    ro("bulkUploadJobId", INT),
    ro("lineIndex", INT),
    ro("partnerId", INT),
    ro("status", STR),  # KalturaBulkUploadResultStatus: "1" error, "2" ok
    ro("action", STR),  # KalturaBulkUploadAction
    ro("objectId", STR),
    ro("objectStatus", INT),
    ro("bulkUploadResultObjectType", STR),
    ro("rowData", STR),
    ro("errorDescription", STR),
    ro("errorCode", STR),
    ro("errorType", INT),
)
define(
    "KalturaBulkUploadResultScheduleEvent",
    "KalturaBulkUploadResult",
    ro("referenceId", STR),
    ro("templateEntryId", STR),
    ro("eventType", INT),
    ro("title", STR),
    ro("description", STR),
    ro("tags", STR),
    ro("categoryIds", STR),
    ro("resourceId", STR),
)
define(
    "KalturaBulkUploadResultScheduleResource",
    "KalturaBulkUploadResult",
    ro("resourceId", STR),
    ro("name", STR),
    ro("type", STR),
    ro("systemName", STR),
    ro("description", STR),
    ro("tags", STR),
    ro("parentType", STR),
    ro("parentSystemName", STR),
)
define(
    "KalturaBulkUpload",
    None,
    ro("id", INT, "pk"),
    ro("uploadedBy", STR),
    ro("uploadedByUserId", STR),
    ro("uploadedOn", TIME),
    ro("numOfEntries", INT),
    ro("status", BATCH_JOB_STATUS),
    ro("logFileUrl", STR),
    ro("csvFileUrl", STR),
    ro("bulkFileUrl", STR),
    ro("bulkUploadType", STR),
    ro("results", Arr(base="KalturaBulkUploadResult")),
    ro("error", STR),
    ro("errorType", INT),
    ro("errorNumber", INT),
    ro("fileName", STR),
    ro("description", STR),
    ro("numOfObjects", INT),
    ro("bulkUploadObjectType", BULK_OBJECT_TYPE),
)
# Job data sent with addFromBulkUpload: what we read of it is the file name and, for iCal, the
# type of the events to create.
define(
    "KalturaBulkUploadJobData",
    None,
    Field("userId", STR),
    Field("uploadedBy", STR),
    Field("fileName", STR),
    Field("numOfEntries", INT),
    Field("numOfObjects", INT),
)
define("KalturaBulkUploadScheduleEventJobData", "KalturaBulkUploadJobData")
define("KalturaBulkUploadICalJobData", "KalturaBulkUploadScheduleEventJobData", Field("eventsType", INT))
define(
    "KalturaBulkUploadCsvJobData", "KalturaBulkUploadJobData", Field("csvVersion", INT), Field("columns", STR)
)
define(
    "KalturaBulkUploadFilter",
    "KalturaFilter",
    *filter_fields(
        ("uploadedOn", TIME, "GTE LTE EQ"),
        ("status", BATCH_JOB_STATUS, "EQ IN"),
        ("bulkUploadObjectType", BULK_OBJECT_TYPE, "EQ IN"),
    ),
)

define(
    "KalturaBaseEntryBaseFilter",
    "KalturaRelatedFilter",
    *filter_fields(
        ("id", STR, "EQ IN"),
        ("name", STR, "LIKE"),
        ("status", ENTRY_STATUS, "EQ IN"),
        ("type", ENTRY_TYPE, "EQ IN"),
        *TIMESTAMPS,
        ("referenceId", STR, "EQ IN"),
    ),
)
define("KalturaBaseEntryFilter", "KalturaBaseEntryBaseFilter")
define("KalturaPlayableEntryBaseFilter", "KalturaBaseEntryFilter")
define("KalturaPlayableEntryFilter", "KalturaPlayableEntryBaseFilter")
define(
    "KalturaMediaEntryBaseFilter",
    "KalturaPlayableEntryFilter",
    *filter_fields(("mediaType", MEDIA_TYPE, "EQ IN")),
)
define("KalturaMediaEntryFilter", "KalturaMediaEntryBaseFilter")
define("KalturaLiveEntryBaseFilter", "KalturaMediaEntryFilter")
define("KalturaLiveEntryFilter", "KalturaLiveEntryBaseFilter")
define("KalturaLiveStreamEntryBaseFilter", "KalturaLiveEntryFilter")
define("KalturaLiveStreamEntryFilter", "KalturaLiveStreamEntryBaseFilter")
# media.addContent's resources: an upload token is what we take; the others are named so that
# a client sending one hears RESOURCE_TYPE_NOT_SUPPORTED rather than an unknown type.
define("KalturaResource", None, abstract=True)
define("KalturaContentResource", "KalturaResource", abstract=True)
define("KalturaDataCenterContentResource", "KalturaContentResource", abstract=True)
define("KalturaGenericDataCenterContentResource", "KalturaDataCenterContentResource", abstract=True)
define("KalturaUploadedFileTokenResource", "KalturaGenericDataCenterContentResource", Field("token", STR))
define("KalturaUrlResource", "KalturaContentResource", Field("url", STR))
define("KalturaServerFileResource", "KalturaGenericDataCenterContentResource", Field("localFilePath", STR))
define("KalturaEntryResource", "KalturaContentResource", Field("entryId", STR))

# ---- upload tokens

UPLOAD_TOKEN_STATUS = IntEnum("KalturaUploadTokenStatus", frozenset({0, 1, 2, 3, 4, 5}))
NULLABLE_BOOLEAN = IntEnum("KalturaNullableBoolean", frozenset({-1, 0, 1}))


def _auto_finalize(token, context):
    return None if token.auto_finalize is None else int(token.auto_finalize)


define(
    "KalturaUploadToken",
    None,
    ro("id", STR, "pk"),
    ro("partnerId", INT, "partner_id"),
    ro("userId", STR),
    ro("status", UPLOAD_TOKEN_STATUS),
    Field("fileName", STR),
    Field("fileSize", INT),  # a float in Kaltura's client: "1048576.0" parses as an integer
    ro("uploadedFileSize", INT),
    ro("createdAt", TIME),
    ro("updatedAt", TIME),
    ro("uploadUrl", STR, read=lambda token, context: None),
    Field("autoFinalize", NULLABLE_BOOLEAN, read=_auto_finalize),
    ro("attachedObjectType", STR, read=lambda token, context: token.attached_object_type or None),
    ro("attachedObjectId", STR, read=lambda token, context: token.attached_object_id or None),
    # Ours: the finished file's SHA-256, so a device can check what arrived (clients ignore it).
    ro("checksum", STR, read=lambda token, context: f"sha256:{token.checksum}" if token.checksum else None),
)
define(
    "KalturaUploadTokenBaseFilter",
    "KalturaFilter",
    *filter_fields(
        ("id", STR, "EQ IN"),
        ("userId", STR, "EQ"),
        ("status", UPLOAD_TOKEN_STATUS, "EQ IN"),
        ("fileName", STR, "EQ"),
        ("fileSize", INT, "EQ"),
    ),
)
define("KalturaUploadTokenFilter", "KalturaUploadTokenBaseFilter")
