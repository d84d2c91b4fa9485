"""Django setup shared by the bench scripts. Importing this module configures Django, so it is
imported before anything that touches models:

    import _django  # noqa: F401  (sets up Django; keep it first)

- DATABASE_URL decides the database, as for the app. Unset, the bench uses its own SQLite file,
  bench/data/bench.sqlite3 (git-ignored), never the project's db.sqlite3.
- DEBUG is off unless you set it: with DEBUG on, Django wraps every cursor to record each query,
  which production does not pay for. DEBUG off needs a SECRET_KEY; a random one is made per run
  (nothing here signs anything that outlives the process).
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
DATA_DIR = BENCH_DIR / "data"
DEFAULT_SQLITE = DATA_DIR / "bench.sqlite3"


def _setup() -> None:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    if not os.environ.get("DATABASE_URL"):
        DATA_DIR.mkdir(exist_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{DEFAULT_SQLITE}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "scheduler_site.settings")
    os.environ.setdefault("DEBUG", "false")
    if not os.environ.get("SECRET_KEY"):
        os.environ["SECRET_KEY"] = "bench-" + secrets.token_urlsafe(32)
    os.environ.setdefault("LOG_LEVEL", "WARNING")

    import django

    django.setup()


def describe_database() -> str:
    """'SQLite 3.40.1 (/path/file)' or 'PostgreSQL 15.8 (host:port/name)', for report headers."""
    from django.db import connection

    settings = connection.settings_dict
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("select sqlite_version()")
            return f"SQLite {cursor.fetchone()[0]} ({settings['NAME']})"
        if connection.vendor == "postgresql":
            cursor.execute("show server_version")
            version = cursor.fetchone()[0].split()[0]
            where = f"{settings.get('HOST') or 'socket'}:{settings.get('PORT') or 5432}/{settings['NAME']}"
            return f"PostgreSQL {version} ({where})"
    return f"{connection.vendor} ({settings['NAME']})"


_setup()
