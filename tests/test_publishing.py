"""The schedule published as files (publishing/files.py) to real places on loopback: a local
directory, OpenSSH's sshd (SFTP), pyftpdlib (FTP) and moto's S3 server (tests/imports/drop_servers.py).
The clock is pinned; a request's debounce is waited out by moving the pinned clock."""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import threading
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import icalendar
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from lxml import etree

from calendar_app import batch_scheduling, clock, feed_tokens, publish_requests, scheduling, writes
from calendar_app.models import EventType, PublishTarget, ResourceType
from calendar_app.publishing import files as publishing
from calendar_app.publishing import tasks as publish_tasks
from tests.background import (  # noqa: F401 (fixtures)
    eventually,
    fixture_broker,
    fixture_redis_server,
    fixture_redis_url,
    fixture_start_worker,
    fixture_worker,
)
from tests.conftest import NOW, at
from tests.imports import drop_servers
from tests.remote_places import (  # noqa: F401 (fixtures)
    KINDS,
    fixture_ftp_port,
    fixture_remote_root,
    fixture_s3_endpoint,
    fixture_sshd,
    point_at,
)

# ---------------------------------------------------------------- a target of each kind


@dataclass
class Place:
    """A publish target and the test's own hands on the place behind it."""

    target: PublishTarget
    directory: Path | None = None  # local, SFTP, FTP: where the files land (a subfolder, created)
    s3: Any = None
    bucket: str = ""

    def names(self) -> list[str]:
        """Every file there, hidden ones (temporary names) included."""
        if self.s3 is not None:
            listing = self.s3.list_objects_v2(Bucket=self.bucket, Prefix="schedules/")
            return sorted(obj["Key"].removeprefix("schedules/") for obj in listing.get("Contents", []))
        if not self.directory.is_dir():
            return []
        return sorted(p.name for p in self.directory.iterdir())

    def read(self, name: str) -> bytes:
        if self.s3 is not None:
            return self.s3.get_object(Bucket=self.bucket, Key=f"schedules/{name}")["Body"].read()
        return (self.directory / name).read_bytes()


@pytest.fixture
def make_place(request, partner):
    def build(kind: str, who=None, **settings: Any) -> Place:
        target = PublishTarget(partner=who or partner, name=f"{kind} target", kind=kind, **settings)
        place = _connect(request, target)
        target.save()
        return place

    return build


def _connect(request, target: PublishTarget) -> Place:
    """Point `target` at a fresh folder or bucket on the kind's server. The folder does not exist
    yet: publishing creates it (two levels deep)."""
    place = point_at(request, target, prefix="schedules", below="schedules", create=False)
    return Place(target, directory=place.directory, s3=place.s3, bucket=place.bucket)


@pytest.fixture(params=KINDS)
def place(request, make_place) -> Place:
    return make_place(request.param)


@pytest.fixture
def room(make_resource):
    return make_resource("Hall A", system_name="hall-a")


@pytest.fixture
def camera(make_resource, room):
    return make_resource(
        "Hall A camera", type=ResourceType.CAMERA, system_name="hall-a-cam", parent_id=room.pk
    )


def publish(target: PublishTarget, minutes: int = 0) -> publishing.Outcome:
    target.refresh_from_db()
    outcome = publishing.publish_now(
        PublishTarget.objects.filter(pk=target.pk), NOW + timedelta(minutes=minutes)
    )
    return outcome[target.pk]


def uids(ics: bytes) -> list[str]:
    return [str(c["uid"]) for c in icalendar.Calendar.from_ical(ics).walk("VEVENT")]


def xml_ids(xml: bytes) -> list[int]:
    root = etree.fromstring(xml)
    assert root.findtext("result/objectType") == "KalturaScheduleEventListResponse"
    return [int(item.findtext("id")) for item in root.findall("result/objects/item")]


# ---------------------------------------------------------------- the files


def test_it_writes_each_format_of_each_resource(place, room, make_event, now):
    lecture = make_event(resources=[room], summary="Physics")

    outcome = publish(place.target)

    assert not outcome.error
    assert place.names() == ["hall-a.ics", "hall-a.json", "hall-a.xml"]
    assert uids(place.read("hall-a.ics")) == [lecture.ical_uid]
    assert xml_ids(place.read("hall-a.xml")) == [lecture.pk]
    listed = json.loads(place.read("hall-a.json"))
    assert listed["objectType"] == "KalturaScheduleEventListResponse"
    assert [(o["id"], o["summary"]) for o in listed["objects"]] == [(lecture.pk, "Physics")]


def test_the_ical_file_is_what_the_feed_serves(client, partner, room, camera, make_event, make_place, now):
    make_event(resources=[room], summary="In the hall")
    make_event("2026-09-08 09:00", resources=[camera], summary="On its camera")
    place = make_place("local", days_ahead=30)
    feed_tokens.ensure(partner, [room], now)

    publish(place.target)

    feed = client.get(f"/feeds/{room.feed.token}.ics?past=1&future=30")
    assert place.read("hall-a.ics") == feed.content
    assert len(uids(feed.content)) == 2


def test_the_xml_is_what_the_official_client_parses(place, room, make_event, now):
    from KalturaClient import KalturaClient, KalturaConfiguration
    from KalturaClient.Base import KalturaObjectFactory

    KalturaClient(KalturaConfiguration())  # loads its plugins, which register their object types

    lecture = make_event(resources=[room], summary="Chemistry")
    publish(place.target)

    result = etree.fromstring(place.read("hall-a.xml")).find("result")
    listed = KalturaObjectFactory.create(result, "KalturaScheduleEventListResponse")
    assert listed.totalCount == 1
    assert (listed.objects[0].id, listed.objects[0].summary) == (lecture.pk, "Chemistry")


def test_a_resource_without_a_safe_system_name_is_named_by_its_id(make_resource, make_place, now):
    odd = make_resource("Odd", system_name="..")
    place = make_place("local", formats=["ical"])

    publish(place.target)

    assert place.names() == [f"resource-{odd.pk}.ics"]


def test_it_publishes_only_the_chosen_resources_and_formats(make_resource, make_place, now):
    chosen, _other = make_resource(system_name="chosen"), make_resource(system_name="other")
    place = make_place("local", formats=["json"])
    place.target.resources.set([chosen])

    publish(place.target)

    assert place.names() == ["chosen.json"]


def test_weekly_times_stay_local_across_the_dst_change(place, room, make_series, now):
    # Berlin leaves summer time on 25 October 2026: 09:00 is 07:00 UTC before, 08:00 UTC after.
    make_series("2026-10-19 09:00", 60, zone="Europe/Berlin", count=2, resources=[room])

    publish(place.target)

    starts = [
        c.decoded("dtstart") for c in icalendar.Calendar.from_ical(place.read("hall-a.ics")).walk("VEVENT")
    ]
    assert starts == [at("2026-10-19 07:00"), at("2026-10-26 08:00")]
    listed = json.loads(place.read("hall-a.json"))["objects"]
    assert [o["startDate"] for o in listed] == [int(s.timestamp()) for s in starts]


def test_the_window_runs_from_yesterday_to_days_ahead(room, make_event, make_place, now):
    make_event("2026-08-30 09:00", resources=[room], summary="Too early")
    kept = [make_event(day, resources=[room]) for day in ("2026-08-31 09:00", "2026-09-11 09:00")]
    make_event("2026-09-13 09:00", resources=[room], summary="Too late")
    place = make_place("local", days_ahead=10, formats=["xml"])

    publish(place.target)

    assert xml_ids(place.read("hall-a.xml")) == [e.pk for e in kept]


# ---------------------------------------------------------------- atomic, and only when changed


@pytest.mark.parametrize("kind", ["local", "sftp", "ftp"])
def test_a_reader_never_sees_a_partial_file(kind, make_place):
    place = make_place(kind)
    versions = [bytes([ord("a") + i]) * 2_000_000 for i in range(8)]
    seen, done = [], threading.Event()

    def read_all_the_while() -> None:
        while not done.is_set():
            with contextlib.suppress(FileNotFoundError):
                seen.append(place.read("big.ics"))

    reader = threading.Thread(target=read_all_the_while)
    with publishing.WRITERS[kind](place.target) as writer:
        writer.write(publishing.ScheduleFile("big.ics", versions[0], "text/calendar"))
        reader.start()
        for data in versions[1:]:
            writer.write(publishing.ScheduleFile("big.ics", data, "text/calendar"))
    done.set()
    reader.join()

    assert seen and all(data in versions for data in seen)
    assert place.names() == ["big.ics"]  # no temporary file left behind


def test_an_unchanged_file_is_not_written_again(place, room, make_event, now):
    make_event(resources=[room])
    assert len(publish(place.target).written) == 3

    again = publish(place.target, minutes=1)

    assert (again.written, again.unchanged) == ([], 3)


def test_a_change_rewrites_only_the_files_it_changes(place, room, make_resource, make_event, now):
    make_resource(system_name="quiet-room")
    publish(place.target)

    make_event(resources=[room])
    again = publish(place.target, minutes=1)

    assert sorted(again.written) == ["hall-a.ics", "hall-a.json", "hall-a.xml"]
    assert again.unchanged == 3


# ---------------------------------------------------------------- requests, debounce, the beat


def test_a_write_asks_the_partners_enabled_targets(room, make_event, make_place, now):
    asked, disabled = make_place("local").target, make_place("local", enabled=False).target

    make_event(resources=[room])

    asked.refresh_from_db(), disabled.refresh_from_db()
    assert (asked.requested_at, disabled.requested_at) == (now, None)


def test_a_partner_without_targets_pays_one_update_of_nothing(
    actor, django_assert_num_queries, django_capture_on_commit_callbacks
):
    # The hook as a write's end calls it: one UPDATE that matches no row, and no task to send.
    with django_capture_on_commit_callbacks() as callbacks, django_assert_num_queries(1):
        publish_requests.request(actor.partner.pk, actor.now)

    assert callbacks == []


def test_a_burst_of_writes_publishes_once_after_the_last(actor, room, make_place):
    target = make_place("local", debounce_seconds=10).target
    for second in range(30):
        moment = NOW + timedelta(seconds=second)
        with clock.pinned(moment):
            scheduling.create_event(
                writes.Actor(actor.partner, moment),
                {"type": EventType.RECORD, "summary": f"L{second}", "start": moment + timedelta(days=1),
                 "end": moment + timedelta(days=1, minutes=30)},
                resource_ids=[room.pk],
            )  # fmt: skip

    # Each write's task runs `debounce_seconds` after it: only the last finds the requests quiet.
    published = []
    for second in range(30):
        with clock.pinned(NOW + timedelta(seconds=second + 10)):
            published.append(publish_tasks.publish_target(target.pk))

    assert published == [False] * 29 + [True]
    target.refresh_from_db()
    assert target.requested_at is None and target.published_at == NOW + timedelta(seconds=39)


def test_a_bulk_import_of_a_thousand_rows_publishes_once(actor, room, make_place):
    target = make_place("local", formats=["json"], debounce_seconds=10).target
    rows = [
        batch_scheduling.NewEvent(
            data={"type": EventType.RECORD, "summary": f"Import {i}", "start": NOW + timedelta(hours=i),
                  "end": NOW + timedelta(hours=i, minutes=30)},
            resource_ids=[room.pk],
        )
        for i in range(1000)
    ]  # fmt: skip
    with clock.pinned(NOW):
        batch_scheduling.create_events(actor, rows)

    with clock.pinned(NOW + timedelta(seconds=5)):
        early = publish_tasks.publish_due()
    with clock.pinned(NOW + timedelta(seconds=10)):
        due = publish_tasks.publish_due()
    with clock.pinned(NOW + timedelta(seconds=70)):
        later = publish_tasks.publish_due()

    assert (early, due, later) == (0, 1, 0)
    listed = json.loads((Path(target.path) / "hall-a.json").read_bytes())
    assert listed["totalCount"] == 1000


def test_the_beat_republishes_daily_so_the_window_moves(room, make_event, make_place, now):
    later = make_event("2026-09-04 09:00", resources=[room])
    target = make_place("local", formats=["xml"], days_ahead=2).target  # made since: not asked for
    with clock.pinned(NOW):
        assert publish_tasks.publish_due() == 1  # never published yet
        assert xml_ids((Path(target.path) / "hall-a.xml").read_bytes()) == []
    with clock.pinned(NOW + timedelta(hours=23)):
        assert publish_tasks.publish_due() == 0

    with clock.pinned(NOW + timedelta(days=1)):
        assert publish_tasks.publish_due() == 1

    assert xml_ids((Path(target.path) / "hall-a.xml").read_bytes()) == [later.pk]


def test_a_request_claimed_by_one_publish_is_not_published_twice(room, make_event, make_place, now):
    target = make_place("local", debounce_seconds=0).target
    make_event(resources=[room])
    stale = PublishTarget.objects.get(pk=target.pk)

    assert publishing.publish_if_quiet(target.pk, now) is not None
    assert publishing.claim(stale, now) is False


def test_in_eager_mode_no_task_is_sent_and_the_beat_publishes(room, make_event, make_place, now, settings):
    target = make_place("local", debounce_seconds=10).target

    make_event(resources=[room])  # the test settings run tasks eagerly: nothing waits 10 s

    assert not Path(target.path).exists()
    with clock.pinned(NOW + timedelta(seconds=10)):
        assert publish_tasks.publish_due() == 1
    assert sorted(p.name for p in Path(target.path).iterdir()) == ["hall-a.ics", "hall-a.json", "hall-a.xml"]


# ---------------------------------------------------------------- failures and tenants


def test_a_failing_target_records_its_error_and_others_still_publish(room, make_event, make_place, now):
    broken = make_place("ftp", debounce_seconds=0).target
    PublishTarget.objects.filter(pk=broken.pk).update(port=drop_servers.free_port())  # nothing listens
    working = make_place("local", debounce_seconds=0).target
    make_event(resources=[room])

    with clock.pinned(NOW + timedelta(seconds=1)):
        publish_tasks.publish_due()

    broken.refresh_from_db(), working.refresh_from_db()
    assert "ConnectionRefusedError" in broken.last_error and broken.published_at is None
    assert broken.requested_at == now  # still asked for: the next beat tries again
    assert working.last_error == "" and working.published_at == NOW + timedelta(seconds=1)


def test_a_changed_sftp_host_key_is_refused(make_place, room, tmp_path, now):
    place = make_place("sftp")
    PublishTarget.objects.filter(pk=place.target.pk).update(host_key=another_host_key(tmp_path))

    outcome = publish(place.target)

    assert "BadHostKeyException" in outcome.error or "not found in known_hosts" in outcome.error
    assert place.names() == []


def another_host_key(folder: Path) -> str:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", folder / "other"], check=True)
    return " ".join((folder / "other.pub").read_text().split()[:2])


def test_a_sftp_target_learns_the_host_key_on_first_use(make_place, room, sshd, now):
    place = make_place("sftp")

    publish(place.target)

    place.target.refresh_from_db()
    assert place.target.host_key == sshd.host_key


def test_a_partners_files_carry_only_its_own_events(
    partner, outsider, room, make_event, make_resource, make_place, now
):
    theirs = make_resource("Their hall", system_name="hall-a", who=outsider)
    make_event(resources=[theirs], who=outsider, summary="Not Alice's")
    mine = make_event(resources=[room], summary="Alice's")
    place = make_place("local")
    place.target.resources.set([room, theirs])  # another partner's resource is never published

    publish(place.target)

    assert place.names() == ["hall-a.ics", "hall-a.json", "hall-a.xml"]
    assert uids(place.read("hall-a.ics")) == [mine.ical_uid]
    assert [o["id"] for o in json.loads(place.read("hall-a.json"))["objects"]] == [mine.pk]


def test_another_partners_write_does_not_ask_this_partners_targets(outsider, make_resource, make_place, now):
    target = make_place("local").target

    make_resource("Their hall", who=outsider)

    target.refresh_from_db()
    assert target.requested_at is None


# ---------------------------------------------------------------- the command


def test_the_command_publishes_now(room, make_event, make_place, capsys, now):
    target = make_place("local").target
    make_event(resources=[room])

    call_command("publish_schedule", "--partner", str(target.partner_id))

    assert f"target {target.pk}: 3 file(s) written, 0 unchanged" in capsys.readouterr().out


def test_the_command_fails_when_a_target_fails(room, make_place, now):
    target = make_place("ftp").target
    PublishTarget.objects.filter(pk=target.pk).update(port=drop_servers.free_port())  # nothing listens

    with pytest.raises(CommandError, match="1 target"):
        call_command("publish_schedule", "--target", str(target.pk))


# ---------------------------------------------------------------- Django admin

ADMIN_LIST = "/admin/calendar_app/publishtarget/"


def test_the_admin_publishes_the_selected_targets_now(admin_client, room, make_event, make_place, now):
    place = make_place("local")
    make_event(resources=[room])

    form = {"action": "publish_now", "_selected_action": [place.target.pk]}
    page = admin_client.post(ADMIN_LIST, form, follow=True).content.decode()

    assert f"Target {place.target.pk}: 3 file(s) written, 0 unchanged." in page
    assert "hall-a.ics, hall-a.json, hall-a.xml" in page  # the files column
    assert place.names() == ["hall-a.ics", "hall-a.json", "hall-a.xml"]


def test_the_admin_never_shows_a_stored_password(admin_client, make_place):
    target = make_place("ftp").target

    page = admin_client.get(f"{ADMIN_LIST}{target.pk}/change/").content.decode()

    assert drop_servers.FTP_USERS["drop"][0] not in page
    assert "stored: leave empty to keep it" in page


# ---------------------------------------------------------------- on a real worker


@pytest.mark.django_db(transaction=True)
def test_a_worker_publishes_a_burst_of_writes_once(worker, partner, tmp_path):
    """Sent through Redis with their countdowns, the burst's tasks reach a real worker: all but
    the last find a newer request and leave it; the last publishes."""
    room = scheduling.create_resource(
        writes.Actor(partner, clock.now()),
        {"type": ResourceType.LOCATION, "name": "Hall A", "system_name": "hall-a"},
    )
    PublishTarget.objects.create(
        partner=partner,
        name="here",
        kind="local",
        path=str(tmp_path / "out"),
        debounce_seconds=2,
        formats=["xml"],
    )
    for number in range(5):  # in real time: the worker reads the real clock
        moment = clock.now()
        scheduling.create_event(
            writes.Actor(partner, moment),
            {"type": EventType.RECORD, "summary": f"L{number}", "start": moment + timedelta(days=1),
             "end": moment + timedelta(days=1, hours=1)},
            resource_ids=[room.pk],
        )  # fmt: skip

    def outcomes() -> list[str]:
        return re.findall(r"publish_target\[[^]]+\] succeeded in [\d.]+s: (\w+)", worker.read_text())

    eventually(lambda: len(outcomes()) >= 5, "the five tasks", worker)
    assert sorted(outcomes()) == ["False"] * 4 + ["True"]
    assert len(xml_ids((tmp_path / "out" / "hall-a.xml").read_bytes())) == 5
