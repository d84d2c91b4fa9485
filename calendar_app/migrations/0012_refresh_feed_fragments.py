"""Every stored feed fragment re-rendered on its next read: the VEVENT's ORGANIZER became a
`mailto:` URI (ical.py), so a fragment stored before would read back as another organizer and
raise the SEQUENCE of an unchanged re-import. A stale fragment (ical_fragment_of no longer equal
to updated_at) is rendered again when a feed next needs it (fragments.py)."""

from django.db import migrations


def mark_stale(apps, schema_editor):
    apps.get_model("calendar_app", "ScheduleEvent").objects.update(ical_fragment_of=None)


class Migration(migrations.Migration):
    dependencies = [("calendar_app", "0011_devices")]

    operations = [migrations.RunPython(mark_stale, migrations.RunPython.noop, elidable=True)]
