"""Models of the dedupe app: groups of likely duplicates found by the whole-database job, and merges
(with the before-image that undo restores).

Members and merges name records by id, not by foreign key: a merge moves every foreign key that points to
a contact or a company, and the dedupe app's own rows must not be moved with them.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    CONTACT = "contact", _("Contacts")
    COMPANY = "company", _("Companies")


class DuplicateGroup(models.Model):
    """Records that are probably the same person or organisation, with a score 0–100 and the reasons."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        MERGED = "merged", _("Merged")
        DISMISSED = "dismissed", _("Dismissed")

    kind = models.CharField(max_length=10, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    score = models.PositiveSmallIntegerField()
    reasons = models.JSONField(default=list, blank=True)
    size = models.PositiveIntegerField(default=2)
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    merge = models.ForeignKey("Merge", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        indexes = [models.Index(fields=["kind", "status", "-score", "id"], name="dedupe_group_list_idx")]

    def __str__(self) -> str:
        return f"{self.kind} group {self.pk} ({self.score})"


class DuplicateMember(models.Model):
    group = models.ForeignKey(DuplicateGroup, on_delete=models.CASCADE, related_name="members")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    object_id = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["kind", "object_id"], name="dedupe_member_object_idx")]
        constraints = [
            models.UniqueConstraint(fields=["group", "object_id"], name="dedupe_member_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.object_id}"


class Merge(models.Model):
    """One merge: which records went into which survivor, and everything needed to undo it.

    `before` holds the before-image: the survivor's columns and related lists that changed, every moved
    foreign-key value (model, pk, field, old value), the link rows removed because the survivor already had
    an equal one, and the others' columns (archived and marked as merged here)."""

    kind = models.CharField(max_length=10, choices=Kind.choices)
    survivor_id = models.BigIntegerField()
    other_ids = models.JSONField(default=list)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    survivor_version = models.PositiveIntegerField(default=0)
    before = models.JSONField(default=dict)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["kind", "survivor_id"], name="dedupe_merge_survivor_idx")]

    def __str__(self) -> str:
        return f"merge {self.pk}: {self.other_ids} → {self.survivor_id}"


class MergedRecord(models.Model):
    """ "This record was merged into that one": one row per absorbed record of a merge not undone."""

    kind = models.CharField(max_length=10, choices=Kind.choices)
    object_id = models.BigIntegerField()
    merge = models.ForeignKey(Merge, on_delete=models.CASCADE, related_name="absorbed")
    survivor_id = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["kind", "object_id"], name="dedupe_merged_object_idx")]

    def __str__(self) -> str:
        return f"{self.kind}:{self.object_id} → {self.survivor_id}"
