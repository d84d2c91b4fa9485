"""Django admin for every model, one module per part of the app. Importing them registers them.

- schedule.py: events, resources and their links, which belong to scheduling.py (the one write
  path): their forms only validate, and a valid page is saved by one call to the service.
- accounts.py: partners, memberships, entries, app tokens, feed tokens and the audit trail.
- import_jobs.py: drop folders, the files they hold and the bulk upload jobs.
- sync.py: the upstream Kaltura connections, the outbox of pushes and the id map.
- devices.py: the publish targets the schedule files are written to.
- receipts.py: what each device last fetched, and the devices gone quiet before a booking.
"""

from calendar_app.admin import accounts, devices, import_jobs, receipts, schedule, sync  # noqa: F401
