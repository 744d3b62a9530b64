"""Writes of the imports app: uploading a file, configuring and starting an import, undoing it, and the
saved mapping templates. The import itself runs in the background (imports.tasks → imports.engine)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from django.conf import settings
from django.db import transaction

from core.errors import PermissionDeniedError, ValidationError
from core.services import raise_if
from core.visibility import require_create, role_of

from . import files
from .mapping import KEYS, mapping_clean, suggest
from .models import ImportJob, Kind, MappingTemplate

DEFAULT_MAX_BYTES = 50 * 1024 * 1024


def max_upload_bytes() -> int:
    return int(getattr(settings, "CRM_IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES))


def upload_dir() -> Path:
    path = Path(settings.VAR_DIR) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _bool(value) -> bool:
    if isinstance(value, bool):
        return value
    return str(value or "").strip().lower() in {"1", "true", "yes", "on"}


def _kind_clean(kind) -> str:
    if kind not in Kind.values:
        raise ValidationError({"kind": [f"Choose one of: {', '.join(Kind.values)}."]})
    return kind


def import_upload(*, actor, kind: str, upload, file_name: str | None = None) -> ImportJob:
    """Store an uploaded file (a Django UploadedFile or any binary file object with `.name`), read it once
    to check it, and create a draft job with the suggested mapping. Bad files are refused as a whole."""
    require_create(actor)
    errors: dict[str, list[str]] = {}
    if kind not in Kind.values:
        errors["kind"] = [f"Choose one of: {', '.join(Kind.values)}."]
    if upload is None:
        errors["file"] = ["Choose a file to upload."]
    raise_if(errors)
    if kind == Kind.PRODUCTS:
        _catalogue_writer_require(actor)
    name = os.path.basename(file_name or getattr(upload, "name", "") or "upload.csv")[:255]
    fmt = files.format_of(name)
    if fmt == "vcf" and kind != Kind.CONTACTS:
        raise ValidationError({"file": ["vCard files hold contacts: choose contacts."]})
    limit = max_upload_bytes()
    size = getattr(upload, "size", None)
    if size is not None and size > limit:
        raise files.file_error(_too_big(limit))
    target = upload_dir() / f"{uuid.uuid4().hex}.{fmt}"
    written = 0
    try:
        with open(target, "wb") as out:
            chunks = upload.chunks() if hasattr(upload, "chunks") else iter(lambda: upload.read(1 << 20), b"")
            for chunk in chunks:
                written += len(chunk)
                if written > limit:
                    raise files.file_error(_too_big(limit))
                out.write(chunk)
        inspection = files.inspect(str(target), fmt)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    headers = inspection.headers
    mapping = suggest(kind, headers) if fmt != "vcf" else {}
    job = ImportJob.objects.create(
        created_by=actor,
        kind=kind,
        file_name=name,
        file_format=fmt,
        file_size=written,
        stored_path=str(target),
        encoding=inspection.encoding,
        headers=headers,
        mapping=mapping,
        key=_default_key(kind, fmt, mapping),
        total_rows=inspection.total_rows,
    )
    job.preview = inspection.preview
    return job


def _default_key(kind: str, fmt: str, mapping: dict[str, str]) -> str:
    """vCards match on e-mail; products on the SKU when a column holds it; orders always on the number."""
    if fmt == "vcf":
        return "email"
    if kind == Kind.PRODUCTS and "sku" in mapping.values():
        return "sku"
    if kind == Kind.ORDERS:
        return "number"
    return ""


def _catalogue_writer_require(actor) -> None:
    from commerce.queries import can_change_products

    if not can_change_products(actor):
        raise PermissionDeniedError("Only administrators and managers may change the catalogue.")


def _too_big(limit: int) -> str:
    return f"The file is larger than the limit of {limit / 1024 / 1024:,.0f} MB. Split it into smaller files."


def import_configure(
    *, actor, job_id: int, mapping=None, key=None, dry_run=None, create_companies=None, template=None
) -> ImportJob:
    """Set a draft job's mapping (or a template's), key and options; everything checked at once."""
    job = _job_for(actor, job_id)
    if job.status != ImportJob.Status.DRAFT:
        raise ValidationError({"status": ["This import has already started."]})
    if template not in (None, ""):
        saved = template_get(actor, job.kind, template)
        mapping = {h: f for h, f in saved.mapping.items() if h in job.headers} if mapping is None else mapping
        key = saved.key if key is None else key
    if job.file_format == "vcf":
        if key not in (None, "", "email", "external_id"):
            raise ValidationError({"key": ["Choose email, external_id or none."]})
        job.key = key if key is not None else job.key
    else:
        job.mapping, job.key = mapping_clean(
            job.kind,
            job.headers,
            job.mapping if mapping is None else mapping,
            job.key if key is None else key,
        )
    if dry_run is not None:
        job.dry_run = _bool(dry_run)
    if create_companies is not None:
        job.create_companies = _bool(create_companies) and job.kind in (Kind.CONTACTS, Kind.COMPANIES)
    job.save(update_fields=["mapping", "key", "dry_run", "create_companies"])
    return job


def import_start(*, actor, job_id: int) -> ImportJob:
    """Queue a configured draft for the background worker."""
    from .tasks import import_run

    job = _job_for(actor, job_id)
    if job.status != ImportJob.Status.DRAFT:
        raise ValidationError({"status": ["This import has already started."]})
    if job.file_format != "vcf":
        mapping_clean(job.kind, job.headers, job.mapping, job.key)
    job.status = ImportJob.Status.PENDING
    job.save(update_fields=["status"])
    transaction.on_commit(lambda: import_run.enqueue(job.pk))
    return job


def import_create(
    *,
    actor,
    kind: str,
    upload,
    file_name=None,
    mapping=None,
    key=None,
    dry_run=False,
    create_companies=False,
    template=None,
    start: bool = True,
) -> ImportJob:
    """Upload, configure and start in one call (the API, `crm import`). Nothing is kept on any error."""
    job = import_upload(actor=actor, kind=kind, upload=upload, file_name=file_name)
    try:
        job = import_configure(
            actor=actor,
            job_id=job.pk,
            mapping=mapping,
            key=key,
            dry_run=dry_run,
            create_companies=create_companies,
            template=template,
        )
    except BaseException:
        import_discard(job)
        raise
    if start:
        job = import_start(actor=actor, job_id=job.pk)
    return job


def import_rerun(*, actor, job_id: int) -> ImportJob:
    """After a dry run: the same file and settings, for real."""
    source = _job_for(actor, job_id)
    if not source.dry_run or source.status != ImportJob.Status.DONE:
        raise ValidationError({"status": ["Only a finished dry run can be run for real."]})
    if not source.stored_path or not os.path.exists(source.stored_path):
        raise ValidationError({"file": ["The uploaded file is no longer available: upload it again."]})
    job = ImportJob.objects.create(
        created_by=actor,
        **{
            f: getattr(source, f)
            for f in (
                "kind",
                "file_name",
                "file_format",
                "file_size",
                "stored_path",
                "encoding",
                "headers",
                "mapping",
                "key",
                "create_companies",
                "total_rows",
            )
        },
        dry_run=False,
    )
    return import_start(actor=actor, job_id=job.pk)


def import_undo(*, actor, job_id: int) -> ImportJob:
    """Queue the undo of a finished import (its creator or an administrator)."""
    from .tasks import import_undo_run

    job = _job_for(actor, job_id)
    require_create(actor)
    if job.kind == Kind.PRODUCTS:
        _catalogue_writer_require(actor)
    if job.dry_run:
        raise ValidationError({"status": ["A dry run wrote nothing: there is nothing to undo."]})
    undoable = (ImportJob.Status.DONE, ImportJob.Status.FAILED)  # a failed import keeps its committed rows
    if job.status not in undoable:
        raise ValidationError({"status": ["Only a finished import can be undone."]})
    updated = ImportJob.objects.filter(pk=job.pk, status__in=undoable).update(status=ImportJob.Status.UNDOING)
    if not updated:
        raise ValidationError({"status": ["This import is already being undone."]})
    job.status = ImportJob.Status.UNDOING
    actor_id = actor.pk
    transaction.on_commit(lambda: import_undo_run.enqueue(job.pk, actor_id))
    return job


def import_discard(job: ImportJob) -> None:
    if (
        job.stored_path
        and not ImportJob.objects.filter(stored_path=job.stored_path).exclude(pk=job.pk).exists()
    ):
        Path(job.stored_path).unlink(missing_ok=True)
    job.delete()


def _job_for(actor, job_id) -> ImportJob:
    from .queries import import_get

    return import_get(actor, job_id)


# ---------------------------------------------------------------------------------------------------------
# Mapping templates


def template_get(actor, kind: str, ref) -> MappingTemplate:
    queryset = MappingTemplate.objects.filter(owner=actor, kind=kind)
    found = None
    if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
        found = queryset.filter(pk=int(ref)).first()
    if found is None and isinstance(ref, str):
        found = queryset.filter(name=ref.strip()).first()
    if found is None:
        raise ValidationError({"template": ["No mapping template with this name or id."]})
    return found


def template_save(*, actor, kind: str, name: str, mapping, key: str = "") -> MappingTemplate:
    """Create or replace the actor's template `name` for `kind`."""
    require_create(actor)
    errors: dict[str, list[str]] = {}
    if kind not in Kind.values:
        errors["kind"] = [f"Choose one of: {', '.join(Kind.values)}."]
        raise_if(errors)
    name = (name or "").strip() if isinstance(name, str) else ""
    if not name:
        errors["name"] = ["Give the template a name."]
    elif len(name) > 100:
        errors["name"] = ["At most 100 characters."]
    if not isinstance(mapping, dict) or not mapping:
        errors["mapping"] = ["Map at least one column."]
    else:
        headers = [h for h in mapping if isinstance(h, str)]
        try:
            mapping, key = mapping_clean(kind, headers, mapping, key or "")
        except ValidationError as exc:
            errors.update(exc.errors)
    if key and key not in KEYS.get(kind, {}):
        errors["key"] = ["Unknown key."]
    raise_if(errors)
    template, _ = MappingTemplate.objects.update_or_create(
        owner=actor, kind=kind, name=name, defaults={"mapping": mapping, "key": key or ""}
    )
    return template


def template_delete(*, actor, template_id: int) -> None:
    deleted, _ = MappingTemplate.objects.filter(owner=actor, pk=template_id).delete()
    if not deleted:
        from core.errors import NotFoundError

        raise NotFoundError()


def can_manage(actor, job: ImportJob) -> bool:
    return role_of(actor) == "admin" or job.created_by_id == actor.pk
