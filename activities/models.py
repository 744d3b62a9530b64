"""The timeline of interactions: notes, calls, meetings, e-mails and tasks, linked to contacts and companies.

One `Activity` table carries every kind with its kind-specific columns (unused ones stay empty). An
activity is linked to any number of contacts and companies through `ActivityLink`, whose rows carry real
foreign keys (a merge moves them by introspecting foreign keys to Contact/Company) and a copy of the
activity's time, so one customer's timeline is a range scan of the (contact, occurred_at, activity) index.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import Record


class Activity(Record):
    class Kind(models.TextChoices):
        NOTE = "note", _("Note")
        CALL = "call", _("Call")
        MEETING = "meeting", _("Meeting")
        EMAIL = "email", _("E-mail")
        TASK = "task", _("Task")

    class Direction(models.TextChoices):
        IN = "in", _("Inbound")
        OUT = "out", _("Outbound")

    class Outcome(models.TextChoices):
        CONNECTED = "connected", _("Connected")
        NO_ANSWER = "no_answer", _("No answer")
        VOICEMAIL = "voicemail", _("Left voicemail")
        BUSY = "busy", _("Busy")
        WRONG_NUMBER = "wrong_number", _("Wrong number")

    class EmailStatus(models.TextChoices):
        LOGGED = "logged", _("Logged")
        SENT = "sent", _("Sent")

    class Priority(models.TextChoices):
        LOW = "low", _("Low")
        NORMAL = "normal", _("Normal")
        HIGH = "high", _("High")

    kind = models.CharField(max_length=10, choices=Kind.choices)
    subject = models.CharField(max_length=200, blank=True)
    # Sanitised HTML (notes, e-mails) or plain text (calls, meetings, tasks).
    body = models.TextField(blank=True)
    # When it happened: the timeline's order (meetings: starts_at; tasks: due_at when set).
    occurred_at = models.DateTimeField(default=timezone.now)

    # calls (direction also for e-mails)
    direction = models.CharField(max_length=3, choices=Direction.choices, blank=True)
    duration_seconds = models.PositiveIntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)

    # meetings
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    location = models.CharField(max_length=200, blank=True)

    # e-mails
    email_status = models.CharField(max_length=10, choices=EmailStatus.choices, blank=True)
    from_address = models.CharField(max_length=254, blank=True)
    to_addresses = models.JSONField(default=list, blank=True)
    cc_addresses = models.JSONField(default=list, blank=True)
    message_id = models.CharField(max_length=255, null=True, blank=True, unique=True)
    in_reply_to = models.CharField(max_length=255, blank=True)
    thread_id = models.CharField(max_length=255, blank=True)

    # tasks
    due_at = models.DateTimeField(null=True, blank=True)
    priority = models.CharField(max_length=10, choices=Priority.choices, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    done_at = models.DateTimeField(null=True, blank=True)
    remind_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "activities"
        indexes = [
            models.Index(fields=["owner", "id"], name="activity_owner_idx"),
            models.Index(fields=["team", "id"], name="activity_team_idx"),
            models.Index(fields=["occurred_at", "id"], name="activity_time_idx"),
            # My tasks: a user's open tasks by due date.
            models.Index(
                fields=["assignee", "due_at", "id"],
                name="activity_open_task_idx",
                condition=models.Q(kind="task", done_at__isnull=True),
            ),
            models.Index(fields=["thread_id"], name="activity_thread_idx"),
        ]

    def __str__(self) -> str:
        return self.subject or f"{self.get_kind_display()} {self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("activities:task_list") if self.kind == self.Kind.TASK else "#"

    @property
    def is_done(self) -> bool:
        return self.done_at is not None


class ActivityLink(models.Model):
    """An activity on one contact's or one company's timeline (exactly one of the two)."""

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="links")
    contact = models.ForeignKey(
        "contacts.Contact", null=True, blank=True, on_delete=models.CASCADE, related_name="activity_links"
    )
    company = models.ForeignKey(
        "contacts.Company", null=True, blank=True, on_delete=models.CASCADE, related_name="activity_links"
    )
    # A copy of Activity.occurred_at (and kind), kept by the services, for the timeline's index range scan.
    occurred_at = models.DateTimeField()
    kind = models.CharField(max_length=10, choices=Activity.Kind.choices)

    class Meta:
        indexes = [
            models.Index(fields=["contact", "occurred_at", "activity"], name="activity_link_contact_idx"),
            models.Index(fields=["company", "occurred_at", "activity"], name="activity_link_company_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(contact__isnull=False, company__isnull=True)
                | models.Q(contact__isnull=True, company__isnull=False),
                name="activity_link_one_target",
            ),
            models.UniqueConstraint(fields=["activity", "contact"], name="activity_link_contact_unique"),
            models.UniqueConstraint(fields=["activity", "company"], name="activity_link_company_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.activity_id} → {self.contact_id or self.company_id}"


class ActivityAttendee(models.Model):
    """Who attends a meeting: a contact, or a free-text e-mail address."""

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="attendees")
    contact = models.ForeignKey(
        "contacts.Contact",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="meeting_attendances",
    )
    email = models.CharField(max_length=254, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.email or str(self.contact_id)


class Notification(models.Model):
    """An in-app message to one user (a task reminder, …). `key` makes producing it idempotent."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    text = models.CharField(max_length=300)
    url = models.CharField(max_length=500, blank=True)
    activity = models.ForeignKey(
        Activity, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "-id"], name="notification_user_idx")]

    def __str__(self) -> str:
        return self.text
