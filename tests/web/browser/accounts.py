"""Signing in as a person does: through the login form."""

from __future__ import annotations

from urllib.parse import urlsplit

from playwright.sync_api import Page

from tests.conftest import PASSWORD

LOGIN_PATH = "/accounts/login/"


def signed_in(page: Page, live_server, user, password: str = PASSWORD) -> Page:
    """`page` after `user` signed in at the login form, on the page Django redirects to."""
    page.goto(live_server.url + LOGIN_PATH)
    page.get_by_label("Username").fill(user.get_username())
    page.get_by_label("Password").fill(password)
    with page.expect_response(lambda r: r.request.method == "POST" and LOGIN_PATH in r.url) as posted:
        page.get_by_role("button", name="Sign in").click()
    # A refused sign-in answers 200 with the form again; say so rather than time out below.
    assert posted.value.status == 302, f"{user} was not signed in (HTTP {posted.value.status})"
    page.wait_for_url(lambda url: urlsplit(url).path != LOGIN_PATH)
    return page
