"""Visibility-matrix rows for the imports app (see tests/matrix/__init__.py).

The world adds a finished import started by `owner` (its one row was an error, so undoing it changes no
record) and a mapping template of `owner`'s. An import is seen by the person who started it and by
administrators: everyone else gets 404, whatever their role. Read-only users may not upload (403).
Uploading through the matrix sends no file, so writers get 400 naming `file`.
"""

from __future__ import annotations

from tests.matrix.rules import SEES, everyone, record, signed_in, writer, writers

MINE = {"owner", "admin"}


def mine(ok: int):
    """API: the import's creator and administrators."""
    return lambda actor: 401 if actor == "anonymous" else (ok if actor in MINE else 404)


def mine_page(ok: int):
    return lambda actor: 302 if actor == "anonymous" else (ok if actor in MINE else 404)


def _template_delete(actor: str) -> int:
    if actor == "anonymous":
        return 302
    if actor == "readonly":
        return 403
    return 302 if actor == "owner" else 404  # someone else's template does not exist for them


API: dict = {
    ("get", "/api/v1/imports"): (everyone(200), None),
    ("post", "/api/v1/imports"): (writers(400), lambda ctx: {"kind": "contacts"}),
    ("get", "/api/v1/imports/{job_id}"): (mine(200), None),
    ("get", "/api/v1/imports/{job_id}/report"): (mine(200), None),
    ("post", "/api/v1/imports/{job_id}/undo"): (mine(202), None),
}

PAGES: dict = {
    "imports:import_list": [("get", signed_in(200), None)],
    "imports:import_new": [("get", writer(200), None), ("post", writer(400), None)],
    "imports:template_list": [
        ("get", signed_in(200), None),
        ("post", _template_delete, lambda ctx: {"template_id": ctx["template"]}),
    ],
    "imports:import_detail": [("get", mine_page(200), None)],
    "imports:import_mapping": [("get", mine_page(302), None)],
    "imports:import_progress": [("get", mine_page(200), None)],
    "imports:import_report": [("get", mine_page(200), None)],
    "imports:import_undo": [("post", mine_page(302), None)],
    "imports:import_rerun": [("post", mine_page(302), None)],
    "imports:contact_vcard": [("get", record(SEES, 200), None)],
    "imports:contacts_vcard": [("get", signed_in(200), lambda ctx: {"ids": ctx["contact"]})],
}
PAGE_ARGS: dict = {
    "imports:import_detail": lambda ctx: [ctx["import_job"]],
    "imports:import_mapping": lambda ctx: [ctx["import_job"]],
    "imports:import_progress": lambda ctx: [ctx["import_job"]],
    "imports:import_report": lambda ctx: [ctx["import_job"]],
    "imports:import_undo": lambda ctx: [ctx["import_job"]],
    "imports:import_rerun": lambda ctx: [ctx["import_job"]],
    "imports:contact_vcard": lambda ctx: [ctx["contact"]],
}


def world(ctx: dict) -> None:
    """A finished import by `owner` whose only row failed, and a template of `owner`'s."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from imports.engine import job_run
    from imports.services import import_create, template_save

    owner = ctx["org"].owner
    job = import_create(
        actor=owner,
        kind="contacts",
        upload=SimpleUploadedFile("matrix.csv", b"Email\nnot-an-address\n"),
    )
    job_run(job.pk)
    template = template_save(actor=owner, kind="contacts", name="Matrix", mapping={"Email": "email"})
    ctx["import_job"] = job.pk
    ctx["template"] = template.pk
    ctx["ids"]["job_id"] = job.pk


def state() -> tuple:
    """Everything a refused call on this app's rows could have changed."""
    from imports.models import ImportJob, ImportRow, MappingTemplate

    return (
        list(ImportJob.objects.order_by("id").values("id", "status", "dry_run")),
        ImportRow.objects.count(),
        list(MappingTemplate.objects.order_by("id").values_list("id", flat=True)),
    )
