"""Reads of the imports app. An import is seen by the person who started it and by administrators (it
holds their file and its report); everyone else gets "not found"."""

from __future__ import annotations

from core.errors import NotFoundError
from core.visibility import role_of

from .models import ImportJob, ImportRow, MappingTemplate


def import_list(user):
    role = role_of(user)
    if role is None:
        return ImportJob.objects.none()
    queryset = ImportJob.objects.select_related("created_by")
    return queryset if role == "admin" else queryset.filter(created_by=user)


def import_get(user, job_id) -> ImportJob:
    try:
        return import_list(user).get(pk=int(job_id))
    except (ImportJob.DoesNotExist, TypeError, ValueError):
        raise NotFoundError()


def import_rows(user, job_id):
    job = import_get(user, job_id)
    return job, ImportRow.objects.filter(job=job).order_by("id")


def template_list(user, kind: str | None = None):
    queryset = MappingTemplate.objects.filter(owner=user)
    return queryset.filter(kind=kind) if kind else queryset


REPORT_HEADER = ["row", "outcome", "record_type", "record_id", "field", "message"]


def duplicate_text(suspect: dict) -> str:
    """One possible duplicate of a created row, in words: "#12 Maria Müller (score 92: Same phone number)",
    or for an earlier row of the file "#40 Maria Muller, row 7 of this file (score …)"."""
    reasons = ", ".join(suspect.get("reasons") or [])
    name = suspect.get("name", "")
    if suspect.get("row"):  # an earlier row of the same file
        record = f"#{suspect['id']} " if suspect.get("id") else ""
        return f"{record}{name}, row {suspect['row']} of this file (score {suspect.get('score')}: {reasons})"
    return f"#{suspect['id']} {name} (score {suspect.get('score')}: {reasons})"


def report_lines(job: ImportJob):
    """The per-row report as CSV rows: one line per row, one per bad field for error rows and one per
    possible duplicate for created rows that look like an existing record (field "possible_duplicate"),
    escaped against spreadsheet formulas like every export."""
    from core.tables import csv_cell

    yield REPORT_HEADER
    rows = (
        ImportRow.objects.filter(job=job)
        .order_by("id")
        .values_list("row_number", "outcome", "object_type", "object_id", "errors", "duplicates")
    )
    for number, outcome, object_type, object_id, errors, duplicates in rows.iterator(chunk_size=5000):
        base = [number or "", outcome, object_type, object_id or ""]
        if errors:
            for field, messages in errors.items():
                yield [*base, "" if field == "__all__" else field, csv_cell(" ".join(messages))]
        elif duplicates:
            for suspect in duplicates:
                yield [*base, "possible_duplicate", csv_cell(duplicate_text(suspect))]
        else:
            yield [*base, "", ""]
