"""The embedded default as `make run` starts it (scripts/serve.sh): granian, a task worker on a
file queue, SQLite in WAL mode, DEBUG off. One stack for the module, on a fresh SQLite file and a
free port; the official client talks to it like a capture device would.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import sqlite3
import subprocess
from pathlib import Path

import httpx
import pytest
from KalturaClient import KalturaClient, KalturaConfiguration
from KalturaClient.Plugins.Core import KalturaBatchJobStatus, KalturaSessionType
from KalturaClient.Plugins.Schedule import KalturaScheduleEventFilter
from KalturaClient.Plugins.ScheduleBulkUpload import KalturaBulkUploadICalJobData

from tests.background import eventually

ROOT = Path(__file__).resolve().parent.parent
WAIT = 60  # seconds; the stack starts in about ten


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Stack:
    def __init__(self, folder: Path) -> None:
        self.folder, self.port = folder, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = folder / "serve.log"
        self.database = folder / "embedded.sqlite3"

    def start(self) -> None:
        env = {key: value for key, value in os.environ.items() if key not in ("REDIS_URL", "DEBUG")}
        env.update(
            PORT=str(self.port), DATABASE_URL=f"sqlite:///{self.database}", VAR_DIR=str(self.folder),
            STATIC_ROOT=str(self.folder / "static"), PYTHON=os.environ.get("PYTHON", ".venv/bin/python"),
        )  # fmt: skip
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                ["scripts/serve.sh"], cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        eventually(self._answers, "the stack answering", self.log)
        eventually(
            lambda: "celery@" in self.log.read_text() and "ready" in self.log.read_text(),
            "the worker",
            self.log,
        )

    def _answers(self) -> bool:
        try:
            return httpx.get(f"{self.url}/api_v3/", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    def credentials(self) -> tuple[int, str]:
        text = self.log.read_text()
        return int(re.search(r"Partner id:\s+(\d+)", text)[1]), re.search(r"Admin secret:\s+(\S+)", text)[1]

    def processes(self) -> list[int]:
        """Every live process of the stack's session (the stack started one)."""
        found = []
        for entry in Path("/proc").iterdir():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if stat[0] != "Z" and int(stat[3]) == self.process.pid:
                found.append(int(entry.name))
        return found

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)  # what Ctrl-C in the terminal sends
            self.process.wait(timeout=WAIT)


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    running = Stack(tmp_path_factory.mktemp("embedded"))
    running.start()
    yield running
    running.stop()
    leftover = running.processes()
    if leftover:
        os.killpg(running.process.pid, signal.SIGKILL)


def client_of(stack: Stack) -> KalturaClient:
    """The official client with an admin session of the demo partner."""
    partner_id, secret = stack.credentials()
    config = KalturaConfiguration()
    config.serviceUrl = stack.url
    kaltura = KalturaClient(config)
    kaltura.setKs(kaltura.session.start(secret, "admin", KalturaSessionType.ADMIN, partner_id))
    return kaltura


@pytest.fixture(scope="module")
def client(stack):
    return client_of(stack)


TERM = "\r\n".join([
    "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//embedded//EN",
    *(line for n in range(300) for line in (
        "BEGIN:VEVENT", f"UID:lecture-{n}@embedded",
        f"DTSTART:2027{1 + n % 12:02d}{1 + n % 28:02d}T{8 + n % 9:02d}0000Z",
        "DURATION:PT1H", f"SUMMARY:Lecture {n}", "END:VEVENT",
    )),
    "END:VCALENDAR", "",
])  # fmt: skip


def test_an_upload_answers_at_once_and_the_worker_imports_it(stack, client, tmp_path):
    path = tmp_path / "term.ics"
    path.write_text(TERM, newline="")
    with path.open("rb") as file:
        job = client.schedule.scheduleEvent.addFromBulkUpload(file, KalturaBulkUploadICalJobData())
    assert job.status.getValue() != KalturaBatchJobStatus.FINISHED  # the request did not import it

    def finished():
        done = client.bulkUpload.bulk.get(job.id)
        return done if done.status.getValue() == KalturaBatchJobStatus.FINISHED else None

    done = eventually(finished, "the import", stack.log)
    assert len(done.results) == 300 and {r.status.getValue() for r in done.results} == {"2"}
    found = client.schedule.scheduleEvent.list(KalturaScheduleEventFilter(referenceIdIn="lecture-7@embedded"))
    assert found.totalCount == 1


def test_the_database_is_in_wal_mode(stack):
    with sqlite3.connect(stack.database) as database:
        assert database.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_debug_is_off_so_a_missing_page_lists_no_urls(stack):
    answer = httpx.get(f"{stack.url}/no-such-page/")
    assert answer.status_code == 404
    assert "URLconf" not in answer.text and "api_v3" not in answer.text


def test_static_files_are_served_without_debug(stack):
    page = httpx.get(f"{stack.url}/accounts/login/")
    styles = re.findall(r'href="(/static/[^"]+\.css)"', page.text)
    assert styles, page.text[:500]
    assert all(httpx.get(stack.url + href).status_code == 200 for href in styles)


def test_ctrl_c_stops_the_server_and_its_worker(tmp_path_factory):
    own = Stack(tmp_path_factory.mktemp("stopped"))
    own.start()
    assert len(own.processes()) >= 4  # granian's main process and two workers, the task worker
    own.stop()
    eventually(lambda: not own.processes(), "every process exiting", own.log, wait=30)


def test_a_job_left_processing_by_a_worker_that_died_ends_when_the_stack_starts_again(
    tmp_path_factory, tmp_path
):
    own = Stack(tmp_path_factory.mktemp("restarted"))
    own.start()
    path = tmp_path / "one.ics"
    path.write_text(TERM.replace("lecture-", "restart-"), newline="")
    with path.open("rb") as file:
        job = client_of(own).schedule.scheduleEvent.addFromBulkUpload(file, KalturaBulkUploadICalJobData())
    own.stop()
    with sqlite3.connect(own.database) as database:  # as a worker killed mid-file leaves it
        database.execute(
            "UPDATE calendar_app_bulkupload SET status = 2, heartbeat_at = '2000-01-01' WHERE id = ?",
            (job.id,),
        )
    own.start()
    # An iCal job is run again once (imports/jobs.py): its VEVENTs applied already are unchanged.
    finished = KalturaBatchJobStatus.FINISHED
    try:
        jobs = client_of(own).bulkUpload.bulk
        eventually(lambda: jobs.get(job.id).status.getValue() == finished, "recovery", own.log)
        assert len(jobs.get(job.id).results) == 300
    finally:
        own.stop()
