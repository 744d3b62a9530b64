"""Framework models shared by every app: the base record, history, the event outbox, custom fields,
saved views. No CRM nouns here."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class TimestampedModel(models.Model):
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        abstract = True


class Record(TimestampedModel):
    """A CRM record: owned by a user, optionally shared with a team, versioned for optimistic
    concurrency, archived rather than deleted, and carrying custom-field values."""

    # No single-column indexes: every concrete record declares (owner, id) and (team, id), which serve the
    # same lookups (and the visibility rules' ordered scans); a second index would only slow each write.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    team = models.ForeignKey(
        "users.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    version = models.PositiveIntegerField(default=1)
    archived_at = models.DateTimeField(null=True, blank=True)
    custom = models.JSONField(default=dict, blank=True)

    class Meta:
        abstract = True

    @classmethod
    def object_type(cls) -> str:
        return cls._meta.label_lower

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None


class HistoryEntry(models.Model):
    """One change to one record: who, when, what kind, and old → new per field."""

    class Action(models.TextChoices):
        CREATED = "created", _("created")
        UPDATED = "updated", _("updated")
        ARCHIVED = "archived", _("archived")
        RESTORED = "restored", _("restored")
        MERGED = "merged", _("merged")

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    object_id = models.BigIntegerField()
    action = models.CharField(max_length=20, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    changes = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [models.Index(fields=["content_type", "object_id", "-id"], name="history_object_idx")]

    def __str__(self) -> str:
        return f"{self.action} {self.content_type_id}:{self.object_id}"


class OutboxEvent(models.Model):
    """A domain event appended in the same transaction as the write; the worker delivers it after commit."""

    name = models.CharField(max_length=100)
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.BigIntegerField(null=True, blank=True)
    actor_id = models.BigIntegerField(null=True, blank=True)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["id"], name="outbox_pending_idx", condition=models.Q(delivered_at__isnull=True)
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} #{self.pk}"


class EventDelivery(models.Model):
    """Which consumer has handled which event: makes delivery idempotent per (event, consumer)."""

    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="deliveries")
    consumer = models.CharField(max_length=100)
    delivered_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event", "consumer"], name="event_delivery_once"),
        ]

    def __str__(self) -> str:
        return f"{self.consumer} ← {self.event_id}"


class CustomField(TimestampedModel):
    """An admin-defined, typed field on one kind of record; values live in the record's `custom` JSON."""

    class FieldType(models.TextChoices):
        TEXT = "text", _("Text")
        NUMBER = "number", _("Number")
        DATE = "date", _("Date")
        CHOICE = "choice", _("Choice")
        MULTI_CHOICE = "multi_choice", _("Multiple choice")
        BOOLEAN = "boolean", _("Yes / no")
        URL = "url", _("URL")
        EMAIL = "email", _("E-mail")

    object_type = models.CharField(max_length=100)
    key = models.SlugField(max_length=50)
    label = models.CharField(max_length=100)
    field_type = models.CharField(max_length=20, choices=FieldType.choices)
    choices = models.JSONField(default=list, blank=True)
    required = models.BooleanField(default=False)
    help_text = models.CharField(max_length=200, blank=True)
    position = models.PositiveIntegerField(default=0)
    show_in_list = models.BooleanField(default=False)

    class Meta:
        ordering = ["object_type", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["object_type", "key"], name="custom_field_key_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.object_type}.{self.key}"


class SavedView(TimestampedModel):
    """A user's named list view: filter (query language text), columns and sort order."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views")
    object_type = models.CharField(max_length=100)
    name = models.CharField(max_length=100)
    filter = models.TextField(blank=True)
    columns = models.JSONField(default=list, blank=True)
    sort = models.CharField(max_length=50, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["user", "object_type", "name"], name="saved_view_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name


from .search.models import SearchDocument, SearchTerm  # noqa: E402,F401  (registers the search tables in this app)
