"""Writes of the dedupe app: merge (contacts, companies), undo, dismiss, run the job, merge in bulk.

A merge keeps one record (the survivor) and archives the others, marked as merged into it. Every row of
any app that points to an absorbed record by a foreign key (found through `_meta`, so models added later
move too) or by a generic foreign key is moved to the survivor. A row that would break a unique
constraint there (the survivor already has that e-mail, tag, role, summary…) is deleted instead and kept
in the merge's before-image, which holds everything undo needs.
"""

from __future__ import annotations

import json

from django.apps import apps
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.db.models import F
from django.utils import timezone

from contacts.models import Company, Contact, ContactEmail, ContactPhone, ContactRole
from contacts.services import company_search_text, contact_search_text
from core import search
from core.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from core.events import event_emit
from core.history import history_record, to_json_value
from core.services import raise_if
from core.visibility import can, get_for, require_admin, require_create

from . import queries
from .models import DuplicateGroup, DuplicateMember, Kind, Merge, MergedRecord

MAX_OTHERS = 20
CONTACT_MERGE_FIELDS = [
    "prefix",
    "first_name",
    "middle_name",
    "last_name",
    "suffix",
    "job_title",
    "birthday",
    "company_id",
    "lifecycle_stage",
    "source",
    "external_id",
    "owner_id",
    "team_id",
]
COMPANY_MERGE_FIELDS = [
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
]
# Fields whose default winner is the survivor's value, not the most recent one.
SURVIVOR_DEFAULT = {"owner_id", "team_id", "lifecycle_stage", "currency"}
SPECS = {
    Kind.CONTACT: (Contact, CONTACT_MERGE_FIELDS, "contact"),
    Kind.COMPANY: (Company, COMPANY_MERGE_FIELDS, "company"),
}
# The dedupe app's own rows name records by id and are never moved; history stays with each record.
SKIP_APPS = {"dedupe"}
SKIP_MODELS = {"core.historyentry", "core.outboxevent", "core.searchdocument"}


# ---------------------------------------------------------------------------------------------------------
# What points to a record


def relations(model) -> list[tuple[type[models.Model], models.Field]]:
    """Every (model, foreign key) pointing to `model`, hidden ones (related_name="+", many-to-many
    through tables) included."""
    found = []
    for f in model._meta.get_fields(include_hidden=True):
        if (f.one_to_many or f.one_to_one) and f.auto_created and not f.concrete:
            related = f.related_model
            if related._meta.app_label in SKIP_APPS or related._meta.label_lower in SKIP_MODELS:
                continue
            found.append((related, f.field))
    return found


def generic_relations(model) -> list[tuple[type[models.Model], str, str]]:
    """(model, content-type column, object-id column) of every generic foreign key in the project."""
    found = []
    for candidate in apps.get_models():
        if candidate._meta.app_label in SKIP_APPS or candidate._meta.label_lower in SKIP_MODELS:
            continue
        for f in candidate._meta.private_fields:
            if isinstance(f, GenericForeignKey):
                ct_field = candidate._meta.get_field(f.ct_field)
                found.append((candidate, ct_field.attname, candidate._meta.get_field(f.fk_field).attname))
    return found


def _unique_sets(model, fk: models.Field) -> list[tuple[str, ...]]:
    """Column sets that must stay unique and include `fk`."""
    sets = []
    if fk.unique:
        sets.append((fk.attname,))
    for together in model._meta.unique_together:
        if fk.name in together:
            sets.append(tuple(model._meta.get_field(n).attname for n in together))
    for constraint in model._meta.constraints:
        if (
            isinstance(constraint, models.UniqueConstraint)
            and constraint.fields
            and constraint.condition is None
            and fk.name in constraint.fields
        ):
            sets.append(tuple(model._meta.get_field(n).attname for n in constraint.fields))
    return sets


def _dump_rows(rows) -> list[dict]:
    """Rows as JSON: every column by its attribute name, times to the microsecond."""
    return [
        {
            "model": row._meta.label_lower,
            "pk": row.pk,
            "fields": {f.attname: to_json_value(getattr(row, f.attname)) for f in row._meta.concrete_fields},
        }
        for row in rows
    ]


def _restore_rows(items: list[dict]) -> None:
    """Write dumped rows back as they were: update the row when it exists, insert it otherwise."""
    for item in items:
        model = apps.get_model(item["model"])
        values = {}
        for f in model._meta.concrete_fields:
            raw = item["fields"][f.attname]
            values[f.attname] = raw if raw is None or isinstance(f, models.JSONField) else f.to_python(raw)
        pk = values.pop(model._meta.pk.attname)
        if model._base_manager.filter(pk=pk).exists():
            model._base_manager.filter(pk=pk).update(**values)
        else:
            model._base_manager.bulk_create([model(pk=pk, **values)])


# ---------------------------------------------------------------------------------------------------------
# Merge


def _empty(value) -> bool:
    return value in (None, "", [], {})


def _choices_clean(errors, field_choices, fields: list[str], ids: list[int]) -> dict:
    if field_choices in (None, ""):
        return {}
    if not isinstance(field_choices, dict):
        errors["field_choices"] = ["Expected an object of field → record id."]
        return {}
    cleaned = {}
    for name, record_id in field_choices.items():
        if name not in fields and not (isinstance(name, str) and name.startswith("custom.")):
            errors[f"field_choices.{name}"] = ["Unknown field."]
            continue
        try:
            record_id = int(record_id)
        except (TypeError, ValueError):
            errors[f"field_choices.{name}"] = ["Enter the id of one of the merged records."]
            continue
        if record_id not in ids:
            errors[f"field_choices.{name}"] = ["Choose one of the merged records."]
            continue
        cleaned[name] = record_id
    return cleaned


def _ids_clean(errors, survivor_id, other_ids) -> tuple[int | None, list[int]]:
    survivor = None
    if isinstance(survivor_id, bool) or survivor_id in (None, ""):
        errors["survivor_id"] = ["Choose the record to keep."]
    else:
        try:
            survivor = int(survivor_id)
        except (TypeError, ValueError):
            errors["survivor_id"] = ["Enter a record id."]
    others: list[int] = []
    if not isinstance(other_ids, list | tuple) or not other_ids:
        errors["other_ids"] = ["Choose at least one record to merge into it."]
    elif len(other_ids) > MAX_OTHERS:
        errors["other_ids"] = [f"At most {MAX_OTHERS} records at a time."]
    else:
        try:
            others = list(dict.fromkeys(int(i) for i in other_ids if not isinstance(i, bool)))
        except (TypeError, ValueError):
            errors["other_ids"] = ["Expected a list of record ids."]
        if len(others) != len(other_ids):
            errors["other_ids"] = ["Expected a list of distinct record ids."]
        if survivor is not None and survivor in others:
            errors["other_ids"] = ["The record to keep cannot also be merged into itself."]
    return survivor, others


def _winners(records: list, survivor, fields: list[str], choices: dict) -> dict:
    """Per field: the chosen record's value, else the survivor's for ownership, else the most recent
    non-empty value."""
    by_id = {r.pk: r for r in records}
    recent = sorted(records, key=lambda r: (r.updated_at, r.pk), reverse=True)
    values = {}
    for name in fields:
        if name in choices:
            values[name] = getattr(by_id[choices[name]], name)
        elif name in SURVIVOR_DEFAULT:
            values[name] = getattr(survivor, name)
        else:
            values[name] = next(
                (getattr(r, name) for r in recent if not _empty(getattr(r, name))), getattr(survivor, name)
            )
    custom = {}
    for record in reversed(recent):  # oldest first, so the most recent non-empty value wins
        for key, value in (record.custom or {}).items():
            if not _empty(value) or key not in custom:
                custom[key] = value
    for name, record_id in choices.items():
        if name.startswith("custom."):
            key = name[len("custom.") :]
            chosen = by_id[record_id].custom or {}
            if key in chosen:
                custom[key] = chosen[key]
            else:
                custom.pop(key, None)
    values["custom"] = custom
    return values


def _move_rows(model_cls, survivor_id: int, others: list[int], before: dict) -> None:
    """Point every row that references an absorbed record at the survivor (or delete it when the
    survivor already has an equal one), recording the old values in `before`."""
    deleted_rows = []
    for related, fk in relations(model_cls):
        rows = list(related._base_manager.filter(**{f"{fk.attname}__in": others}).order_by("pk"))
        if not rows:
            continue
        unique_sets = _unique_sets(related, fk)
        taken: list[set] = []
        for columns in unique_sets:
            existing = related._base_manager.filter(**{fk.attname: survivor_id}).values_list(*columns)
            taken.append(set(existing))
        label = related._meta.label_lower
        has_primary = any(f.name == "is_primary" for f in related._meta.concrete_fields)
        survivor_has_primary = has_primary and (
            related._base_manager.filter(**{fk.attname: survivor_id, "is_primary": True}).exists()
        )
        for row in rows:
            if related is model_cls and row.pk == survivor_id:
                before["moved"].append([label, row.pk, fk.attname, getattr(row, fk.attname)])
                related._base_manager.filter(pk=row.pk).update(**{fk.attname: None})
                continue
            keys = []
            for columns in unique_sets:
                keys.append(tuple(survivor_id if c == fk.attname else getattr(row, c) for c in columns))
            if any(key in seen for key, seen in zip(keys, taken, strict=True)):
                deleted_rows.append(row)
                continue
            for key, seen in zip(keys, taken, strict=True):
                seen.add(key)
            before["moved"].append([label, row.pk, fk.attname, getattr(row, fk.attname)])
            update = {fk.attname: survivor_id}
            if has_primary and row.is_primary and survivor_has_primary:
                before["moved"].append([label, row.pk, "is_primary", True])
                update["is_primary"] = False
            elif has_primary and row.is_primary:
                survivor_has_primary = True
            related._base_manager.filter(pk=row.pk).update(**update)
    content_type = ContentType.objects.get_for_model(model_cls)
    for related, ct_column, id_column in generic_relations(model_cls):
        rows = related._base_manager.filter(**{ct_column: content_type.pk, f"{id_column}__in": others})
        label = related._meta.label_lower
        for pk, old in rows.values_list("pk", id_column):
            before["moved"].append([label, pk, id_column, old])
        rows.update(**{id_column: survivor_id})
    before["deleted"] = _dump_rows(deleted_rows)
    for row in deleted_rows:
        type(row)._base_manager.filter(pk=row.pk).delete()


def _set_flag(before, model, pk, name, value) -> None:
    old = model.objects.filter(pk=pk).values_list(name, flat=True).first()
    if old != value:
        before["moved"].append([model._meta.label_lower, pk, name, old])
        model.objects.filter(pk=pk).update(**{name: value})


def _contact_fix_primaries(contact: Contact, fields: dict, before: dict) -> None:
    """After the move: the survivor's primary e-mail and phone are kept (or, when it had none, the first
    moved one becomes primary), and the primary role follows the chosen company."""
    for model, mirror, column in ((ContactEmail, "email", "email"), (ContactPhone, "phone", "number")):
        rows = list(model.objects.filter(contact=contact).order_by("-is_primary", "id"))
        if not rows:
            continue
        primary = next((r for r in rows if r.is_primary), rows[0])
        for row in rows:
            _set_flag(before, model, row.pk, "is_primary", row.pk == primary.pk)
        fields[mirror] = getattr(primary, column)
    roles = list(ContactRole.objects.filter(contact=contact).order_by("-is_primary", "id"))
    company_id = fields.get("company_id", contact.company_id)
    if roles:
        for role in roles:
            _set_flag(before, ContactRole, role.pk, "is_primary", role.company_id == company_id)


def _merge(kind: str, *, actor, survivor_id, other_ids, field_choices=None) -> Merge:
    model, merge_fields, noun = SPECS[kind]
    require_create(actor)
    errors: dict[str, list[str]] = {}
    survivor_id, others = _ids_clean(errors, survivor_id, other_ids)
    raise_if(errors)
    # 404 for anything the actor may not see, before any other check; then 403.
    survivor = get_for(actor, model.objects.all(), survivor_id, "view")
    absorbed = [get_for(actor, model.objects.all(), pk, "view") for pk in others]
    if not can(actor, "change", survivor) or not all(can(actor, "delete", r) for r in absorbed):
        raise PermissionDeniedError(
            "Merging needs the right to change the record kept and to archive the others."
        )
    if survivor.archived_at is not None:
        errors["survivor_id"] = ["The record to keep is archived; restore it first."]
    already = set(
        MergedRecord.objects.filter(kind=kind, object_id__in=[survivor_id, *others]).values_list(
            "object_id", flat=True
        )
    )
    if survivor_id in already:
        errors["survivor_id"] = ["This record was merged into another one."]
    if already - {survivor_id}:
        errors["other_ids"] = ["Some of these records were already merged into another one."]
    choices = _choices_clean(errors, field_choices, merge_fields, [survivor_id, *others])
    raise_if(errors)

    records = [survivor, *absorbed]
    winners = _winners(records, survivor, merge_fields, choices)
    if kind == Kind.COMPANY and winners.get("parent_id") in {survivor_id, *others}:
        winners["parent_id"] = None
    now = timezone.now()
    with transaction.atomic():
        survivor = model.objects.select_for_update().get(pk=survivor_id)
        before = {
            "survivor": _dump_rows([survivor]),
            "others": _dump_rows(list(model.objects.filter(pk__in=others).order_by("pk"))),
            "moved": [],
            "deleted": [],
        }
        _move_rows(model, survivor_id, others, before)
        fields = {k: v for k, v in winners.items() if getattr(survivor, k) != v}
        if kind == Kind.CONTACT:
            _contact_fix_primaries(survivor, fields, before)
        fields = {k: v for k, v in fields.items() if getattr(survivor, k) != v}
        changes = {k: (getattr(survivor, k), v) for k, v in fields.items()}
        model.objects.filter(pk=survivor_id).update(**fields, version=F("version") + 1, updated_at=now)
        survivor.refresh_from_db()
        model.objects.filter(pk__in=others).update(archived_at=now, version=F("version") + 1, updated_at=now)
        versions = dict(model.objects.filter(pk__in=others).values_list("pk", "version"))
        before["others_versions"] = {str(k): v for k, v in versions.items()}
        merge = Merge.objects.create(
            kind=kind,
            survivor_id=survivor_id,
            other_ids=others,
            actor=actor,
            created_at=now,
            survivor_version=survivor.version,
            before=before,
        )
        MergedRecord.objects.bulk_create(
            MergedRecord(kind=kind, object_id=pk, merge=merge, survivor_id=survivor_id) for pk in others
        )
        history_record(
            instance=survivor,
            actor=actor,
            action="merged",
            changes={**changes, "merged_from": (None, others)},
        )
        for record in model.objects.filter(pk__in=others):
            history_record(
                instance=record,
                actor=actor,
                action="merged",
                changes={"merged_into": (None, survivor_id), "archived": (False, True)},
            )
        payload = {"id": survivor_id, "survivor_id": survivor_id, "other_ids": others, "merge_id": merge.pk}
        event_emit(f"{noun}.merged", instance=survivor, actor=actor, payload=payload)
        group_ids = DuplicateMember.objects.filter(
            kind=kind, object_id__in=[survivor_id, *others], group__status=DuplicateGroup.Status.OPEN
        ).values("group_id")
        DuplicateGroup.objects.filter(pk__in=group_ids).update(
            status=DuplicateGroup.Status.MERGED, resolved_at=now, resolved_by=actor, merge=merge
        )
        _reindex(kind, [survivor_id])
    return merge


def _reindex(kind: str, ids: list[int]) -> None:
    if kind == Kind.CONTACT:
        for contact in Contact.objects.filter(pk__in=ids).select_related("company"):
            emails = list(contact.emails.values_list("email", flat=True))
            phones = list(contact.phones.values_list("number", flat=True))
            company = contact.company.name if contact.company_id else ""
            text = contact_search_text(contact, emails, phones, company)
            search.index("contact", [(contact.pk, text, contact.owner_id, contact.team_id)])
    else:
        search.index(
            "company",
            [
                (c.pk, company_search_text(c), c.owner_id, c.team_id)
                for c in Company.objects.filter(pk__in=ids)
            ],
        )
        for contact in Contact.objects.filter(company_id__in=ids).select_related("company")[:10000]:
            _reindex(Kind.CONTACT, [contact.pk])


def contacts_merge(*, actor, survivor_id, other_ids, field_choices=None) -> Merge:
    """Merge contacts `other_ids` into `survivor_id`. `field_choices` maps a field (or `custom.<key>`) to
    the id of the record whose value wins; the default is the most recent non-empty value (the
    survivor's for owner, team and stage). Needs `change` on the survivor and `delete` on the others."""
    return _merge(
        Kind.CONTACT, actor=actor, survivor_id=survivor_id, other_ids=other_ids, field_choices=field_choices
    )


def companies_merge(*, actor, survivor_id, other_ids, field_choices=None) -> Merge:
    """Merge companies; as `contacts_merge`."""
    return _merge(
        Kind.COMPANY, actor=actor, survivor_id=survivor_id, other_ids=other_ids, field_choices=field_choices
    )


# ---------------------------------------------------------------------------------------------------------
# Undo


def merge_undo(*, actor, merge_id) -> Merge:
    """Put everything back as it was before the merge: the survivor's row, the others' rows, every moved
    reference and every removed link row. Refused (409) when the survivor or an absorbed record changed
    since the merge: undo would silently overwrite that change."""
    merge = queries.merge_get(actor, merge_id)
    model, _, noun = SPECS[merge.kind]
    survivor = get_for(actor, model.objects.all(), merge.survivor_id, "view")
    absorbed = list(model.objects.filter(pk__in=merge.other_ids))
    if not can(actor, "change", survivor) or not all(can(actor, "delete", r) for r in absorbed):
        raise PermissionDeniedError("Undoing a merge needs the rights the merge needed.")
    if merge.undone_at is not None:
        raise ConflictError("This merge was already undone.")
    before = merge.before
    with transaction.atomic():
        current = model.objects.select_for_update().get(pk=merge.survivor_id)
        rows = model.objects.filter(pk__in=merge.other_ids).values_list("pk", "version")
        versions = {str(k): v for k, v in rows}
        if current.version != merge.survivor_version or versions != before.get("others_versions", {}):
            raise ConflictError(
                "The records changed after the merge, so undo would overwrite those changes. "
                "Edit them by hand instead.",
                current_version=current.version,
            )
        for label, pk, column, old in reversed(before["moved"]):
            related = apps.get_model(label)
            related._base_manager.filter(pk=pk).update(**{column: old})
        _restore_rows(before["deleted"])
        _restore_rows(before["survivor"])
        _restore_rows(before["others"])
        restored = model.objects.get(pk=merge.survivor_id)
        changes = {
            f.attname: (getattr(current, f.attname), getattr(restored, f.attname))
            for f in model._meta.concrete_fields
            if getattr(current, f.attname) != getattr(restored, f.attname)
            and f.attname not in {"version", "updated_at"}
        }
        now = timezone.now()
        Merge.objects.filter(pk=merge.pk).update(undone_at=now, undone_by=actor)
        MergedRecord.objects.filter(merge=merge).delete()
        DuplicateGroup.objects.filter(merge=merge).update(
            status=DuplicateGroup.Status.OPEN, resolved_at=None, resolved_by=None, merge=None
        )
        history_record(
            instance=restored,
            actor=actor,
            action="updated",
            changes={**changes, "merge_undone": (merge.other_ids, None)},
        )
        for record in model.objects.filter(pk__in=merge.other_ids):
            history_record(
                instance=record,
                actor=actor,
                action="restored",
                changes={"merged_into": (merge.survivor_id, None), "archived": (True, False)},
            )
        event_emit(
            f"{noun}.merge_undone",
            instance=restored,
            actor=actor,
            payload={"id": restored.pk, "other_ids": merge.other_ids, "merge_id": merge.pk},
        )
        _reindex(merge.kind, [merge.survivor_id, *merge.other_ids])
    merge.refresh_from_db()
    return merge


# ---------------------------------------------------------------------------------------------------------
# Groups


def group_dismiss(*, actor, group_id) -> DuplicateGroup:
    """Not duplicates: the group stays dismissed, and the job does not propose these pairs again."""
    require_create(actor)
    group, _ = queries.group_get(actor, group_id, "change")
    if group.status != DuplicateGroup.Status.OPEN:
        raise ValidationError({"status": [f"This group is already {group.get_status_display().lower()}."]})
    DuplicateGroup.objects.filter(pk=group.pk).update(
        status=DuplicateGroup.Status.DISMISSED, resolved_at=timezone.now(), resolved_by=actor
    )
    group.refresh_from_db()
    return group


def group_merge(*, actor, group_id, survivor_id=None, field_choices=None) -> Merge:
    """Merge one group: into `survivor_id` (default: its oldest record)."""
    group, records = queries.group_get(actor, group_id, "view")
    if group.status != DuplicateGroup.Status.OPEN:
        raise ValidationError({"status": [f"This group is already {group.get_status_display().lower()}."]})
    ids = sorted(r.pk for r in records)
    if survivor_id in (None, ""):
        survivor_id = ids[0]
    try:
        survivor_id = int(survivor_id)
    except (TypeError, ValueError):
        raise ValidationError({"survivor_id": ["Choose one of the group's records."]})
    if survivor_id not in ids:
        raise ValidationError({"survivor_id": ["Choose one of the group's records."]})
    merge = _merge(
        group.kind,
        actor=actor,
        survivor_id=survivor_id,
        other_ids=[i for i in ids if i != survivor_id],
        field_choices=field_choices,
    )
    return merge


BACKGROUND_FROM = 50


def min_score_clean(value) -> int:
    try:
        score = int(value)
    except (TypeError, ValueError):
        raise ValidationError({"min_score": ["Enter a score between 75 and 100."]})
    if not 75 <= score <= 100:
        raise ValidationError({"min_score": ["Enter a score between 75 and 100."]})
    return score


def groups_merge_above(*, actor, kind, min_score, background: bool | None = None) -> dict:
    """Merge every open group at or above `min_score` that the actor may merge (each into its oldest
    record). From BACKGROUND_FROM groups on it runs as a background task. Returns {"merged", "skipped",
    "queued"}."""
    require_create(actor)
    kind = queries.kind_clean(kind)
    min_score = min_score_clean(min_score)
    ids = list(queries.group_list(actor, kind=kind, min_score=min_score).values_list("pk", flat=True))
    if background is None:
        background = len(ids) >= BACKGROUND_FROM
    if background and ids:
        from .tasks import merge_groups

        merge_groups.enqueue(actor_id=actor.pk, group_ids=ids)
        return {"merged": 0, "skipped": 0, "queued": len(ids)}
    merged, skipped = groups_merge(actor=actor, group_ids=ids)
    return {"merged": merged, "skipped": skipped, "queued": 0}


def groups_merge(*, actor, group_ids: list[int]) -> tuple[int, int]:
    merged = skipped = 0
    for group_id in group_ids:
        try:
            group_merge(actor=actor, group_id=group_id)
        except (ValidationError, PermissionDeniedError, ConflictError, NotFoundError):
            skipped += 1
        else:
            merged += 1
    return merged, skipped


def dedupe_run(*, actor, kind=None) -> list[str]:
    """Queue the whole-database job (administrators): for `kind`, or for contacts and companies."""
    require_admin(actor)
    kinds = [queries.kind_clean(kind)] if kind not in (None, "") else [Kind.CONTACT, Kind.COMPANY]
    from .tasks import find_duplicates

    for name in kinds:
        find_duplicates.enqueue(kind=name)
    return kinds


def before_dump(value) -> str:
    """A readable dump of a before-image (tests and the admin)."""
    return json.dumps(to_json_value(value), sort_keys=True, indent=1)
