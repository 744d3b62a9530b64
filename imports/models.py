"""Imports: saved column mappings, import jobs and their per-row report (with before-images for undo)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    CONTACTS = "contacts", _("Contacts")
    COMPANIES = "companies", _("Companies")
    PRODUCTS = "products", _("Products")
    ORDERS = "orders", _("Orders")


class MappingTemplate(models.Model):
    """A user's reusable column mapping for one kind of record: {column header: field}."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    name = models.CharField(max_length=100)
    mapping = models.JSONField(default=dict)
    key = models.CharField(max_length=20, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "kind", "name"], name="mapping_template_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class ImportJob(models.Model):
    """One uploaded file imported (or checked, for a dry run) as one user, in the background."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Not started")
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Running")
        DONE = "done", _("Finished")
        FAILED = "failed", _("Failed")
        UNDOING = "undoing", _("Undoing")
        UNDONE = "undone", _("Undone")

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    file_name = models.CharField(max_length=255)
    file_format = models.CharField(max_length=10)  # csv, xlsx, vcf
    file_size = models.BigIntegerField(default=0)
    encoding = models.CharField(max_length=20, blank=True)
    stored_path = models.CharField(max_length=500, blank=True)
    headers = models.JSONField(default=list)
    mapping = models.JSONField(default=dict)
    key = models.CharField(max_length=20, blank=True)
    dry_run = models.BooleanField(default=False)
    create_companies = models.BooleanField(default=False)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    # Rows created although they look like an existing record (ImportRow.duplicates): created all the same,
    # listed for review.
    duplicate_count = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    undone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["created_by", "id"], name="import_job_user_idx")]

    def __str__(self) -> str:
        return f"Import #{self.pk} ({self.file_name})"

    def get_absolute_url(self) -> str:
        return reverse("imports:import_detail", args=[self.pk])

    @property
    def percent(self) -> int:
        if self.status in {self.Status.DONE, self.Status.UNDONE}:
            return 100
        if not self.total_rows:
            return 0
        return min(100, int(self.processed_rows * 100 / self.total_rows))

    @property
    def finished(self) -> bool:
        return self.status in {self.Status.DONE, self.Status.FAILED, self.Status.UNDONE}

    @property
    def can_undo(self) -> bool:
        return (
            self.status in {self.Status.DONE, self.Status.FAILED}
            and not self.dry_run
            and bool(self.created_count or self.updated_count)
        )


class ImportRow(models.Model):
    """One line of the report: what happened to one row of the file (or to a company the import created).
    Every row of an order carries the order's outcome and id."""

    class Outcome(models.TextChoices):
        CREATED = "created", _("created")
        UPDATED = "updated", _("updated")
        SKIPPED = "skipped", _("skipped")
        ERROR = "error", _("error")

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="rows")
    row_number = models.PositiveIntegerField()  # 0: a company created to link contacts to
    object_type = models.CharField(max_length=20)  # contact, company, product or order
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    object_id = models.BigIntegerField(null=True, blank=True)
    errors = models.JSONField(default=dict, blank=True)
    before = models.JSONField(null=True, blank=True)
    # A created contact that probably duplicates existing ones: [{"id", "name", "score", "reasons"}].
    duplicates = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["job", "id"], name="import_row_job_idx")]

    def __str__(self) -> str:
        return f"{self.job_id}:{self.row_number} {self.outcome}"
