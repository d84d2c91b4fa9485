"""The (partner, status, start) index of events widened with end and recurrence_type (issue #19):
a free-room search reads which events occupy each of its slots from the index alone, without a
row lookup per event (bench/free_rooms.py: 55 -> 8 ms on SQLite for a 15-week, twice-a-week
pattern on the 300-room campus). Its leading columns are the old index's, so every query that
used that one uses this."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("calendar_app", "0014_resource_capacity"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="scheduleevent",
            index=models.Index(
                fields=["partner", "status", "start", "end", "recurrence_type"], name="event_slot_cover"
            ),
        ),
        migrations.RemoveIndex(
            model_name="scheduleevent",
            name="calendar_ap_partner_2304aa_idx",
        ),
    ]
