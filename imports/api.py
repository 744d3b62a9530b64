"""REST API of the imports app: one router, mounted in crm/api.py.

POST /imports takes a multipart upload (`file`) with the options as form fields; the import runs in the
background, so the answer is the job (status "pending") and GET /imports/{id} reports progress and counts.
"""

from __future__ import annotations

import csv
import datetime as dt

import orjson
from django.http import HttpRequest, StreamingHttpResponse
from ninja import File, Form, Router, Schema
from ninja.files import UploadedFile

from core.api import ERRORS, READ_ERRORS, json_response
from core.errors import ValidationError
from core.pagination import keyset_page, limit_clean

from . import queries, services
from .models import ImportJob

router = Router(tags=["imports"])


class ImportOut(Schema):
    id: int
    kind: str
    file_name: str
    file_format: str
    status: str
    dry_run: bool
    key: str
    mapping: dict[str, str]
    headers: list[str]
    create_companies: bool
    total_rows: int
    processed_rows: int
    percent: int
    created: int
    updated: int
    skipped: int
    errors: int
    possible_duplicates: int
    message: str
    created_by_id: int
    created_at: dt.datetime
    finished_at: dt.datetime | None = None
    undone_at: dt.datetime | None = None


class ImportListOut(Schema):
    items: list[ImportOut]
    next_cursor: str | None = None


def job_out(job: ImportJob) -> dict:
    return {
        "id": job.pk,
        "kind": job.kind,
        "file_name": job.file_name,
        "file_format": job.file_format,
        "status": job.status,
        "dry_run": job.dry_run,
        "key": job.key,
        "mapping": job.mapping,
        "headers": job.headers,
        "create_companies": job.create_companies,
        "total_rows": job.total_rows,
        "processed_rows": job.processed_rows,
        "percent": job.percent,
        "created": job.created_count,
        "updated": job.updated_count,
        "skipped": job.skipped_count,
        "errors": job.error_count,
        "possible_duplicates": job.duplicate_count,
        "message": job.message,
        "created_by_id": job.created_by_id,
        "created_at": job.created_at,
        "finished_at": job.finished_at,
        "undone_at": job.undone_at,
    }


@router.get("/imports", response={200: ImportListOut, **READ_ERRORS}, summary="List imports")
def import_list(request: HttpRequest, cursor: str | None = None, limit: int | None = None):
    rows, next_cursor = keyset_page(
        queries.import_list(request.auth), [("id", True)], cursor or None, limit_clean(limit)
    )
    return json_response({"items": [job_out(j) for j in rows], "next_cursor": next_cursor})


@router.post("/imports", response={201: ImportOut, **ERRORS}, summary="Upload a file and start an import")
def import_create(
    request: HttpRequest,
    file: UploadedFile | None = File(None),  # noqa: B008 - ninja's way to declare a file
    kind: str = Form("contacts"),
    mapping: str | None = Form(None),
    key: str | None = Form(None),
    template: str | None = Form(None),
    dry_run: bool = Form(False),
    create_companies: bool = Form(False),
):
    """`kind`: contacts, companies, products or orders. `mapping` is JSON text: {"column header": "field"};
    omitted, the columns whose headers name a field are mapped (as the wizard suggests). `key` (contacts:
    email, external_id; companies: domain, external_id, name; products: sku, the default when a column
    holds the SKU) turns matching rows into updates. Orders always match on their number: an order that
    exists already is skipped, not updated; their counts are orders, one file row per order line.
    `template` names a saved mapping template."""
    from core.visibility import require_create

    require_create(request.auth)
    parsed = None
    if mapping not in (None, ""):
        try:
            parsed = orjson.loads(mapping)
        except orjson.JSONDecodeError:
            raise ValidationError({"mapping": ["Send the mapping as a JSON object."]})
    job = services.import_create(
        actor=request.auth,
        kind=kind or "",
        upload=file,
        mapping=parsed,
        key=key,
        dry_run=dry_run,
        create_companies=create_companies,
        template=template,
    )
    return json_response(job_out(job), status=201)


@router.get(
    "/imports/{job_id}", response={200: ImportOut, **READ_ERRORS}, summary="Read an import's progress"
)
def import_get(request: HttpRequest, job_id: int):
    return json_response(job_out(queries.import_get(request.auth, job_id)))


@router.get(
    "/imports/{job_id}/report",
    response={200: str, **READ_ERRORS},
    summary="The per-row report as CSV",
    openapi_extra={"responses": {200: {"content": {"text/csv": {"schema": {"type": "string"}}}}}},
)
def import_report(request: HttpRequest, job_id: int):
    job = queries.import_get(request.auth, job_id)
    return report_response(job)


@router.post("/imports/{job_id}/undo", response={202: ImportOut, **ERRORS}, summary="Undo an import")
def import_undo(request: HttpRequest, job_id: int):
    job = services.import_undo(actor=request.auth, job_id=job_id)
    return json_response(job_out(job), status=202)


class _Echo:
    def write(self, value):
        return value


def report_response(job: ImportJob) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())
    lines = (writer.writerow(line) for line in queries.report_lines(job))
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-report.csv"'
    response["Cache-Control"] = "no-store"
    return response
