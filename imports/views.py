"""Pages of the imports app: the list of imports, the wizard (upload → mapping with preview and options →
run), the progress page (htmx polling), the report download, undo, mapping templates, and vCard
downloads of contacts."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from contacts.models import Company, Contact
from core.errors import ValidationError
from core.views import crm_view, error_messages, require_writer
from core.visibility import get_for, restrict

from . import files, queries, services
from .api import report_response
from .mapping import FIELDS, KEYS
from .models import ImportJob, ImportRow, Kind
from .vcard import contact_vcard

ERROR_PREVIEW = 50


@crm_view("GET")
def import_list(request):
    jobs = list(queries.import_list(request.user)[:200])
    return render(request, "imports/import_list.html", {"title": _("Imports"), "jobs": jobs})


@crm_view("GET", "POST")
def import_new(request):
    require_writer(request.user)
    errors: list[str] = []
    kind = request.POST.get("kind") or request.GET.get("kind") or Kind.CONTACTS
    if request.method == "POST":
        try:
            job = services.import_upload(actor=request.user, kind=kind, upload=request.FILES.get("file"))
        except ValidationError as exc:
            errors = error_messages(exc.errors)
        else:
            return redirect("imports:import_mapping", pk=job.pk)
    context = {
        "title": _("New import"),
        "kinds": Kind.choices,
        "kind": kind,
        "errors": errors,
        "max_mb": services.max_upload_bytes() // (1024 * 1024),
    }
    return render(request, "imports/import_new.html", context, status=400 if errors else 200)


@crm_view("GET", "POST")
def import_mapping(request, pk):
    job = queries.import_get(request.user, pk)
    require_writer(request.user)
    if job.status != ImportJob.Status.DRAFT:
        return redirect(job.get_absolute_url())
    errors: dict[str, list[str]] = {}
    mapping = dict(job.mapping)
    key = job.key
    if request.method == "POST":
        mapping = {h: request.POST.get(f"map_{i}", "") for i, h in enumerate(job.headers)}
        key = request.POST.get("key", "")
        try:
            template = request.POST.get("template", "")
            job = services.import_configure(
                actor=request.user,
                job_id=job.pk,
                mapping=None if template else mapping,
                key=None if template else key,
                template=template or None,
                dry_run=request.POST.get("dry_run") == "1",
                create_companies=request.POST.get("create_companies") == "1",
            )
            if template:
                return redirect("imports:import_mapping", pk=job.pk)
            name = request.POST.get("template_name", "").strip()
            if name and job.file_format != "vcf":
                services.template_save(
                    actor=request.user, kind=job.kind, name=name, mapping=job.mapping, key=job.key
                )
            services.import_start(actor=request.user, job_id=job.pk)
        except ValidationError as exc:
            errors = exc.errors
        else:
            return redirect(job.get_absolute_url())
    preview = []
    if job.file_format != "vcf":
        for _number, cells in files.data_rows(job.stored_path, job.file_format, job.encoding):
            preview.append(cells)
            if len(preview) >= files.PREVIEW_ROWS:
                break
    columns = [
        {
            "index": i,
            "header": h,
            "target": mapping.get(h, ""),
            "samples": [row[i] for row in preview if i < len(row) and row[i]][:3],
            "errors": errors.get(f"mapping.{h}", []),
        }
        for i, h in enumerate(job.headers)
    ]
    context = {
        "title": _("Map the columns"),
        "job": job,
        "columns": columns,
        "fields": [(name, label) for name, label, _s in FIELDS[job.kind]],
        "keys": KEYS[job.kind].items(),
        "key": key,
        "preview": preview,
        "templates": queries.template_list(request.user, job.kind),
        "errors": [m for k, ms in errors.items() if not k.startswith("mapping.") for m in ms],
        "has_errors": bool(errors),
    }
    return render(request, "imports/import_mapping.html", context, status=400 if errors else 200)


def _detail_context(request, job: ImportJob) -> dict:
    problems = list(
        ImportRow.objects.filter(job=job, outcome=ImportRow.Outcome.ERROR).order_by("id")[:ERROR_PREVIEW]
    )
    suspects = []
    if job.duplicate_count:
        suspects = list(
            ImportRow.objects.filter(job=job, outcome=ImportRow.Outcome.CREATED, object_id__isnull=False)
            .exclude(duplicates=[])
            .order_by("id")[:ERROR_PREVIEW]
        )
        # The created records' names, for the ones the viewer may see (the importer, or an admin).
        model = Company if job.kind == Kind.COMPANIES else Contact
        created = restrict(model.objects.filter(pk__in=[r.object_id for r in suspects]), request.user)
        if model is Contact:
            created = created.only("prefix", "first_name", "middle_name", "last_name", "suffix", "email")
        names = {record.pk: str(record) for record in created}
        for row in suspects:
            row.created_name = names.get(row.object_id, "")
    return {
        "title": str(job),
        "job": job,
        "problems": problems,
        "suspects": suspects,
        "duplicates_url": reverse("dedupe:group_list")
        + ("?kind=company" if job.kind == Kind.COMPANIES else ""),
        "detail_view": "contacts:company_detail" if job.kind == Kind.COMPANIES else "contacts:contact_detail",
        "can_manage": services.can_manage(request.user, job),
    }


@crm_view("GET")
def import_detail(request, pk):
    job = queries.import_get(request.user, pk)
    return render(request, "imports/import_detail.html", _detail_context(request, job))


@crm_view("GET")
def import_progress(request, pk):
    job = queries.import_get(request.user, pk)
    return render(request, "imports/_progress.html", _detail_context(request, job))


@crm_view("GET")
def import_report(request, pk):
    return report_response(queries.import_get(request.user, pk))


@crm_view("POST")
def import_undo(request, pk):
    try:
        job = services.import_undo(actor=request.user, job_id=pk)
    except ValidationError as exc:
        for message in error_messages(exc.errors):
            messages.error(request, message)
        return redirect("imports:import_detail", pk=pk)
    messages.success(request, _("The import is being undone."))
    return redirect(job.get_absolute_url())


@crm_view("POST")
def import_rerun(request, pk):
    try:
        job = services.import_rerun(actor=request.user, job_id=pk)
    except ValidationError as exc:
        for message in error_messages(exc.errors):
            messages.error(request, message)
        return redirect("imports:import_detail", pk=pk)
    return redirect(job.get_absolute_url())


@crm_view("GET", "POST")
def template_list(request):
    if request.method == "POST":
        require_writer(request.user)
        services.template_delete(actor=request.user, template_id=_int(request.POST.get("template_id")))
        messages.success(request, _("Deleted the mapping template."))
        return redirect("imports:template_list")
    templates = list(queries.template_list(request.user))
    return render(
        request, "imports/template_list.html", {"title": _("Mapping templates"), "templates": templates}
    )


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


# ---------------------------------------------------------------------------------------------------------
# vCard downloads


def _version(request) -> str:
    version = request.GET.get("version", "4.0")
    if version not in {"3.0", "4.0"}:
        raise ValidationError({"version": [_("Choose vCard version 3.0 or 4.0.")]})
    return version


def _vcard_queryset(queryset):
    return queryset.select_related("company").prefetch_related("emails", "phones", "addresses", "tags")


def _vcf_response(text: str, filename: str) -> HttpResponse:
    response = HttpResponse(text, content_type="text/vcard; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@crm_view("GET")
def contact_vcard_download(request, pk):
    version = _version(request)
    contact = get_for(request.user, _vcard_queryset(Contact.objects.all()), pk, "view")
    return _vcf_response(contact_vcard(contact, version), f"contact-{contact.pk}.vcf")


MAX_VCARDS = 10_000


@crm_view("GET", "POST")
def contacts_vcard_download(request):
    """The selected contacts (`ids`, as the list's checkboxes send them) as one .vcf file."""
    version = _version(request)
    source = request.POST if request.method == "POST" else request.GET
    ids = [_int(i) for i in source.getlist("ids") for i in str(i).split(",") if str(i).strip()]
    if not ids:
        raise ValidationError({"ids": [_("Select at least one contact.")]})
    if len(ids) > MAX_VCARDS:
        raise ValidationError({"ids": [_("At most 10,000 contacts at a time.")]})
    contacts = restrict(_vcard_queryset(Contact.objects.filter(pk__in=ids)), request.user, "view").order_by(
        "id"
    )
    text = "".join(contact_vcard(c, version) for c in contacts)
    return _vcf_response(text, "contacts.vcf")
