"""The devices' side of the core: entries (templates, live endpoints, recordings), uploads,
the schedule published as files, and receipts of what each device last fetched. The doors
(the API, the web calendar, admin) call it; it never calls them (docs/devices.md)."""
