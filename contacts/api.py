"""REST API for contacts and companies: handlers parse, call a query or a service, and answer."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import OuterRef
from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema

from core.api import ERRORS, READ_ERRORS, ErrorOut, bool_param, fields_parse, json_response, url_maker
from core.errors import NotFoundError, ValidationError
from core.history import history_for
from core.pagination import (
    id_cursor_decode,
    id_order,
    id_page,
    keyset_page,
    keyset_page_prepared,
    limit_clean,
)
from core.sqlcache import prepared, visibility_shape, visibility_values
from core.sqljson import json_list, json_list_decode, primary_first, related_lists
from core.visibility import restrict, role_of

from . import queries, services
from .models import Address, Company, Contact, ContactEmail, ContactPhone, ContactRole
from .schemas import (
    BulkIn,
    BulkOut,
    CompanyIn,
    CompanyListOut,
    CompanyOut,
    CompanyPatch,
    ContactIn,
    ContactListOut,
    ContactOut,
    ContactPatch,
    HistoryListOut,
)

router = Router(tags=["contacts"])
company_router = Router(tags=["companies"])


class ListParams(Schema):
    filter: str | None = None
    q: str | None = None
    sort: str | None = None
    cursor: str | None = None
    limit: int | None = None
    fields: str | None = None
    archived: str | None = None


# ---------------------------------------------------------------------------------------------------------
# Serialising rows: plain dicts and one query per related list for a whole page (no N+1)

CONTACT_COLUMNS = [
    "id",
    "prefix",
    "first_name",
    "middle_name",
    "last_name",
    "suffix",
    "email",
    "phone",
    "job_title",
    "birthday",
    "company_id",
    "lifecycle_stage",
    "source",
    "external_id",
    "owner_id",
    "team_id",
    "custom",
    "version",
    "created_at",
    "updated_at",
    "archived_at",
]
CONTACT_OUT_FIELDS = list(ContactOut.model_fields)
COMPANY_COLUMNS = [
    "id",
    "name",
    "domain",
    "industry",
    "size",
    "annual_revenue",
    "currency",
    "phone",
    "website",
    "description",
    "parent_id",
    "external_id",
    "owner_id",
    "team_id",
    "custom",
    "version",
    "created_at",
    "updated_at",
    "archived_at",
]
COMPANY_OUT_FIELDS = list(CompanyOut.model_fields)
_NO_RELATED = {f for f in CONTACT_OUT_FIELDS if f not in {"tags", "emails", "phones", "addresses", "roles"}}


_ADDRESS_JSON = {k: k for k in ("kind", "street", "city", "region", "postal_code", "country", "is_primary")}
_FLAG = ("is_primary",)

# Each related list as a JSON-array subquery of the record `ref` (core.sqljson), with its decoding.
CONTACT_RELATED = {
    "tags": lambda ref: json_list(
        Contact.tags.through.objects.filter(contact_id=ref), {"name": "tag__name"}, group_by="contact_id"
    ),
    "emails": lambda ref: json_list(
        ContactEmail.objects.filter(contact_id=ref),
        {"email": "email", "label": "label", "is_primary": "is_primary"},
        group_by="contact_id",
    ),
    "phones": lambda ref: json_list(
        ContactPhone.objects.filter(contact_id=ref),
        {"number": "number", "label": "label", "is_primary": "is_primary"},
        group_by="contact_id",
    ),
    "addresses": lambda ref: json_list(
        Address.objects.filter(contact_id=ref), _ADDRESS_JSON, group_by="contact_id"
    ),
    "roles": lambda ref: json_list(
        ContactRole.objects.filter(contact_id=ref),
        {
            "company_id": "company_id",
            "company_name": "company__name",
            "title": "title",
            "is_primary": "is_primary",
        },
        group_by="contact_id",
    ),
}
COMPANY_RELATED = {
    "tags": lambda ref: json_list(
        Company.tags.through.objects.filter(company_id=ref), {"name": "tag__name"}, group_by="company_id"
    ),
    "addresses": lambda ref: json_list(
        Address.objects.filter(company_id=ref), _ADDRESS_JSON, group_by="company_id"
    ),
}


def related_decode(name: str, text: str | None) -> list:
    """A related list's JSON text as the API shows it: tag names sorted, other lists primary first."""
    if name == "tags":
        return sorted(t["name"] for t in json_list_decode(text))
    return primary_first(json_list_decode(text, booleans=_FLAG))


def _related(key: str, model, builders: dict, rows: list[dict], wanted: set[str] | None) -> dict[int, dict]:
    """id → {name: list} for the related lists `wanted` asks for, one statement per page."""
    names = [n for n in builders if wanted is None or n in wanted]
    texts = related_lists(key, model, [r["id"] for r in rows], builders, names)
    empty = dict.fromkeys(names)
    return {row["id"]: {n: related_decode(n, texts.get(row["id"], empty)[n]) for n in names} for row in rows}


def contact_dicts(rows: list[dict], wanted: set[str] | None) -> list[dict]:
    """Turn `values()` rows into API records; the related lists of the page come in one statement."""
    related = _related("contact", Contact, CONTACT_RELATED, rows, wanted)
    url = url_maker("contacts:contact_detail")
    result = []
    for row in rows:
        pk = row["id"]
        lists = related.get(pk, {})
        record = {
            **{k: row[k] for k in CONTACT_COLUMNS},
            "url": url(pk),
            "full_name": " ".join(
                p
                for p in (
                    row["prefix"],
                    row["first_name"],
                    row["middle_name"],
                    row["last_name"],
                    row["suffix"],
                )
                if p
            ),
            "company_name": row.get("company__name"),
            "tags": lists.get("tags"),
            "emails": lists.get("emails"),
            "phones": lists.get("phones"),
            "addresses": lists.get("addresses"),
            "roles": lists.get("roles"),
        }
        if wanted is not None:
            record = {k: v for k, v in record.items() if k in wanted}
        result.append(record)
    return result


def company_dicts(rows: list[dict], wanted: set[str] | None) -> list[dict]:
    related = _related("company", Company, COMPANY_RELATED, rows, wanted)
    url = url_maker("contacts:company_detail")
    result = []
    for row in rows:
        pk = row["id"]
        revenue = row["annual_revenue"]
        record = {
            **{k: row[k] for k in COMPANY_COLUMNS},
            "annual_revenue": str(revenue) if isinstance(revenue, Decimal) else revenue,
            "url": url(pk),
            "tags": related.get(pk, {}).get("tags"),
            "addresses": related.get(pk, {}).get("addresses"),
        }
        if wanted is not None:
            record = {k: v for k, v in record.items() if k in wanted}
        result.append(record)
    return result


def _contact_one(pk: int) -> dict:
    rows = list(Contact.objects.filter(pk=pk).values(*CONTACT_COLUMNS, "company__name"))
    return contact_dicts(rows, None)[0]


def _contact_read_queryset(slots, shape):
    contact = OuterRef("pk")
    role, teams, managed = shape
    user = slots.visibility_user(role, teams=teams, managed=managed)
    return (
        restrict(Contact.objects.all(), user, "view")
        .filter(pk=slots.int("pk"))
        .values(
            *CONTACT_COLUMNS,
            "company__name",
            **{f"{name}_json": build(contact) for name, build in CONTACT_RELATED.items()},
        )[:1]
    )


def contact_read(user, pk) -> dict:
    """One visible contact with all its related lists, in one statement (404 when not visible).

    The GET path: the token check plus this statement is all a read costs (core.sqljson), and the
    statement is compiled once per process and visibility shape (core.sqlcache)."""
    if role_of(user) is None:
        raise NotFoundError()
    shape = visibility_shape(user)
    statement = prepared(("contact-read", shape), lambda slots: _contact_read_queryset(slots, shape))
    rows = statement.run({**visibility_values(user), "pk": int(pk)})
    if not rows:
        raise NotFoundError()
    row = rows[0]
    lists = {name: related_decode(name, row.pop(f"{name}_json")) for name in CONTACT_RELATED}
    record = contact_dicts([row], _NO_RELATED)[0] | lists
    return {k: record[k] for k in CONTACT_OUT_FIELDS}


def _company_one(pk: int) -> dict:
    rows = list(Company.objects.filter(pk=pk).values(*COMPANY_COLUMNS))
    return company_dicts(rows, None)[0]


def history_page(instance, cursor: str | None, limit) -> dict:
    limit = limit_clean(limit)
    entries, next_cursor = keyset_page(
        history_for(instance).values("id", "action", "actor_id", "actor__username", "created_at", "changes"),
        [("id", True)],
        cursor,
        limit,
    )
    items = [
        {
            "id": e["id"],
            "action": e["action"],
            "actor_id": e["actor_id"],
            "actor": e["actor__username"],
            "created_at": e["created_at"],
            "changes": [{"field": k, "old": v[0], "new": v[1]} for k, v in (e["changes"] or {}).items()],
        }
        for e in entries
    ]
    return {"items": items, "next_cursor": next_cursor}


def _payload(schema_obj) -> dict:
    return schema_obj.model_dump(exclude_unset=True, mode="python")


# ---------------------------------------------------------------------------------------------------------
# Contacts


@router.get("", response={200: ContactListOut, **READ_ERRORS}, summary="List contacts")
def contact_list(request: HttpRequest, params: Query[ListParams]):
    """Cursor-paginated: pass `next_cursor` back as `cursor`. `filter` takes the query language (text or
    JSON), `q` searches names, e-mails and phones, `fields` picks the returned fields, `sort` one of
    `id`, `name`, `email`, `created_at` (prefix `-` to reverse; default `-id`)."""
    wanted = fields_parse(params.fields, CONTACT_OUT_FIELDS)
    limit = limit_clean(params.limit)
    order = queries.sort_resolve(queries.CONTACT_SORTS, params.sort)
    archived = bool_param("archived", params.archived)
    sort_columns = [c for c, _ in order if c not in CONTACT_COLUMNS]
    columns = [*CONTACT_COLUMNS, *sort_columns]
    if wanted is None or "company_name" in wanted:
        columns.append("company__name")
    if not params.filter and not params.q and id_order(order):  # the default list: prepared once
        user, shape = request.auth, visibility_shape(request.auth)
        rows, next_cursor = keyset_page_prepared(
            ("contact-list", shape, archived, tuple(columns)),
            lambda slots: queries.contact_list(slots.visibility_user(*shape), archived=archived).values(
                *columns
            ),
            order,
            params.cursor,
            limit,
            visibility_values(user),
        )
        return json_response({"items": contact_dicts(rows, wanted), "next_cursor": next_cursor})
    if params.q and id_order(order):  # searched, in id order: the search index walks the ids itself
        queryset = queries.contact_list(
            request.auth,
            filter=params.filter,
            q=params.q,
            archived=archived,
            id_order="desc" if order[0][1] else "asc",
            after=id_cursor_decode(params.cursor),
        )
        rows, next_cursor = id_page(queryset.values(*columns)[: limit + 1], "id", limit)
        return json_response({"items": contact_dicts(rows, wanted), "next_cursor": next_cursor})
    queryset = queries.contact_list(request.auth, filter=params.filter, q=params.q, archived=archived)
    queryset = queries.sort_annotate(queryset, order)
    rows, next_cursor = keyset_page(queryset.values(*columns), order, params.cursor, limit)
    return json_response({"items": contact_dicts(rows, wanted), "next_cursor": next_cursor})


@router.post("", response={201: ContactOut, **ERRORS}, summary="Create a contact")
def contact_create(request: HttpRequest, payload: ContactIn):
    contact = services.contact_create(actor=request.auth, data=_payload(payload))
    return json_response(_contact_one(contact.pk), status=201)


@router.post("/bulk", response={200: BulkOut, **ERRORS}, summary="Act on many contacts")
def contact_bulk(request: HttpRequest, payload: BulkIn):
    """`action`: `assign_owner` (with `owner_id`), `add_tag` (with `tag`) or `archive`. Records the user may
    not change are skipped; `changed` counts the records that changed."""
    return json_response({"changed": _bulk(request.auth, Contact, payload)})


@router.get("/{contact_id}", response={200: ContactOut, **READ_ERRORS}, summary="Read a contact")
def contact_get(request: HttpRequest, contact_id: int):
    return json_response(contact_read(request.auth, contact_id))


@router.patch("/{contact_id}", response={200: ContactOut, **ERRORS}, summary="Change a contact")
def contact_update(request: HttpRequest, contact_id: int, payload: ContactPatch):
    contact = services.contact_update(actor=request.auth, contact_id=contact_id, data=_payload(payload))
    return json_response(_contact_one(contact.pk))


@router.delete("/{contact_id}", response={204: None, **READ_ERRORS}, summary="Archive a contact")
def contact_archive(request: HttpRequest, contact_id: int):
    """Archives: the contact leaves lists and search but keeps its history; `restore` brings it back."""
    services.contact_archive(actor=request.auth, contact_id=contact_id)
    return HttpResponse(status=204)


@router.post("/{contact_id}/restore", response={200: ContactOut, **READ_ERRORS}, summary="Restore a contact")
def contact_restore(request: HttpRequest, contact_id: int):
    contact = services.contact_restore(actor=request.auth, contact_id=contact_id)
    return json_response(_contact_one(contact.pk))


@router.get("/{contact_id}/history", response={200: HistoryListOut, **READ_ERRORS}, summary="Contact history")
def contact_history(
    request: HttpRequest, contact_id: int, cursor: str | None = None, limit: int | None = None
):
    contact = queries.contact_get(request.auth, contact_id)
    return json_response(history_page(contact, cursor, limit))


# ---------------------------------------------------------------------------------------------------------
# Companies


@company_router.get("", response={200: CompanyListOut, **READ_ERRORS}, summary="List companies")
def company_list(request: HttpRequest, params: Query[ListParams]):
    """As for contacts; `sort` one of `id`, `name`, `domain`, `created_at`."""
    wanted = fields_parse(params.fields, COMPANY_OUT_FIELDS)
    limit = limit_clean(params.limit)
    order = queries.sort_resolve(queries.COMPANY_SORTS, params.sort)
    archived = bool_param("archived", params.archived)
    columns = [*COMPANY_COLUMNS, *[c for c, _ in order if c not in COMPANY_COLUMNS]]
    if not params.filter and not params.q and id_order(order):  # the default list: prepared once
        user, shape = request.auth, visibility_shape(request.auth)
        rows, next_cursor = keyset_page_prepared(
            ("company-list", shape, archived, tuple(columns)),
            lambda slots: queries.company_list(slots.visibility_user(*shape), archived=archived).values(
                *columns
            ),
            order,
            params.cursor,
            limit,
            visibility_values(user),
        )
        return json_response({"items": company_dicts(rows, wanted), "next_cursor": next_cursor})
    if params.q and id_order(order):  # searched, in id order: the search index walks the ids itself
        queryset = queries.company_list(
            request.auth,
            filter=params.filter,
            q=params.q,
            archived=archived,
            id_order="desc" if order[0][1] else "asc",
            after=id_cursor_decode(params.cursor),
        )
        rows, next_cursor = id_page(queryset.values(*columns)[: limit + 1], "id", limit)
        return json_response({"items": company_dicts(rows, wanted), "next_cursor": next_cursor})
    queryset = queries.company_list(request.auth, filter=params.filter, q=params.q, archived=archived)
    queryset = queries.sort_annotate(queryset, order)
    rows, next_cursor = keyset_page(queryset.values(*columns), order, params.cursor, limit)
    return json_response({"items": company_dicts(rows, wanted), "next_cursor": next_cursor})


@company_router.post("", response={201: CompanyOut, **ERRORS}, summary="Create a company")
def company_create(request: HttpRequest, payload: CompanyIn):
    company = services.company_create(actor=request.auth, data=_payload(payload))
    return json_response(_company_one(company.pk), status=201)


@company_router.post("/bulk", response={200: BulkOut, **ERRORS}, summary="Act on many companies")
def company_bulk(request: HttpRequest, payload: BulkIn):
    return json_response({"changed": _bulk(request.auth, Company, payload)})


@company_router.get("/{company_id}", response={200: CompanyOut, **READ_ERRORS}, summary="Read a company")
def company_get(request: HttpRequest, company_id: int):
    company = queries.company_get(request.auth, company_id)
    return json_response(_company_one(company.pk))


@company_router.patch("/{company_id}", response={200: CompanyOut, **ERRORS}, summary="Change a company")
def company_update(request: HttpRequest, company_id: int, payload: CompanyPatch):
    company = services.company_update(actor=request.auth, company_id=company_id, data=_payload(payload))
    return json_response(_company_one(company.pk))


@company_router.delete("/{company_id}", response={204: None, **READ_ERRORS}, summary="Archive a company")
def company_archive(request: HttpRequest, company_id: int):
    services.company_archive(actor=request.auth, company_id=company_id)
    return HttpResponse(status=204)


@company_router.post(
    "/{company_id}/restore", response={200: CompanyOut, **READ_ERRORS}, summary="Restore a company"
)
def company_restore(request: HttpRequest, company_id: int):
    company = services.company_restore(actor=request.auth, company_id=company_id)
    return json_response(_company_one(company.pk))


@company_router.get(
    "/{company_id}/history", response={200: HistoryListOut, **READ_ERRORS}, summary="Company history"
)
def company_history(
    request: HttpRequest, company_id: int, cursor: str | None = None, limit: int | None = None
):
    company = queries.company_get(request.auth, company_id)
    return json_response(history_page(company, cursor, limit))


def _bulk(user, model, payload: BulkIn) -> int:
    if payload.action == "assign_owner":
        return services.records_bulk_assign_owner(
            actor=user, model=model, ids=payload.ids, owner_id=payload.owner_id
        )
    if payload.action == "add_tag":
        return services.records_bulk_add_tag(actor=user, model=model, ids=payload.ids, tag=payload.tag or "")
    if payload.action == "archive":
        return services.records_bulk_archive(actor=user, model=model, ids=payload.ids)
    raise ValidationError({"action": ["Choose one of: assign_owner, add_tag, archive."]})


__all__ = ["router", "company_router", "ErrorOut"]
