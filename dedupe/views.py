"""The review pages of the dedupe app (htmx), over the same queries and services as the API."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _

from contacts.models import Contact, ContactEmail, ContactPhone
from core.errors import ValidationError
from core.normalize import phone_display
from core.pagination import keyset_page
from core.views import crm_view, error_messages, require_writer
from core.visibility import can, role_of

from . import queries, services
from .models import DuplicateGroup, Kind

PAGE_SIZE = 25
CONTACT_ROWS = [
    ("prefix", _("Prefix")),
    ("first_name", _("First name")),
    ("middle_name", _("Middle name")),
    ("last_name", _("Last name")),
    ("suffix", _("Suffix")),
    ("job_title", _("Job title")),
    ("company_id", _("Company")),
    ("birthday", _("Birthday")),
    ("lifecycle_stage", _("Stage")),
    ("source", _("Source")),
    ("external_id", _("External id")),
    ("owner_id", _("Owner")),
]
COMPANY_ROWS = [
    ("name", _("Name")),
    ("domain", _("Domain")),
    ("industry", _("Industry")),
    ("size", _("Size")),
    ("annual_revenue", _("Annual revenue")),
    ("currency", _("Currency")),
    ("phone", _("Phone")),
    ("website", _("Website")),
    ("description", _("Description")),
    ("parent_id", _("Parent company")),
    ("external_id", _("External id")),
    ("owner_id", _("Owner")),
]


def _kind(request) -> str:
    kind = request.GET.get("kind") or request.POST.get("kind") or Kind.CONTACT
    return kind if kind in Kind.values else Kind.CONTACT


def _display(record, name: str) -> str:
    if name == "company_id":
        return record.company.name if record.company_id else ""
    if name == "parent_id":
        return record.parent.name if record.parent_id else ""
    if name == "owner_id":
        return record.owner.display_name if record.owner_id else ""
    if name == "phone" and not isinstance(record, Contact):
        return phone_display(record.phone)
    value = getattr(record, name)
    if hasattr(record, f"get_{name}_display"):
        return getattr(record, f"get_{name}_display")() if value else ""
    return "" if value is None else str(value)


def _summary(record) -> list[str]:
    if isinstance(record, Contact):
        return [p for p in (record.email, phone_display(record.phone), record.job_title) if p]
    return [p for p in (record.domain, record.industry, phone_display(record.phone)) if p]


@crm_view("GET")
def group_list(request):
    user = request.user
    kind = _kind(request)
    try:
        min_score = int(request.GET.get("min_score") or 0)
    except ValueError:
        min_score = 0
    groups, next_cursor = keyset_page(
        queries.group_list(user, kind=kind, min_score=min_score),
        [("score", True), ("id", False)],
        request.GET.get("cursor") or None,
        PAGE_SIZE,
    )
    records = queries.group_records(groups)
    rows = [
        {
            "group": g,
            "records": [{"record": r, "summary": _summary(r)} for r in records.get(g.pk, [])],
        }
        for g in groups
    ]
    context = {
        "title": _("Duplicates"),
        "kind": kind,
        "kinds": Kind.choices,
        "rows": rows,
        "min_score": min_score or "",
        "next_cursor": next_cursor,
        "paged": bool(request.GET.get("cursor")),
        "is_admin": role_of(user) == "admin",
        "can_write": role_of(user) in {"admin", "manager", "member"},
    }
    return render(request, "dedupe/group_list.html", context)


def _compare(kind: str, records: list) -> list[dict]:
    rows_spec = CONTACT_ROWS if kind == Kind.CONTACT else COMPANY_ROWS
    rows = []
    for name, label in rows_spec:
        values = [_display(r, name) for r in records]
        if not any(values):
            continue
        rows.append(
            {
                "name": name,
                "label": label,
                "cells": [{"id": r.pk, "value": v} for r, v in zip(records, values, strict=True)],
                "differs": len(set(values)) > 1,
            }
        )
    if kind == Kind.CONTACT:  # united by the merge, shown for comparison only
        ids = [r.pk for r in records]
        for model, column, label in (
            (ContactEmail, "email", _("E-mail addresses")),
            (ContactPhone, "number", _("Phone numbers")),
        ):
            values: dict[int, list[str]] = {pk: [] for pk in ids}
            for contact_id, value in model.objects.filter(contact_id__in=ids).values_list(
                "contact_id", column
            ):
                values[contact_id].append(phone_display(value) if column == "number" else value)
            if any(values.values()):
                cells = [{"id": pk, "value": ", ".join(values[pk])} for pk in ids]
                rows.append({"name": column, "label": label, "cells": cells, "differs": False})
    return rows


def _default_winners(kind: str, records: list) -> dict[str, int]:
    """The record whose value the merge takes by default, per field (as the service decides)."""
    recent = sorted(records, key=lambda r: (r.updated_at, r.pk), reverse=True)
    winners = {}
    for name, _label in CONTACT_ROWS if kind == Kind.CONTACT else COMPANY_ROWS:
        if name in services.SURVIVOR_DEFAULT:
            continue
        winner = next((r for r in recent if getattr(r, name) not in (None, "")), None)
        if winner is not None:
            winners[name] = winner.pk
    return winners


@crm_view("GET", "POST")
def group_detail(request, pk):
    user = request.user
    group, records = queries.group_get(user, pk)
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        require_writer(user)
        queries.group_get(user, pk, "change")
        choices = {
            name[len("choice_") :]: value
            for name, value in request.POST.items()
            if name.startswith("choice_") and value
        }
        try:
            merge = services.group_merge(
                actor=user,
                group_id=group.pk,
                survivor_id=request.POST.get("survivor_id") or None,
                field_choices=choices,
            )
        except ValidationError as exc:
            errors = error_messages(exc.errors)
            status = 400
        else:
            messages.success(request, _("Merged. You can undo this while nobody changes the records."))
            return redirect("dedupe:merge_detail", merge.pk)
    survivor_id = int(request.POST.get("survivor_id") or 0) or min(r.pk for r in records)
    context = {
        "title": _("Review duplicates"),
        "group": group,
        "records": records,
        "kind": group.kind,
        "survivor_id": survivor_id,
        "compare": _compare(group.kind, records),
        "winners": _default_winners(group.kind, records),
        "can_merge": group.status == DuplicateGroup.Status.OPEN
        and can(user, "change", records[0])
        and all(can(user, "delete", r) for r in records),
        "can_dismiss": group.status == DuplicateGroup.Status.OPEN
        and all(can(user, "change", r) for r in records),
        "errors": errors,
    }
    return render(request, "dedupe/group_detail.html", context, status=status)


@crm_view("POST")
def group_dismiss(request, pk):
    services.group_dismiss(actor=request.user, group_id=pk)
    messages.success(request, _("Dismissed. These records will not be proposed together again."))
    return redirect(f"{reverse('dedupe:group_list')}?kind={_kind(request)}")


@crm_view("POST")
def merge_above(request):
    kind = _kind(request)
    result = services.groups_merge_above(
        actor=request.user, kind=kind, min_score=request.POST.get("min_score", "")
    )
    if result["queued"]:
        messages.success(
            request, _("Merging %(n)s groups in the background.") % {"n": f"{result['queued']:,}"}
        )
    else:
        messages.success(
            request,
            _("Merged %(merged)s groups; skipped %(skipped)s.")
            % {"merged": result["merged"], "skipped": result["skipped"]},
        )
    return redirect(f"{reverse('dedupe:group_list')}?kind={kind}")


@crm_view("POST")
def run(request):
    kinds = services.dedupe_run(actor=request.user, kind=request.POST.get("kind") or None)
    messages.success(
        request, _("Looking for duplicates among %(what)s in the background.") % {"what": ", ".join(kinds)}
    )
    return redirect("dedupe:group_list")


@crm_view("GET")
def merge_detail(request, pk):
    user = request.user
    merge = queries.merge_get(user, pk)
    model = queries.MODELS[merge.kind]
    records = {r.pk: r for r in model.objects.filter(pk__in=[merge.survivor_id, *merge.other_ids])}
    context = {
        "title": _("Merge"),
        "merge": merge,
        "survivor": records.get(merge.survivor_id),
        "others": [records[i] for i in merge.other_ids if i in records],
        "can_undo": merge.undone_at is None
        and can(user, "change", records[merge.survivor_id])
        and all(can(user, "delete", records[i]) for i in merge.other_ids),
    }
    return render(request, "dedupe/merge_detail.html", context)


@crm_view("POST")
def merge_undo(request, pk):
    merge = services.merge_undo(actor=request.user, merge_id=pk)
    messages.success(request, _("Undone: the records are as they were before the merge."))
    model = queries.MODELS[merge.kind]
    return redirect(model(pk=merge.survivor_id).get_absolute_url())


# ---------------------------------------------------------------------------------------------------------
# Warnings on the create forms (htmx: the form posts its fields here when they change)


def _check(request, candidates, noun: str) -> HttpResponse:
    html = render_to_string(
        "dedupe/warning.html",
        {"candidates": [{"c": c, "summary": _summary(c.record)} for c in candidates], "noun": noun},
        request=request,
    )
    return HttpResponse(html)


@crm_view("POST")
def contact_check(request):
    data = {
        "first_name": request.POST.get("first_name", ""),
        "last_name": request.POST.get("last_name", ""),
        "emails": [request.POST.get("email", ""), *request.POST.get("other_emails", "").splitlines()],
        "phones": [request.POST.get("phone", ""), *request.POST.get("other_phones", "").splitlines()],
        "company_id": request.POST.get("company") or None,
    }
    return _check(request, queries.contact_duplicates(request.user, data), _("contact"))


@crm_view("POST")
def company_check(request):
    data = {k: request.POST.get(k, "") for k in ("name", "domain", "website", "phone")}
    return _check(request, queries.company_duplicates(request.user, data), _("company"))


def warning_context(request, kind: str, data: dict) -> list:
    """Candidates for a create form that came back with errors (so the panel stays filled)."""
    finder = queries.contact_duplicates if kind == Kind.CONTACT else queries.company_duplicates
    return [{"c": c, "summary": _summary(c.record)} for c in finder(request.user, data)]
