"""Secrets at rest (secret_box.py): ciphertext in the database and plaintext through the ORM,
`manage.py rotate_secrets`, the migration that encrypted the drop folders' secrets, and the
checks on FIELD_ENCRYPTION_KEYS."""

from __future__ import annotations

import importlib
import io
from types import SimpleNamespace

import pytest
from cryptography.fernet import Fernet
from django.core import checks
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from calendar_app import secret_box
from calendar_app.admin.import_jobs import DropFolderForm
from calendar_app.checks import derived_encryption_key_check, field_encryption_keys_check
from calendar_app.models import DropFolder, KalturaConnection

OLD, NEW, LOST = (Fernet.generate_key().decode() for _ in range(3))
SECRET = "s3cret-password"
KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n"
MIGRATION = "0010_encrypted_drop_folder_secrets"


def stored(obj, field: str) -> str:
    """The column as the database holds it, past the field's decryption."""
    table, column = obj._meta.db_table, obj._meta.get_field(field).column
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {qn(column)} FROM {qn(table)} WHERE id = %s", [obj.pk])
        return cursor.fetchone()[0]


def store(obj, field: str, raw: str) -> None:
    """Write the column as given, past the field's encryption (a legacy plaintext, a foreign key)."""
    table, column = obj._meta.db_table, obj._meta.get_field(field).column
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {qn(table)} SET {qn(column)} = %s WHERE id = %s", [raw, obj.pk])


def opened_with(key: str, raw: str) -> str:
    assert raw.startswith(secret_box.PREFIX)
    return Fernet(key.encode()).decrypt(raw[len(secret_box.PREFIX) :].encode()).decode()


def rotate() -> str:
    out = io.StringIO()
    call_command("rotate_secrets", stdout=out)
    return out.getvalue()


@pytest.fixture
def keys(settings):
    def use(*keys: str) -> None:
        settings.FIELD_ENCRYPTION_KEYS = list(keys)

    use(OLD)
    return use


@pytest.fixture
def folder(partner, keys) -> DropFolder:
    return DropFolder.objects.create(
        partner=partner, name="Timetables", kind="sftp", host="127.0.0.1", password=SECRET, private_key=KEY
    )


@pytest.fixture
def upstream(partner, keys) -> KalturaConnection:
    return KalturaConnection.objects.create(
        partner=partner, service_url="https://www.kaltura.com", upstream_partner_id=4242, admin_secret=SECRET
    )


# --- encrypted fields -------------------------------------------------------------------------


def test_it_stores_a_drop_folders_secrets_as_ciphertext(folder):
    assert opened_with(OLD, stored(folder, "password")) == SECRET
    assert opened_with(OLD, stored(folder, "private_key")) == KEY
    assert SECRET not in stored(folder, "password")


def test_it_reads_a_drop_folders_secrets_as_plaintext(folder):
    folder = DropFolder.objects.get(pk=folder.pk)
    assert (folder.password, folder.private_key) == (SECRET, KEY)


def test_it_stores_a_kaltura_connections_admin_secret_as_ciphertext(upstream):
    assert opened_with(OLD, stored(upstream, "admin_secret")) == SECRET
    assert KalturaConnection.objects.get(pk=upstream.pk).admin_secret == SECRET


def test_it_stores_an_empty_secret_as_empty(upstream):
    assert stored(upstream, "app_token") == ""
    assert KalturaConnection.objects.get(pk=upstream.pk).app_token == ""


def test_it_reads_a_legacy_plaintext(folder):
    store(folder, "password", "legacy-password")
    assert DropFolder.objects.get(pk=folder.pk).password == "legacy-password"


def test_it_cannot_read_a_secret_under_an_unknown_key(folder, keys):
    keys(NEW)
    with pytest.raises(secret_box.SecretUnreadable):
        DropFolder.objects.get(pk=folder.pk)


def test_the_admin_form_still_limits_the_password_to_256_characters():
    form = DropFolderForm(data={"password": "x" * 257})
    form.is_valid()
    assert "password" in form.errors


# --- rotate_secrets ---------------------------------------------------------------------------


def test_rotate_secrets_moves_every_secret_to_the_first_key(folder, upstream, keys):
    keys(NEW, OLD)
    rotate()
    keys(NEW)
    folder, upstream = DropFolder.objects.get(pk=folder.pk), KalturaConnection.objects.get(pk=upstream.pk)
    assert (folder.password, folder.private_key, upstream.admin_secret) == (SECRET, KEY, SECRET)
    assert opened_with(NEW, stored(folder, "password")) == SECRET


def test_rotate_secrets_prints_a_count_per_field(folder, upstream, keys):
    lines = rotate().splitlines()
    assert "calendar_app.DropFolder.password: 1 re-encrypted" in lines
    assert "calendar_app.DropFolder.private_key: 1 re-encrypted" in lines
    assert "calendar_app.KalturaConnection.admin_secret: 1 re-encrypted" in lines
    assert "calendar_app.KalturaConnection.app_token: 0 re-encrypted" in lines


def test_rotate_secrets_encrypts_a_legacy_plaintext(folder):
    store(folder, "password", "legacy-password")
    rotate()
    assert opened_with(OLD, stored(folder, "password")) == "legacy-password"
    assert DropFolder.objects.get(pk=folder.pk).password == "legacy-password"


def test_rotate_secrets_refuses_an_unreadable_secret_and_changes_nothing(folder, upstream, keys):
    store(folder, "password", "legacy-password")
    keys(LOST)
    KalturaConnection.objects.filter(pk=upstream.pk).update(admin_secret="under a lost key")
    keys(NEW, OLD)
    every_column = [(folder, "password"), (folder, "private_key"), (upstream, "admin_secret")]
    before = [stored(obj, field) for obj, field in every_column]
    with pytest.raises(CommandError, match=f"KalturaConnection pk={upstream.pk}: .* its admin_secret"):
        rotate()
    assert [stored(obj, field) for obj, field in every_column] == before


# --- the migration ----------------------------------------------------------------------------


@pytest.fixture
def migration_apps(db):
    """The app registry as the migration sees it (historical models)."""
    return MigrationLoader(connection).project_state(("calendar_app", MIGRATION)).apps


def run_migration(direction: str, migration_apps) -> None:
    # Not a real schema editor: SQLite's refuses to open inside the test's transaction.
    def execute(sql: str) -> None:
        with connection.cursor() as cursor:
            cursor.execute(sql)

    module = importlib.import_module(f"calendar_app.migrations.{MIGRATION}")
    getattr(module, direction)(migration_apps, SimpleNamespace(connection=connection, execute=execute))


def test_the_migration_encrypts_plaintext_exactly_once(folder, migration_apps):
    store(folder, "password", "legacy-password")
    run_migration("encrypt", migration_apps)
    run_migration("encrypt", migration_apps)
    assert opened_with(OLD, stored(folder, "password")) == "legacy-password"
    assert opened_with(OLD, stored(folder, "private_key")) == KEY


def test_the_migration_decrypts_on_the_way_back(folder, migration_apps):
    run_migration("decrypt", migration_apps)
    assert (stored(folder, "password"), stored(folder, "private_key")) == (SECRET, KEY)


# --- checks -----------------------------------------------------------------------------------


def test_check_deploy_warns_about_the_key_derived_from_secret_key(keys):
    keys()
    found = checks.run_checks(tags=[checks.Tags.security], include_deployment_checks=True)
    assert "calendar_app.W001" in [message.id for message in found]


def test_check_deploy_is_content_with_configured_keys(keys):
    assert derived_encryption_key_check(None) == []


def test_check_refuses_a_malformed_key(keys):
    keys(NEW, "not-a-key")
    [error] = field_encryption_keys_check(None)
    assert (error.id, "key 2" in error.msg) == ("calendar_app.E001", True)
