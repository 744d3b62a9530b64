"""REST API of the dedupe app: one router, mounted in crm/api.py."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router

from contacts.models import Contact
from core.api import ERRORS, READ_ERRORS, json_response
from core.errors import ValidationError
from core.pagination import keyset_page, limit_clean

from . import queries, services
from .models import DuplicateGroup, Merge
from .schemas import (
    CandidateListOut,
    CompanyCheckIn,
    ContactCheckIn,
    GroupListOut,
    GroupMergeIn,
    GroupOut,
    MergeAboveIn,
    MergeAboveOut,
    MergeIn,
    MergeOut,
    RunIn,
    RunOut,
)

router = Router(tags=["dedupe"])


def record_ref(record) -> dict:
    if isinstance(record, Contact):
        detail = " · ".join(p for p in (record.email, record.company.name if record.company_id else "") if p)
    else:
        detail = record.domain
    return {"id": record.pk, "name": str(record), "url": record.get_absolute_url(), "detail": detail}


def candidates_out(candidates) -> dict:
    return {"items": [{**record_ref(c.record), "score": c.score, "reasons": c.reasons} for c in candidates]}


def merge_out(merge: Merge) -> dict:
    model = queries.MODELS[merge.kind]
    return {
        "id": merge.pk,
        "kind": merge.kind,
        "survivor_id": merge.survivor_id,
        "other_ids": merge.other_ids,
        "created_at": merge.created_at,
        "undone_at": merge.undone_at,
        "survivor_url": model(pk=merge.survivor_id).get_absolute_url(),
    }


def group_out(group: DuplicateGroup, records: list) -> dict:
    return {
        "id": group.pk,
        "kind": group.kind,
        "status": group.status,
        "score": group.score,
        "reasons": group.reasons,
        "records": [record_ref(r) for r in records],
    }


def _payload(schema_obj) -> dict:
    return schema_obj.model_dump(exclude_unset=True, mode="python")


@router.post(
    "/contacts/duplicates", response={200: CandidateListOut, **READ_ERRORS}, summary="Check for duplicates"
)
def contact_duplicates(request: HttpRequest, payload: ContactCheckIn):
    """The visible contacts the payload (as for `POST /contacts`) probably duplicates, best first. Creates
    nothing."""
    return json_response(candidates_out(queries.contact_duplicates(request.auth, _payload(payload))))


@router.post(
    "/companies/duplicates", response={200: CandidateListOut, **READ_ERRORS}, summary="Check for duplicates"
)
def company_duplicates(request: HttpRequest, payload: CompanyCheckIn):
    return json_response(candidates_out(queries.company_duplicates(request.auth, _payload(payload))))


@router.post("/contacts/merge", response={200: MergeOut, **ERRORS}, summary="Merge contacts")
def contacts_merge(request: HttpRequest, payload: MergeIn):
    """Keeps `survivor_id`, archives `other_ids` as merged into it and moves everything that points to
    them. `field_choices` maps a field (or `custom.<key>`) to the id of the record whose value wins.
    Needs the right to change the survivor and to archive the others."""
    merge = services.contacts_merge(actor=request.auth, **_payload(payload))
    return json_response(merge_out(merge))


@router.post("/companies/merge", response={200: MergeOut, **ERRORS}, summary="Merge companies")
def companies_merge(request: HttpRequest, payload: MergeIn):
    merge = services.companies_merge(actor=request.auth, **_payload(payload))
    return json_response(merge_out(merge))


@router.post("/merges/{merge_id}/undo", response={200: MergeOut, **ERRORS}, summary="Undo a merge")
def merge_undo(request: HttpRequest, merge_id: int):
    """409 when the records changed after the merge (undo would overwrite those changes)."""
    return json_response(merge_out(services.merge_undo(actor=request.auth, merge_id=merge_id)))


@router.get("/duplicates", response={200: GroupListOut, **READ_ERRORS}, summary="List duplicate groups")
def group_list(
    request: HttpRequest,
    kind: str | None = None,
    min_score: int | None = None,
    cursor: str | None = None,
    limit: int | None = None,
):
    """Open groups whose records the user may all change, best score first. `kind`: contact (default) or
    company."""
    kind = queries.kind_clean(kind)
    if min_score is not None and not 0 <= min_score <= 100:
        raise ValidationError({"min_score": ["Enter a score from 0 to 100."]})
    groups, next_cursor = keyset_page(
        queries.group_list(request.auth, kind=kind, min_score=min_score or 0),
        [("score", True), ("id", False)],
        cursor,
        limit_clean(limit),
    )
    records = queries.group_records(groups)
    items = [group_out(g, records.get(g.pk, [])) for g in groups]
    return json_response({"items": items, "next_cursor": next_cursor})


# Fixed paths before "/duplicates/{group_id}", which would otherwise take them.
@router.post(
    "/duplicates/merge-above", response={200: MergeAboveOut, **ERRORS}, summary="Merge all above a score"
)
def merge_above(request: HttpRequest, payload: MergeAboveIn):
    """Every open group at or above `min_score` (75–100) the user may merge, each into its oldest record;
    from 50 groups on as a background task (`queued`)."""
    result = services.groups_merge_above(actor=request.auth, kind=payload.kind, min_score=payload.min_score)
    return json_response(result)


@router.post("/duplicates/run", response={202: RunOut, **ERRORS}, summary="Run the duplicate job")
def run(request: HttpRequest, payload: RunIn):
    """Administrators: queue the whole-database job for `kind` (contact, company, or both when omitted)."""
    kinds = services.dedupe_run(actor=request.auth, kind=payload.kind)
    return json_response({"queued": kinds}, status=202)


@router.get(
    "/duplicates/{group_id}", response={200: GroupOut, **READ_ERRORS}, summary="Read a duplicate group"
)
def group_get(request: HttpRequest, group_id: int):
    group, records = queries.group_get(request.auth, group_id)
    return json_response(group_out(group, records))


@router.post("/duplicates/{group_id}/dismiss", response={200: GroupOut, **ERRORS}, summary="Dismiss a group")
def group_dismiss(request: HttpRequest, group_id: int):
    """Not duplicates: later runs of the job do not propose these records together again."""
    group = services.group_dismiss(actor=request.auth, group_id=group_id)
    _, records = queries.group_get(request.auth, group.pk)
    return json_response(group_out(group, records))


@router.post("/duplicates/{group_id}/merge", response={200: MergeOut, **ERRORS}, summary="Merge a group")
def group_merge(request: HttpRequest, group_id: int, payload: GroupMergeIn):
    """Into `survivor_id` (default: the group's oldest record)."""
    merge = services.group_merge(actor=request.auth, group_id=group_id, **_payload(payload))
    return json_response(merge_out(merge))
