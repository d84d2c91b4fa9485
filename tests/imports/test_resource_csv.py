"""Resource CSV bulk upload (docs/kaltura-compatibility.md §6): one result per line, rows
independent, partner-scoped."""

from __future__ import annotations

import csv
import io

import pytest

from calendar_app import scheduling
from calendar_app.imports import row_results
from calendar_app.imports.resource_csv import CsvRefused, import_resources
from calendar_app.imports.row_results import Ledger
from calendar_app.models import AuditEntry, ResourceStatus, ResourceType, ScheduleResource

COLUMNS = "action,resourceId,name,type,systemName,description,tags,parentType,parentSystemName"


def line(**cells: object) -> str:
    """One CSV line in COLUMNS order, quoted as a spreadsheet would quote it."""
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow([cells.get(c, "") for c in COLUMNS.split(",")])
    return out.getvalue()


def upload(actor, *lines: str, header: str = COLUMNS, **limits):
    return import_resources(actor, "\n".join([f"*{header}", *lines]).encode(), **limits)


def outcome(results):
    return [(r.status, r.code) for r in results]


def stored(system_name: str) -> ScheduleResource:
    return ScheduleResource.objects.exclude(status=ResourceStatus.DELETED).get(system_name=system_name)


def refusal(actor, data: bytes, **limits) -> str:
    with pytest.raises(CsvRefused) as error:
        import_resources(actor, data, **limits)
    return error.value.code


# ---------------------------------------------------------------- adding


def test_it_adds_a_building_room_camera_hierarchy_defined_in_the_file(actor):
    results = upload(
        actor,
        line(name="Building A", systemName="bldg-a"),
        line(name="Room 101", systemName="room-101", parentType="location", parentSystemName="bldg-a"),
        line(name="Cam 1", type="camera", systemName="cam-1", parentSystemName="room-101"),
    )
    assert [r.status for r in results] == ["ok"] * 3
    assert stored("cam-1").parent.parent == stored("bldg-a")
    assert results[2].object_id == stored("cam-1").pk


def test_it_finds_a_parent_already_stored(actor, make_resource):
    building = make_resource("Building A", system_name="bldg-a")
    (result,) = upload(actor, line(name="Room", systemName="room-1", parentSystemName="bldg-a"))
    assert (result.status, stored("room-1").parent) == ("ok", building)


def test_it_accepts_any_column_order_subset_and_case(actor):
    (result,) = upload(actor, "cam-9,Camera 9,CAMERA", header="SYSTEMNAME, name ,Type")
    camera = stored("cam-9")
    assert (result.action, camera.name, camera.type) == ("add", "Camera 9", ResourceType.CAMERA)


def test_it_keeps_quoted_tags_with_commas(actor):
    upload(actor, line(name="Lab", systemName="lab", tags="math, physics", description='a "big" room'))
    assert (stored("lab").tags, stored("lab").description) == ("math, physics", 'a "big" room')


def test_it_defaults_the_type_to_location(actor):
    upload(actor, line(name="Hall", systemName="hall"))
    assert stored("hall").type == ResourceType.LOCATION


def test_it_sets_a_cameras_stream_url_and_a_live_entrys_entry(actor):
    header = "name,type,systemName,streamUrl,entryId"
    upload(actor, "Cam,camera,cam,rtsp://cam/1,", "Live,live_entry,live,,0_abc123", header=header)
    assert (stored("cam").stream_url, stored("live").entry_id) == ("rtsp://cam/1", "0_abc123")


def test_it_writes_through_the_domain_as_the_actor(actor):
    (result,) = upload(actor, line(name="Hall", systemName="hall"))
    entry = AuditEntry.objects.get(object_id=str(result.object_id))
    assert (entry.action, entry.actor, entry.partner) == ("create", "alice", actor.partner)


# ---------------------------------------------------------------- update, delete, 6


def test_it_updates_by_resource_id(actor, make_resource):
    room = make_resource("Room", system_name="room", tags="old")
    (result,) = upload(actor, line(action=2, resourceId=room.pk, name="Hall", systemName="hall"))
    room.refresh_from_db()
    assert (result.action, result.object_id, room.name, room.system_name, room.tags) == (
        "update", room.pk, "Hall", "hall", "old"
    )  # fmt: skip


def test_it_updates_by_system_name(actor, make_resource):
    room = make_resource("Room", system_name="room-101")
    (result,) = upload(actor, line(action=2, systemName="room-101", description="East wing"))
    room.refresh_from_db()
    assert (result.object_id, room.description, room.name) == (room.pk, "East wing", "Room")


def test_it_deletes_by_resource_id_and_by_system_name(actor, make_resource):
    first, second = make_resource(system_name="a"), make_resource(system_name="b")
    results = upload(actor, line(action=3, resourceId=first.pk), line(action=3, systemName="b"))
    assert [(r.action, r.object_id) for r in results] == [("delete", first.pk), ("delete", second.pk)]
    assert not ScheduleResource.objects.exclude(status=ResourceStatus.DELETED).exists()


def test_it_updates_when_update_or_add_finds_the_resource(actor, make_resource):
    room = make_resource("Room", system_name="room-102")
    (result,) = upload(actor, line(action=6, name="Room 102", systemName="room-102"))
    assert (result.action, result.object_id, stored("room-102").name) == (
        "add_or_update",
        room.pk,
        "Room 102",
    )


def test_it_adds_when_update_or_add_finds_nothing(actor):
    (result,) = upload(actor, line(action=6, name="Room 102", systemName="room-102"))
    assert (result.status, result.object_id) == ("ok", stored("room-102").pk)


# ---------------------------------------------------------------- row errors


@pytest.mark.parametrize(
    ("cells", "code"),
    [
        ({"action": 4, "name": "X"}, "CSV_BAD_ACTION"),
        ({"action": "add", "name": "X"}, "CSV_BAD_ACTION"),
        ({"name": "X", "type": "projector"}, "CSV_BAD_TYPE"),
        ({"name": "X", "parentType": "room", "parentSystemName": "p"}, "CSV_BAD_TYPE"),
        ({"name": "X", "parentType": "room"}, "CSV_BAD_TYPE"),
        ({"name": "X", "systemName": "room 101!"}, "CSV_BAD_SYSTEM_NAME"),
        ({"name": "X", "systemName": "room.101"}, "CSV_BAD_SYSTEM_NAME"),
        ({"systemName": "nameless"}, "PROPERTY_VALIDATION_CANNOT_BE_NULL"),
        ({"name": "X", "parentSystemName": "nowhere"}, "CSV_PARENT_NOT_FOUND"),
        ({"name": "X", "systemName": "me", "parentSystemName": "me"}, "RESOURCE_PARENT_CYCLE"),
        ({"action": 2, "name": "X"}, "CSV_MISSING_KEY"),
        ({"action": 3, "systemName": "ghost"}, "CSV_RESOURCE_NOT_FOUND"),
        ({"action": 2, "resourceId": "12a"}, "CSV_BAD_RESOURCE_ID"),
        ({"action": 2, "resourceId": 999_999}, "INVALID_OBJECT_ID"),
        ({"action": 2, "resourceId": 10**30}, "INVALID_OBJECT_ID"),
        ({"action": 6, "resourceId": 999_999, "name": "X"}, "INVALID_OBJECT_ID"),
        ({"name": "Live", "type": "live_entry"}, "PROPERTY_VALIDATION_CANNOT_BE_NULL"),
    ],
)
def test_it_reports_a_bad_row(actor, cells, code):
    (result,) = upload(actor, line(**cells))
    assert (result.status, result.code, result.object_id) == ("error", code, None)
    assert result.reason and not ScheduleResource.objects.exists()


def test_it_names_the_bad_action_and_reports_no_action(actor):
    (result,) = upload(actor, line(action=9, name="X"))
    assert result.action == ""
    assert result.reason.startswith("Unknown action '9'")


def test_it_refuses_a_parent_of_the_wrong_type(actor, make_resource):
    make_resource("Cam", type=ResourceType.CAMERA, system_name="cam")
    (result,) = upload(actor, line(name="Room", parentType="location", parentSystemName="cam"))
    assert (result.code, result.reason) == (
        "CSV_PARENT_WRONG_TYPE",
        "The parent 'cam' is a camera, not a location.",
    )


def test_it_refuses_a_parent_defined_later_in_the_file(actor):
    results = upload(actor, line(name="Room", parentSystemName="bldg"), line(name="Bldg", systemName="bldg"))
    assert outcome(results) == [("error", "CSV_PARENT_NOT_FOUND"), ("ok", "")]


def test_it_refuses_a_duplicate_system_name_in_the_file(actor):
    results = upload(actor, line(name="A", systemName="room"), line(name="B", systemName="room"))
    assert outcome(results) == [("ok", ""), ("error", "SYSTEM_NAME_ALREADY_EXISTS")]
    assert results[1].reason == "systemName: system name 'room' is already in use"


def test_it_refuses_a_cycle_made_by_an_update(actor, make_resource):
    building = make_resource("Building", system_name="bldg")
    make_resource("Room", system_name="room", parent_id=building.pk)
    (result,) = upload(actor, line(action=2, systemName="bldg", parentSystemName="room"))
    assert (result.code, stored("bldg").parent) == ("RESOURCE_PARENT_CYCLE", None)


def test_it_refuses_to_change_a_type(actor, make_resource):
    make_resource("Room", system_name="room")
    (result,) = upload(actor, line(action=2, systemName="room", type="camera", name="Cam"))
    assert (result.code, stored("room").name) == ("CSV_TYPE_MISMATCH", "Room")


def test_it_refuses_a_stream_url_on_a_location(actor):
    (result,) = upload(actor, "Hall,rtsp://x", header="name,streamUrl")
    assert (result.code, result.reason) == ("INVALID_FIELD_VALUE", "streamUrl: does not apply to this type")


def test_it_refuses_a_row_with_more_fields_than_the_header(actor):
    (result,) = upload(actor, "Hall,hall,extra", header="name,systemName")
    assert (result.code, result.row) == ("CSV_ROW_TOO_LONG", {"name": "Hall", "systemName": "hall"})
    assert not ScheduleResource.objects.exists()


def test_it_treats_missing_trailing_cells_as_not_set(actor):
    (result,) = upload(actor, "Hall", header="name,systemName,description")
    assert (result.status, result.row) == ("ok", {"name": "Hall", "systemName": "", "description": ""})


def test_it_applies_nothing_of_a_failed_update(actor, make_resource):
    make_resource("Other", system_name="other")
    room = make_resource("Room", system_name="room", description="Big")
    (result,) = upload(
        actor, line(action=2, resourceId=room.pk, name="Hall", systemName="other", description="x")
    )
    room.refresh_from_db()
    assert (result.code, room.name, room.system_name, room.description) == (
        "SYSTEM_NAME_ALREADY_EXISTS", "Room", "room", "Big"
    )  # fmt: skip


def test_a_bad_row_does_not_block_the_others(actor):
    results = upload(actor, line(name="A", systemName="a"), line(action=7), line(name="B", systemName="b"))
    assert outcome(results) == [("ok", ""), ("error", "CSV_BAD_ACTION"), ("ok", "")]
    assert [r.line for r in results] == [0, 1, 2]
    assert stored("b").name == "B"


def test_a_row_that_meets_a_bug_fails_alone(actor, monkeypatch):
    real = scheduling.create_resource

    def create(who, data):
        if data["name"] == "Boom":
            raise RuntimeError("a bug")
        return real(who, data)

    monkeypatch.setattr(scheduling, "create_resource", create)
    results = upload(actor, line(name="Boom", systemName="boom"), line(name="Hall", systemName="hall"))
    assert outcome(results) == [("error", "INTERNAL_ERROR"), ("ok", "")]
    assert "RuntimeError" in results[0].reason and "Traceback" not in results[0].reason
    assert not ScheduleResource.objects.filter(system_name="boom").exists()


def test_an_update_that_meets_a_bug_after_writing_leaves_nothing_of_itself(actor, make_resource, monkeypatch):
    make_resource("Hall", system_name="hall")
    real = scheduling.update_resource

    def update(*args, **kwargs):
        real(*args, **kwargs)
        raise RuntimeError("a bug after the write")

    monkeypatch.setattr(scheduling, "update_resource", update)
    (result,) = upload(actor, line(action=2, systemName="hall", name="Renamed"))
    assert (result.code, stored("hall").name) == ("INTERNAL_ERROR", "Hall")


def test_rows_are_applied_a_chunk_at_a_time_each_ending_with_its_results_saved(actor, monkeypatch):
    monkeypatch.setattr(row_results, "CHUNK_ROWS", 2)

    class Saves(Ledger):
        def __init__(self):
            super().__init__()
            self.saved: list[int] = []

        def save(self):
            self.saved.append(len(self.results))

    ledger = Saves()
    upload(actor, *[line(name=f"Hall {n}") for n in range(5)], ledger=ledger)
    assert ledger.saved == [2, 4, 5]


# ---------------------------------------------------------------- tenants


def test_it_does_not_see_another_partners_resource_id(actor, outsider, make_resource):
    theirs = make_resource("Theirs", system_name="theirs", who=outsider)
    (result,) = upload(actor, line(action=2, resourceId=theirs.pk, name="Mine"))
    theirs.refresh_from_db()
    assert (result.code, theirs.name) == ("INVALID_OBJECT_ID", "Theirs")


def test_it_does_not_see_another_partners_system_names(actor, outsider, make_resource):
    make_resource("Theirs", system_name="bldg", who=outsider)
    results = upload(
        actor,
        line(action=3, systemName="bldg"),
        line(name="Room", parentSystemName="bldg"),
        line(name="Mine", systemName="bldg"),
    )
    assert outcome(results) == [
        ("error", "CSV_RESOURCE_NOT_FOUND"),
        ("error", "CSV_PARENT_NOT_FOUND"),
        ("ok", ""),
    ]


# ---------------------------------------------------------------- the file


def test_it_accepts_a_bom_and_crlf_lines(actor):
    data = "\ufeff*name,systemName\r\nHall,hall\r\n".encode()
    assert outcome(import_resources(actor, data)) == [("ok", "")]


def test_it_skips_blank_lines_and_counts_data_records_as_an_ical_file_counts_vevents(actor):
    data = b'*name,description\n\nA,"two\nlines"\n , \nB,\n'
    results = import_resources(actor, data)
    assert [(r.line, r.row["name"]) for r in results] == [(0, "A"), (1, "B")]


def test_it_returns_nothing_for_a_header_alone(actor):
    assert import_resources(actor, b"*name,systemName\n") == []


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "CSV_MISSING_HEADER"),
        (b"name,systemName\nHall,hall\n", "CSV_MISSING_HEADER"),
        (b"\n*name\nHall\n", "CSV_MISSING_HEADER"),
        (b"*name,colour\nHall,red\n", "CSV_UNKNOWN_COLUMN"),
        (b"*name,systemName,\nHall,hall,\n", "CSV_UNKNOWN_COLUMN"),
        (b"*name,NAME\nHall,Hall\n", "CSV_DUPLICATE_COLUMN"),
        ("*name\nSaal für Physik\n".encode("latin-1"), "CSV_NOT_TEXT"),
        (b"*name\nHall\x00\n", "CSV_NOT_TEXT"),
        (b"*name\n" + b"x" * 200_000 + b"\n", "CSV_MALFORMED"),
    ],
)
def test_it_refuses_an_unusable_file(actor, data, code):
    assert refusal(actor, data) == code
    assert not ScheduleResource.objects.exists()


def test_it_refuses_a_file_too_large(actor):
    assert refusal(actor, b"*name\nHall\n", max_bytes=5) == "CSV_TOO_LARGE"


def test_it_refuses_too_many_rows_before_applying_any(actor):
    data = "\n".join(["*name", "A", "B", "", "C"]).encode()
    assert refusal(actor, data, max_rows=2) == "CSV_TOO_MANY_ROWS"
    assert not ScheduleResource.objects.exists()


def test_it_judges_the_header_before_counting_rows(actor):
    assert refusal(actor, b"*colour\n" + b"red\n" * 3, max_rows=2) == "CSV_UNKNOWN_COLUMN"


def test_it_counts_only_data_rows_against_the_limit(actor):
    data = "\n".join(["*name", "A", "", "B", ""]).encode()
    assert len(import_resources(actor, data, max_rows=2)) == 2
