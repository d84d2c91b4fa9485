"""The pages' handler500 (calendar_app/web/server_errors.py): a database that cannot be reached
is 503 with Retry-After, anything else Django's 500. tests/stack/test_faults_web.py stops a real
PostgreSQL under load."""

from __future__ import annotations

from django.db import InterfaceError, OperationalError

from calendar_app.web.server_errors import server_error


def _answer_while_handling(error: Exception, rf):
    try:
        raise error
    except Exception:  # Django calls the handler inside its own `except`
        return server_error(rf.get("/calendar/day/"))


def test_a_database_that_cannot_be_reached_is_503_with_a_short_page(rf):
    response = _answer_while_handling(OperationalError("connection refused"), rf)
    assert (response.status_code, response["Retry-After"]) == (503, "5")
    assert b"cannot reach its database" in response.content


def test_a_closed_connection_is_503_too(rf):
    assert _answer_while_handling(InterfaceError("connection already closed"), rf).status_code == 503


def test_any_other_failure_is_djangos_500(rf):
    assert _answer_while_handling(ValueError("a bug"), rf).status_code == 500
