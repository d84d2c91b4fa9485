"""Request metrics (scheduler_site/middleware.py) under what a hostile client sends."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY, generate_latest


def test_a_content_length_that_is_no_number_gets_the_api_envelope_not_a_500(client, db):
    form = "application/x-www-form-urlencoded"
    answer = client.post(
        "/api_v3/service/system/action/ping",
        data=b"format=1",
        content_type=form,
        headers={"Content-Length": "12abc"},
    )
    assert answer.status_code == 200 and b"KalturaAPIException" in answer.content


@pytest.mark.parametrize("method", ["BREW", "PROPFIND-X1"])
def test_an_invented_method_adds_no_series_of_its_name(client, db, method):
    client.generic(method, "/calendar/week/")
    assert method.encode() not in generate_latest(REGISTRY)
