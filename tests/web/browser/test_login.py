from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.web.browser.accounts import LOGIN_PATH, signed_in


def test_it_renders_the_login_page(page, screenshot):
    page.goto(LOGIN_PATH)
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_label("Username")).to_be_focused()
    expect(page.get_by_label("Password")).to_be_visible()
    screenshot(page, "login")


def test_it_lands_an_admin_on_the_timeline(page, live_server, alice, screenshot):
    signed_in(page, live_server, alice)
    expect(page).to_have_url(live_server.url + "/calendar/timeline/")
    expect(page.locator(".whoami")).to_contain_text("alice")
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    screenshot(page, "timeline-after-login")


def test_it_refuses_a_wrong_password(page, live_server, alice):
    page.goto(LOGIN_PATH)
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text(re.compile("correct username and password"))
    expect(page).to_have_url(live_server.url + LOGIN_PATH)
