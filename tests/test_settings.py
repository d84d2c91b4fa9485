"""Settings come from the environment, strictly; Celery runs in-process without a broker."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

from scheduler_site.celery import app as celery_app

ROOT = Path(__file__).resolve().parent.parent


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "DEBUG", "TASK_QUEUE_DIR", "HTTPS")
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def setting(name: str, **env: str) -> str:
    code = f"from django.conf import settings; print(settings.{name})"
    result = manage("shell", "--no-imports", "-c", code, **env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@celery_app.task
def add(x: int, y: int) -> int:
    return x + y


def test_without_redis_tasks_run_in_process():
    assert add.delay(2, 3).get(timeout=1) == 5


def test_celery_is_eager_only_without_redis_url():
    assert setting("CELERY_TASK_ALWAYS_EAGER") == "True"
    assert setting("CELERY_TASK_ALWAYS_EAGER", REDIS_URL="redis://127.0.0.1:6379/0") == "False"


def test_a_task_queue_folder_sends_tasks_to_a_worker_through_files(tmp_path):
    assert setting("CELERY_TASK_ALWAYS_EAGER", TASK_QUEUE_DIR=str(tmp_path)) == "False"
    assert setting("CELERY_BROKER_URL", TASK_QUEUE_DIR=str(tmp_path)) == "filesystem://"


def test_make_runs_processes_share_their_caches_through_files(tmp_path):
    # Two web processes with a cache each answered a device's poll 304 from one and 200 from
    # the other: the feed version counter lived in each process.
    def backends(**env: str) -> set[str]:
        return {
            setting(f'CACHES["{name}"]["BACKEND"]', **env).rsplit(".", 1)[1]
            for name in ("default", "feeds", "receipts")
        }

    assert backends(TASK_QUEUE_DIR=str(tmp_path)) == {"FileBasedCache"}
    assert backends(REDIS_URL="redis://127.0.0.1:6379/0") == {"TolerantRedisCache"}
    assert backends() == {"LocMemCache"}


def test_https_is_assumed_without_debug_unless_turned_off():
    production = {"DEBUG": "false", "SECRET_KEY": "x" * 50}
    assert setting("SESSION_COOKIE_SECURE", **production) == "True"
    assert setting("SECURE_SSL_REDIRECT", **production) == "True"
    assert setting("SESSION_COOKIE_SECURE", **production, HTTPS="false") == "False"
    assert setting("SECURE_SSL_REDIRECT", **production, HTTPS="false") == "False"


def test_database_url_selects_the_database():
    url = "postgres://u:p@db.example:5432/sched"
    assert "'NAME': 'sched'" in setting("DATABASES['default']", DATABASE_URL=url)
    assert "sqlite3" in setting("DATABASES['default']['ENGINE']")


def test_a_statement_timeout_is_set_only_when_asked():
    url = "postgres://u:p@db.example:5432/sched"
    assert "statement_timeout" not in setting("DATABASES['default']['OPTIONS']", DATABASE_URL=url)
    options = setting("DATABASES['default']['OPTIONS']", DATABASE_URL=url, DB_STATEMENT_TIMEOUT="30")
    assert "'options': '-c statement_timeout=30000'" in options


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    result = manage("check", DEBUG="false", SECRET_KEY="", VAR_DIR=str(tmp_path))
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_commands_read_the_key_make_run_generated(tmp_path):
    # Else a command run beside `make run` (kaltura_connect) would seal secrets with another key.
    (tmp_path / "secret-key").write_text("the-installations-own-key\n")
    generated = setting("SECRET_KEY", SECRET_KEY="", VAR_DIR=str(tmp_path), DEBUG="false")
    assert generated == "the-installations-own-key"
    assert setting("SECRET_KEY", SECRET_KEY="from-env", VAR_DIR=str(tmp_path)) == "from-env"


def test_a_malformed_boolean_is_an_error_not_a_guess():
    result = manage("check", DEBUG="maybe")
    assert "DEBUG must be a boolean" in result.stderr


def test_production_settings_pass_the_deploy_checks():
    result = manage(
        "check", "--deploy", "--fail-level", "WARNING",
        DEBUG="false", SECRET_KEY="x" * 60 + "-long-and-random-enough", ALLOWED_HOSTS="sched.example.org",
        FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
