"""`make stack` as an operator sees it: production settings, static files, its processes, and a
stop that stops exactly what it started."""

from __future__ import annotations

import os
import ssl
import subprocess
import time

import httpx

from tests.stack.running import RunningStack


def test_it_serves_https_with_production_settings_and_the_printed_login(stack):
    assert "https://127.0.0.1:" in stack.output and f"password:   {stack.password}" in stack.output
    with stack.http() as client:
        home = client.get("/calendar/week/")
        assert home.status_code == 302 and home.headers["location"].startswith("/accounts/login/")
        assert "Strict-Transport-Security" in home.headers
        missing = client.get("/no-such-page/")
        assert missing.status_code == 404 and "Traceback" not in missing.text  # DEBUG is off
        stack.sign_in(client)
        assert client.get("/calendar/week/").status_code == 200
    assert stack.settings["DEBUG"] == "false"
    assert "System check identified no issues" in stack.manage("check", "--deploy")


def test_a_client_that_stops_at_tls_1_2_is_served(stack):
    # Capture appliances run old TLS stacks; the web server's own default would demand TLS 1.3.
    context = stack.ssl_context()
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    with httpx.Client(base_url=stack.url(0), verify=context) as client:
        assert client.get("/api_v3/").status_code == 200


def test_static_files_are_served_by_the_app_with_caching_headers(stack):
    with stack.http() as client:
        css = client.get("/static/calendar_app/calendar.css", headers={"Accept-Encoding": "gzip"})
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert "max-age" in css.headers["cache-control"]


def test_every_part_runs_as_its_own_process_group(stack):
    names = [f"web-{port}" for port in stack.web_ports] + ["worker-1", "worker-2", "beat", "redis"]
    for name in names:
        pid = stack.pid(name)
        assert os.getpgid(pid) == pid, name
    assert "postgres" in stack.script("status")


def test_stop_stops_exactly_what_start_started():
    own = RunningStack(web_servers=1, workers=1)
    bystander = subprocess.Popen(["sleep", "300"], start_new_session=True)
    try:
        own.start()
        groups = [own.pid(name) for name in (f"web-{own.web_ports[0]}", "worker-1", "beat", "redis")]
        # beat's pid reused by another process: a pid file naming it (with another start time)
        # must not make `stop` signal it.
        own.stop_part("beat")
        (own.folder / "run" / "beat.pid").write_text(f"{bystander.pid} 1\n")
        own.stop()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_alive(pid) for pid in groups):
            time.sleep(0.1)
        assert not [pid for pid in groups if _alive(pid)]
        assert not (own.folder / "pg" / "data" / "postmaster.pid").exists()
        assert bystander.poll() is None
        assert "not running" in own.script("status", check=False)
    finally:
        own.stop()
        own.remove()
        bystander.kill()


def _alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return any(_member(entry, pgid) for entry in os.listdir("/proc") if entry.isdigit())


def _member(pid: str, pgid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return fields[0] != "Z" and int(fields[2]) == pgid
