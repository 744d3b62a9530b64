"""Helpers every app's services use: optimistic concurrency, change tracking, ownership."""

from __future__ import annotations

from django.conf import settings
from django.db.models import F, Model
from django.utils import timezone

from .errors import ConflictError, PermissionDeniedError, ValidationError
from .visibility import role_of


def version_require(version) -> int:
    if version is None or version == "":
        raise ValidationError({"version": ["This field is required to update a record."]})
    try:
        return int(version)
    except (TypeError, ValueError):
        raise ValidationError({"version": ["Enter a whole number."]})


def changes_between(instance: Model, data: dict) -> dict[str, tuple]:
    """field → (old, new) for the values in `data` that differ from the instance."""
    changes = {}
    for name, new in data.items():
        old = getattr(instance, name)
        if old != new:
            changes[name] = (old, new)
    return changes


def record_save_versioned(instance: Model, *, expected_version: int, fields: dict) -> None:
    """Compare-and-set: write `fields` only if the row still has `expected_version`; bump the version.
    Never check-then-act: two concurrent writers cannot both succeed."""
    now = timezone.now()
    model = type(instance)
    updated = model.objects.filter(pk=instance.pk, version=expected_version).update(
        **fields, version=F("version") + 1, updated_at=now
    )
    if not updated:
        current = model.objects.filter(pk=instance.pk).values_list("version", flat=True).first() or 0
        raise ConflictError(current_version=current)
    for name, value in fields.items():
        setattr(instance, name, value)
    instance.version = expected_version + 1
    instance.updated_at = now


def ownership_resolve(
    *, actor, owner_id=None, team_id=None, current_owner_id=None, current_team_id=None, creating: bool
) -> tuple[int | None, int | None, dict[str, list[str]]]:
    """Decide owner and team for a write and check the actor may assign them."""
    from django.contrib.auth import get_user_model

    errors: dict[str, list[str]] = {}
    user_model = get_user_model()
    role = role_of(actor)
    new_owner_id = current_owner_id if owner_id is None else owner_id
    if creating and new_owner_id is None:
        new_owner_id = actor.pk
    owner = None
    if new_owner_id is not None:
        owner = user_model.objects.filter(pk=new_owner_id, is_active=True).first()
        if owner is None:
            errors["owner_id"] = ["No active user with this id."]
        elif role == "member" and owner.pk != actor.pk and not set(owner.team_ids) & set(actor.team_ids):
            errors["owner_id"] = ["You may assign records only to yourself or people in your teams."]
        elif role == "manager" and owner.pk not in actor.managed_user_ids:
            errors["owner_id"] = ["You may assign records only to people in the teams you manage."]
    new_team_id = current_team_id
    if team_id is not None:
        new_team_id = team_id or None
        if new_team_id is not None and role != "admin" and new_team_id not in actor.team_ids:
            errors["team_id"] = ["You may share records only with your own teams."]
        elif new_team_id is not None:
            from users.models import Team

            if not Team.objects.filter(pk=new_team_id).exists():
                errors["team_id"] = ["No team with this id."]
    elif creating and settings.CRM_SHARE_WITH_TEAM_BY_DEFAULT and owner is not None and owner.team_ids:
        new_team_id = owner.team_ids[0]
    return new_owner_id, new_team_id, errors


def raise_if(errors: dict[str, list[str]]) -> None:
    if errors:
        raise ValidationError(errors)


def require_role(actor, *roles: str) -> None:
    if role_of(actor) not in roles:
        raise PermissionDeniedError()


def model_fields_clean(model: type[Model], data: dict, names) -> tuple[dict, dict[str, list[str]]]:
    """Validate plain column values against the model's own field definitions (type, length, choices).
    Text is stripped; an empty value becomes "" for text columns and None for nullable ones."""
    from django.core.exceptions import ValidationError as DjangoValidationError

    cleaned: dict = {}
    errors: dict[str, list[str]] = {}
    for name in names:
        if name not in data:
            continue
        field = model._meta.get_field(name)
        value = data[name]
        if isinstance(value, str):
            value = value.strip()
        if value in (None, ""):
            if field.null:
                cleaned[field.attname] = None
                continue
            if field.blank and field.get_internal_type() in {
                "CharField",
                "TextField",
                "SlugField",
                "URLField",
            }:
                cleaned[field.attname] = ""
                continue
            errors[name] = ["This field is required."]
            continue
        if field.get_internal_type() in {
            "CharField",
            "TextField",
            "SlugField",
            "URLField",
        } and not isinstance(value, str):
            errors[name] = ["Enter text."]
            continue
        if isinstance(value, str) and "\x00" in value:
            errors[name] = ["Text may not contain NUL characters."]
            continue
        try:
            cleaned[field.attname] = field.clean(value, None)
        except DjangoValidationError as exc:
            errors[name] = [str(m) for m in exc.messages]
    return cleaned, errors
