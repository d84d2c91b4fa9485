"""What the admin modules share: related-row counts, the admin's actor, per-row service
actions, and the admin classes for rows written directly or never by hand."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import model_ngettext
from django.db import models
from django.db.models import F, Func, Subquery
from django.http import HttpRequest

from calendar_app import clock, writes
from calendar_app.errors import SchedulingError
from calendar_app.models import (
    AuditEntry,
    Partner,
    RemoteLocation,
)


def count_of(queryset: models.QuerySet | models.Manager, **correlation: Any) -> Subquery:
    """COUNT(*) of related rows as a correlated subquery, e.g.
    count_of(ScheduleEventResource.objects, event=OuterRef("pk")). Unlike Count() over a join it
    needs no GROUP BY across the whole list, and several counts on one row do not multiply."""
    counted = queryset.filter(**correlation).order_by().annotate(n=Func(F("pk"), function="COUNT"))
    return Subquery(counted.values("n"), output_field=models.IntegerField())


def admin_actor(partner: Partner, user_id: str) -> writes.Actor:
    return writes.Actor(partner=partner, now=clock.now(), user_id=user_id, source=AuditEntry.Source.ADMIN)


def apply_each(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    objects: Iterable[Any],
    write: Callable[[writes.Actor, Any], object],
    done: str,
) -> None:
    """Call the service for each object in its own transaction; report refusals row by row."""
    user_id, count = request.user.get_username(), 0
    for obj in objects:
        try:
            write(admin_actor(obj.partner, user_id), obj)
        except SchedulingError as error:
            model_admin.message_user(request, f"{obj}: {error.message}", messages.ERROR)
        else:
            count += 1
    if count:
        what = model_ngettext(model_admin.opts, count)
        model_admin.message_user(request, f"{done} {count} {what}.", messages.SUCCESS)


class DirectAdmin(admin.ModelAdmin):
    """Admin for models outside the scheduling write path (they have a chosen id, not a serial
    one): written directly, the id fixed once created, updated_at kept current."""

    def get_readonly_fields(self, request, obj=None):
        # Changing a primary key in the admin would save a copy under the new id.
        return [*self.readonly_fields, "id"] if obj else self.readonly_fields

    def save_model(self, request, obj, form, change):
        obj.updated_at = clock.now()
        super().save_model(request, obj, form, change)


class ViewOnlyAdmin(admin.ModelAdmin):
    """Rows written by the application, never by hand: their admin pages only show them."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class WriteOnlySecretsForm(forms.ModelForm):
    """A form whose SECRETS are write-only: never sent back to the browser (even as a
    placeholder's value), kept as stored when left empty, cleared only when `forget_secrets`
    (a field the subclass declares) is ticked."""

    SECRETS: tuple[str, ...] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in self.SECRETS:
            self.initial[name] = ""  # an empty field then means "unchanged", not "changed to empty"
            if getattr(self.instance, name):
                self.fields[name].widget.attrs["placeholder"] = "stored: leave empty to keep it"

    def clean(self) -> dict[str, Any]:
        cleaned_data = super().clean()
        forget = cleaned_data.get("forget_secrets")
        for name in self.SECRETS:
            if not cleaned_data.get(name) and not forget:
                cleaned_data[name] = getattr(self.instance, name)
        return cleaned_data


class RemoteLocationForm(WriteOnlySecretsForm):
    """A drop folder's or a publish target's form: its password and private key write-only."""

    SECRETS = ("password", "private_key")
    password = forms.CharField(
        required=False, max_length=256, widget=forms.PasswordInput(render_value=False),
        help_text="Not shown once stored; leave empty to keep it. S3: the secret access key.",
    )  # fmt: skip
    private_key = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 4, "autocomplete": "off"}),
        help_text="SFTP: an unencrypted private key (OpenSSH or PEM). Not shown once stored; "
        "leave empty to keep it.",
    )  # fmt: skip
    forget_secrets = forms.BooleanField(required=False, label="Forget the stored password and key")
    endpoint_url = forms.URLField(
        required=False, max_length=512, assume_scheme="https",
        help_text=RemoteLocation._meta.get_field("endpoint_url").help_text,
    )  # fmt: skip
