"""The input rules hold every field to what its column can store, read from models.py: the web
UI, imports and the API are refused the same values on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from calendar_app import input_rules, scheduling
from calendar_app.errors import ValidationFailed
from calendar_app.input_rules import APP_TOKEN_RULES, EVENT_RULES, RESOURCE_RULES
from calendar_app.models import EventType, ScheduleEvent, ScheduleResource
from tests.conftest import at

INT32_MAX = 2**31 - 1


def refusal(rules, name: str, value) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as error:
        rules[name].clean(name, value)
    return error.value


def test_it_reads_an_integer_columns_range_from_the_model():
    assert input_rules.column_range(ScheduleEvent._meta.get_field("duration")) == (0, INT32_MAX)


def test_a_foreign_key_holds_what_the_key_it_points_to_holds():
    parent, pk = ScheduleResource._meta.get_field("parent"), ScheduleResource._meta.get_field("id")
    assert input_rules.column_range(parent) == input_rules.column_range(pk)


@pytest.mark.parametrize("name", ["duration", "sequence", "projected_audience"])
def test_an_unsigned_rule_takes_its_high_bound_from_the_column(name):
    error = refusal(EVENT_RULES, name, INT32_MAX + 1)
    assert (error.code, error.error_args["MAX_VAL"]) == ("PROPERTY_VALIDATION_MAX_VALUE", INT32_MAX)
    assert EVENT_RULES[name].clean(name, INT32_MAX) == INT32_MAX


def test_a_rules_own_bound_comes_before_the_columns():
    assert refusal(EVENT_RULES, "priority", INT32_MAX + 1).error_args["MAX_VAL"] == 9


def test_every_database_refuses_what_postgresql_could_not_store():
    """The portable range, not the connection's: SQLite's takes any 64-bit integer."""
    assert refusal(EVENT_RULES, "sequence", INT32_MAX + 1).code == "PROPERTY_VALIDATION_MAX_VALUE"


@pytest.mark.parametrize(
    ("rules", "name", "length"),
    [(EVENT_RULES, "summary", 256), (EVENT_RULES, "contact", 1024), (RESOURCE_RULES, "stream_url", 256),
     (APP_TOKEN_RULES, "session_user_id", 256), (EVENT_RULES, "template_entry_id", 20)],
)  # fmt: skip
def test_text_is_held_to_its_columns_max_length(rules, name, length):
    error = refusal(rules, name, "a" * (length + 1))
    assert (error.code, error.error_args["MAX_LEN"]) == ("PROPERTY_VALIDATION_MAX_LENGTH", length)
    assert rules[name].clean(name, "a" * length) == "a" * length


def test_a_moment_past_the_latest_is_refused():
    error = refusal(EVENT_RULES, "start", input_rules.LATEST + timedelta(seconds=1))
    assert (error.code, error.error_args["MAX_VAL"]) == (
        "PROPERTY_VALIDATION_MAX_VALUE",
        int(input_rules.LATEST.timestamp()),
    )


def test_a_moment_before_the_earliest_is_refused():
    error = refusal(EVENT_RULES, "end", input_rules.EARLIEST - timedelta(seconds=1))
    assert (error.code, error.error_args["MIN_VAL"]) == (
        "PROPERTY_VALIDATION_MIN_VALUE",
        int(input_rules.EARLIEST.timestamp()),
    )


def test_an_app_token_may_never_expire_but_lasts_a_second_at_least():
    assert APP_TOKEN_RULES["expiry"].clean("expiry", None) is None
    assert refusal(APP_TOKEN_RULES, "session_duration", 0).code == "PROPERTY_VALIDATION_MIN_VALUE"


@pytest.mark.parametrize(
    ("feature", "code"),
    [({"pre_start_time": 86_401}, "PROPERTY_VALIDATION_MAX_VALUE"),
     ({"post_end_time": -1}, "PROPERTY_VALIDATION_MIN_VALUE"),
     ({"input_delay": INT32_MAX + 1}, "PROPERTY_VALIDATION_MAX_VALUE")],
)  # fmt: skip
def test_live_feature_numbers_are_bounded_though_kept_as_json(feature, code):
    error = refusal(EVENT_RULES, "live_features", [{"objectType": "KalturaLiveCaptionFeature", **feature}])
    assert (error.code, error.field) == (code, f"live_features.{next(iter(feature))}")


def test_live_features_are_a_list_of_objects():
    assert refusal(EVENT_RULES, "live_features", {"pre_start_time": 1}).field == "live_features"


def test_the_write_path_applies_the_bounds_for_every_door(actor):
    data = {"type": EventType.RECORD, "summary": "Lecture", "start": at("2026-09-07 09:00")}
    with pytest.raises(ValidationFailed) as error:
        scheduling.create_event(actor, {**data, "end": at("2026-09-07 10:00"), "sequence": INT32_MAX + 1})
    assert error.value.code == "PROPERTY_VALIDATION_MAX_VALUE"
    assert not ScheduleEvent.objects.exists()


@pytest.mark.parametrize(
    ("rules", "name"), [(EVENT_RULES, "comment"), (EVENT_RULES, "summary"), (RESOURCE_RULES, "name")]
)
def test_a_nul_character_is_refused_on_every_database(rules, name):
    # PostgreSQL text cannot hold NUL: found by tests/sync/test_fuzz_sync.py, where the write
    # that stored one on SQLite failed on PostgreSQL with a DataError.
    error = refusal(rules, name, "before\x00after")
    assert (error.code, error.error_args) == ("INVALID_PARAMETER_CHAR", {"PARAM_NAME": name})


def test_a_booking_with_a_nul_character_is_refused_and_nothing_is_written(actor):
    with pytest.raises(ValidationFailed):
        start = at("2026-09-07 09:00")
        booking = {"type": EventType.RECORD, "summary": "L", "comment": "\x00", "start": start, "end": start}
        scheduling.create_event(actor, booking)
    assert not ScheduleEvent.objects.exists()


@pytest.mark.parametrize("summary", ["\x01", "\ufffe\x1f", "\x0b\x0c"])
def test_a_summary_of_characters_xml_cannot_carry_counts_as_empty(summary):
    # Found by tests/sync/test_fuzz_sync.py: the API's XML (and the push upstream) drops these
    # characters, which left an upstream booking with no summary at all.
    error = refusal(EVENT_RULES, "summary", summary)
    assert error.code == "PROPERTY_VALIDATION_MIN_LENGTH"


def test_a_summary_keeps_what_xml_cannot_carry_beside_real_text():
    assert EVENT_RULES["summary"].clean("summary", "Lecture\x01") == "Lecture\x01"
