"""Open-ended series (issue #18): the instant up to which a series without COUNT or UNTIL has
its occurrences, which the beat moves forward (scheduling.extend_series), and a partial index
on it for the beat's query across partners. No series is open-ended before this migration."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("calendar_app", "0012_refresh_feed_fragments"),
    ]

    operations = [
        migrations.AddField(
            model_name="scheduleevent",
            name="materialized_until",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddIndex(
            model_name="scheduleevent",
            index=models.Index(
                condition=models.Q(("materialized_until__isnull", False)),
                fields=["materialized_until"],
                name="open_ended_series",
            ),
        ),
    ]
