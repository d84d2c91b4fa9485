"""Rooms' seats (issue #19, finding a free room): a nullable count on resources, ours and not
on the Kaltura wire. No resource has one before this migration."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("calendar_app", "0013_open_ended_series"),
    ]

    operations = [
        migrations.AddField(
            model_name="scheduleresource",
            name="capacity",
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
    ]
