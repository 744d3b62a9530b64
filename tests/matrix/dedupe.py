"""Visibility-matrix rows for the dedupe app (see tests/matrix/__init__.py).

The world adds, all owned by `owner` and shared with Team A (so they follow the shared record's rules):
- an archived contact and an archived company that the merge rows merge into the shared ones (archived,
  so the shared lists still show only the shared records);
- a duplicate group of the shared contact and that archived contact;
- a merge of two other contacts, for undo (both archived without a version change, so the lists stay as
  they are and the undo still applies).
Merging needs `change` on the survivor and `delete` (archive) on the others: ARCHIVES.
"""

from __future__ import annotations

from django.utils import timezone

from tests.matrix.rules import (  # noqa: F401
    ARCHIVES,
    CHANGES,
    SEES,
    WRITERS,
    admin_only,
    admins,
    everyone,
    record,
    record_rule,
    signed_in,
    writer,
    writers,
)

API: dict = {
    ("post", "/api/v1/contacts/duplicates"): (everyone(200), lambda ctx: {"first_name": "Shared"}),
    ("post", "/api/v1/companies/duplicates"): (everyone(200), lambda ctx: {"name": "Shared Co"}),
    ("post", "/api/v1/contacts/merge"): (
        record_rule(ARCHIVES, 200),
        lambda ctx: {"survivor_id": ctx["contact"], "other_ids": [ctx["dedupe_contact"]]},
    ),
    ("post", "/api/v1/companies/merge"): (
        record_rule(ARCHIVES, 200),
        lambda ctx: {"survivor_id": ctx["company"], "other_ids": [ctx["dedupe_company"]]},
    ),
    ("post", "/api/v1/merges/{merge_id}/undo"): (record_rule(ARCHIVES, 200), None),
    ("get", "/api/v1/duplicates"): (everyone(200), None),
    ("get", "/api/v1/duplicates/{group_id}"): (record_rule(SEES, 200), None),
    ("post", "/api/v1/duplicates/{group_id}/dismiss"): (record_rule(CHANGES, 200), None),
    ("post", "/api/v1/duplicates/{group_id}/merge"): (record_rule(ARCHIVES, 200), None),
    ("post", "/api/v1/duplicates/merge-above"): (
        writers(200),
        lambda ctx: {"kind": "contact", "min_score": 90},
    ),
    ("post", "/api/v1/duplicates/run"): (admins(202), lambda ctx: {"kind": "contact"}),
}

PAGES: dict = {
    "dedupe:group_list": [("get", signed_in(200), None)],
    "dedupe:run": [("post", admin_only(302), lambda ctx: {"kind": "contact"})],
    "dedupe:merge_above": [("post", writer(302), lambda ctx: {"kind": "contact", "min_score": "90"})],
    "dedupe:group_detail": [
        ("get", record(SEES, 200), None),
        ("post", record(ARCHIVES, 302), lambda ctx: {"survivor_id": ctx["contact"]}),
    ],
    "dedupe:group_dismiss": [("post", record(CHANGES, 302), None)],
    "dedupe:contact_check": [("post", signed_in(200), lambda ctx: {"first_name": "Shared"})],
    "dedupe:company_check": [("post", signed_in(200), lambda ctx: {"name": "Shared Co"})],
    "dedupe:merge_detail": [("get", record(SEES, 200), None)],
    "dedupe:merge_undo": [("post", record(ARCHIVES, 302), None)],
}
PAGE_ARGS: dict = {
    "dedupe:group_detail": lambda ctx: [ctx["dedupe_group"]],
    "dedupe:group_dismiss": lambda ctx: [ctx["dedupe_group"]],
    "dedupe:merge_detail": lambda ctx: [ctx["dedupe_merge"]],
    "dedupe:merge_undo": lambda ctx: [ctx["dedupe_merge"]],
}


def world(ctx: dict) -> None:
    """Add this app's records to the shared world."""
    from contacts.models import Company, Contact
    from contacts.services import company_create, contact_create
    from dedupe.models import DuplicateGroup, DuplicateMember
    from dedupe.services import contacts_merge

    owner = ctx["org"].owner
    archived = timezone.now()
    twin = contact_create(actor=owner, data={"first_name": "Twin", "email": "twin@example.com"})
    twin_co = company_create(actor=owner, data={"name": "Twin Co"})
    kept = contact_create(actor=owner, data={"first_name": "Kept"})
    gone = contact_create(actor=owner, data={"first_name": "Gone"})
    merge = contacts_merge(actor=owner, survivor_id=kept.pk, other_ids=[gone.pk])
    # Out of the shared lists without a version change (fixture set-up, not a use case).
    Contact.objects.filter(pk__in=[twin.pk, kept.pk]).update(archived_at=archived)
    Company.objects.filter(pk=twin_co.pk).update(archived_at=archived)
    group = DuplicateGroup.objects.create(kind="contact", score=96, reasons=["Same e-mail address"])
    DuplicateMember.objects.bulk_create(
        DuplicateMember(group=group, kind="contact", object_id=pk) for pk in (ctx["contact"], twin.pk)
    )
    ctx.update(
        dedupe_contact=twin.pk, dedupe_company=twin_co.pk, dedupe_group=group.pk, dedupe_merge=merge.pk
    )
    if "ids" in ctx:
        ctx["ids"].update(group_id=group.pk, merge_id=merge.pk)


def state() -> tuple:
    """Everything a refused call on this app's rows could have changed."""
    from dedupe.models import DuplicateGroup, DuplicateMember, Merge, MergedRecord

    return (
        list(DuplicateGroup.objects.order_by("id").values("id", "status", "merge_id")),
        DuplicateMember.objects.count(),
        list(Merge.objects.order_by("id").values("id", "undone_at")),
        list(MergedRecord.objects.order_by("id").values("id", "object_id")),
    )
