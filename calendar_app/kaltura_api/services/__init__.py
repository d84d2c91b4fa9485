"""One module per Kaltura service; importing them registers their actions with dispatch."""

from calendar_app.kaltura_api.services import (  # noqa: F401
    app_token,
    base_entry,
    bulk_upload,
    live_stream,
    media,
    partner,
    schedule_event,
    schedule_event_resource,
    schedule_resource,
    session,
    upload_token,
)
