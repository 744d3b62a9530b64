"""Writes for users, teams, API tokens, custom fields, saved views and sign-in throttling."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from types import SimpleNamespace

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import OuterRef
from django.utils import timezone
from django.utils.text import slugify

from core.errors import NotFoundError, PermissionDeniedError, ValidationError
from core.history import history_record
from core.models import CustomField, SavedView
from core.services import raise_if
from core.sqlcache import prepared
from core.sqljson import json_list, json_list_decode
from core.visibility import require_admin, role_of

from .models import ApiToken, LoginFailure, Team, User

TOKEN_PREFIX = "crm_"


# ---------------------------------------------------------------------------------------------------------
# Users and teams


def _user_fields_clean(data: dict, *, instance: User | None) -> tuple[dict, dict]:
    errors: dict[str, list[str]] = {}
    clean: dict = {}
    if "username" in data or instance is None:
        username = (data.get("username") or "").strip()
        if not username:
            errors["username"] = ["This field is required."]
        elif len(username) > 150 or not all(ch.isalnum() or ch in "@.+-_" for ch in username):
            errors["username"] = ["Use at most 150 letters, digits and @ . + - _ characters."]
        elif (
            User.objects.filter(username__iexact=username).exclude(pk=getattr(instance, "pk", None)).exists()
        ):
            errors["username"] = ["A user with this name already exists."]
        else:
            clean["username"] = username
    if "role" in data or instance is None:
        role = data.get("role") or User.Role.MEMBER
        if role not in User.Role.values:
            errors["role"] = [f"Choose one of: {', '.join(User.Role.values)}."]
        else:
            clean["role"] = role
    for name in ("first_name", "last_name"):
        if name in data:
            value = (data.get(name) or "").strip()
            if len(value) > 150:
                errors[name] = ["At most 150 characters."]
            clean[name] = value
    if "email" in data:
        from core.normalize import email_normalize

        value = (data.get("email") or "").strip()
        if value:
            try:
                value = email_normalize(value)
            except ValueError as exc:
                errors["email"] = [str(exc)]
        clean["email"] = value
    if "is_active" in data:
        clean["is_active"] = bool(data["is_active"])
    return clean, errors


def _teams_resolve(names_or_ids, errors) -> list[Team] | None:
    if names_or_ids is None:
        return None
    if not isinstance(names_or_ids, list | tuple):
        errors["teams"] = ["Expected a list of team names."]
        return None
    teams = []
    for item in names_or_ids:
        if isinstance(item, int) and not isinstance(item, bool):
            team = Team.objects.filter(pk=item).first()
            if team is None:
                errors["teams"] = [f"No team with id {item}."]
                continue
        elif isinstance(item, str) and item.strip():
            team, _ = Team.objects.get_or_create(name=item.strip()[:100])
        else:
            errors["teams"] = ["Expected team names or ids."]
            continue
        teams.append(team)
    return teams


def user_create(*, actor, data: dict) -> User:
    """Admins create users; `actor=None` is the command line (a person at the server's console)."""
    if actor is not None:
        require_admin(actor)
    clean, errors = _user_fields_clean(data, instance=None)
    password = data.get("password")
    if password:
        try:
            password_validation.validate_password(password)
        except DjangoValidationError as exc:
            errors["password"] = list(exc.messages)
    with transaction.atomic():
        teams = _teams_resolve(data.get("teams"), errors)
        raise_if(errors)
        user = User(**clean)
        if clean.get("role") == User.Role.ADMIN:
            user.is_staff = True
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        try:
            user.save()
        except IntegrityError:
            raise ValidationError({"username": ["A user with this name already exists."]})
        if teams:
            user.teams.set(teams)
        history_record(
            instance=user,
            actor=actor,
            action="created",
            changes={"username": (None, user.username), "role": (None, user.role)},
        )
    return user


def user_update(*, actor, user_id: int, data: dict) -> User:
    require_admin(actor)
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        raise NotFoundError()
    clean, errors = _user_fields_clean(data, instance=user)
    if user.pk == actor.pk and (clean.get("role", user.role) != user.role or clean.get("is_active") is False):
        errors["role"] = ["You cannot demote or deactivate yourself."]
    teams = _teams_resolve(data.get("teams"), errors)
    raise_if(errors)
    with transaction.atomic():
        changes = {k: (getattr(user, k), v) for k, v in clean.items() if getattr(user, k) != v}
        for key, value in clean.items():
            setattr(user, key, value)
        user.is_staff = user.role == User.Role.ADMIN
        user.save()
        if teams is not None:
            old = sorted(t.name for t in user.teams.all())
            user.teams.set(teams)
            new = sorted(t.name for t in teams)
            if old != new:
                changes["teams"] = (old, new)
        if changes:
            history_record(instance=user, actor=actor, action="updated", changes=changes)
    return user


def user_set_password(*, actor, user_id: int, password: str, current_password: str | None = None) -> None:
    """People change their own password (with the current one); admins set anyone's."""
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        raise NotFoundError()
    if actor is not None and actor.pk != user.pk:
        require_admin(actor)
    elif actor is not None and not user.check_password(current_password or ""):
        raise ValidationError({"current_password": ["That is not your current password."]})
    try:
        password_validation.validate_password(password or "", user)
    except DjangoValidationError as exc:
        raise ValidationError({"password": list(exc.messages)})
    user.set_password(password)
    user.save(update_fields=["password"])
    history_record(instance=user, actor=actor, action="updated", changes={"password": ("•••", "•••")})


def team_create(*, actor, name: str) -> Team:
    if actor is not None:
        require_admin(actor)
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValidationError({"name": ["Enter a team name of at most 100 characters."]})
    if Team.objects.filter(name__iexact=name).exists():
        raise ValidationError({"name": ["A team with this name already exists."]})
    return Team.objects.create(name=name)


def team_get_or_create(*, actor, name: str) -> Team:
    existing = Team.objects.filter(name__iexact=(name or "").strip()).first()
    return existing or team_create(actor=actor, name=name)


# ---------------------------------------------------------------------------------------------------------
# API tokens: the secret is shown once; only its SHA-256 is stored


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def token_create(*, actor, user: User, name: str = "") -> tuple[ApiToken, str]:
    """Returns the token and its secret, which is never stored and cannot be shown again."""
    if actor is not None and actor.pk != user.pk:
        require_admin(actor)
    if not user.is_active:
        raise ValidationError({"user": ["This user is deactivated."]})
    if len(name or "") > 100:
        raise ValidationError({"name": ["At most 100 characters."]})
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name or "", prefix=secret[:12], key_hash=token_hash(secret)
    )
    return token, secret


def token_revoke(*, actor, token_id: int) -> ApiToken:
    token = ApiToken.objects.filter(pk=token_id).select_related("user").first()
    if token is None or (token.user_id != actor.pk and role_of(actor) != "admin"):
        raise NotFoundError()
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


_USER_FIELDS = [f.attname for f in User._meta.concrete_fields]


def _token_queryset(slots):
    """The token check, compiled once per process (core.sqlcache): token, user and the user's teams."""
    return ApiToken.objects.filter(
        key_hash=slots.str("key_hash"), revoked_at__isnull=True, user__is_active=True
    ).values(
        "id",
        "last_used_at",
        *(f"user__{name}" for name in _USER_FIELDS),
        teams_json=json_list(
            User.teams.through.objects.filter(user_id=OuterRef("user_id")),
            {"id": "team_id", "name": "team__name"},
            group_by="user_id",
        ),
    )[:1]


def token_authenticate(secret: str) -> User | None:
    """The user behind a bearer token, or None. A revoked token or a deactivated user stops at once."""
    if not secret or not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    statement = prepared("token-authenticate", _token_queryset)
    rows = statement.run({"key_hash": token_hash(secret)})
    if not rows:
        return None
    row = rows[0]
    user = User.from_db(statement.using, _USER_FIELDS, [row[f"user__{name}"] for name in _USER_FIELDS])
    # The user's teams come with the token (visibility needs them on every request): one statement.
    # Ordered as `User.team_ids` orders them (by team name): the first is the default team to share with.
    teams = sorted(json_list_decode(row["teams_json"]), key=lambda t: (t["name"], t["id"]))
    user.__dict__["team_ids"] = [t["id"] for t in teams]
    token = SimpleNamespace(pk=row["id"], last_used_at=row["last_used_at"], user=user)
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > dt.timedelta(minutes=5):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


# ---------------------------------------------------------------------------------------------------------
# Sign-in throttling, shared by every web process through the database


def login_is_throttled(*, username: str, ip_address: str) -> bool:
    since = timezone.now() - dt.timedelta(seconds=settings.CRM_LOGIN_FAILURE_WINDOW_SECONDS)
    limit = settings.CRM_LOGIN_FAILURE_LIMIT
    by_name = LoginFailure.objects.filter(username=username.lower()[:150], created_at__gte=since).count()
    by_ip = (
        LoginFailure.objects.filter(ip_address=ip_address, created_at__gte=since).count() if ip_address else 0
    )
    return by_name >= limit or by_ip >= limit * 4


def login_failure_record(*, username: str, ip_address: str) -> None:
    LoginFailure.objects.create(username=username.lower()[:150], ip_address=ip_address[:45])
    cutoff = timezone.now() - dt.timedelta(days=1)
    LoginFailure.objects.filter(created_at__lt=cutoff).delete()


def login_success_record(*, username: str) -> None:
    LoginFailure.objects.filter(username=username.lower()[:150]).delete()


# ---------------------------------------------------------------------------------------------------------
# Custom field definitions (admins) and saved views (everyone, their own)

OBJECT_TYPES = {"contacts.contact": "Contact", "contacts.company": "Company"}


def custom_field_create(*, actor, data: dict) -> CustomField:
    require_admin(actor)
    errors: dict[str, list[str]] = {}
    object_type = data.get("object_type")
    if object_type not in OBJECT_TYPES:
        errors["object_type"] = [f"Choose one of: {', '.join(OBJECT_TYPES)}."]
    label = (data.get("label") or "").strip()
    if not label or len(label) > 100:
        errors["label"] = ["Enter a label of at most 100 characters."]
    key = slugify(data.get("key") or label).replace("-", "_")[:50]
    if not key or not key[0].isalpha():
        errors["key"] = ["Enter a key that starts with a letter (letters, digits and _)."]
    field_type = data.get("field_type")
    if field_type not in CustomField.FieldType.values:
        errors["field_type"] = [f"Choose one of: {', '.join(CustomField.FieldType.values)}."]
    choices = data.get("choices") or []
    if isinstance(choices, str):
        choices = [c.strip() for c in choices.split(",") if c.strip()]
    if field_type in {"choice", "multi_choice"}:
        if not isinstance(choices, list) or not choices or not all(isinstance(c, str) and c for c in choices):
            errors["choices"] = ["List the choices (at least one)."]
        elif len(choices) > 200 or any(len(c) > 100 for c in choices):
            errors["choices"] = ["At most 200 choices of at most 100 characters."]
    else:
        choices = []
    if not errors and CustomField.objects.filter(object_type=object_type, key=key).exists():
        errors["key"] = ["A custom field with this key already exists."]
    raise_if(errors)
    position = CustomField.objects.filter(object_type=object_type).count()
    return CustomField.objects.create(
        object_type=object_type,
        key=key,
        label=label,
        field_type=field_type,
        choices=choices,
        required=bool(data.get("required")),
        help_text=(data.get("help_text") or "")[:200],
        show_in_list=bool(data.get("show_in_list")),
        position=position,
    )


def custom_field_delete(*, actor, field_id: int) -> None:
    """Removes the definition; stored values stay in the records' JSON so nothing is lost."""
    require_admin(actor)
    deleted, _ = CustomField.objects.filter(pk=field_id).delete()
    if not deleted:
        raise NotFoundError()


def saved_view_save(
    *, actor, object_type: str, name: str, filter: str, columns: list, sort: str
) -> SavedView:
    if role_of(actor) is None:
        raise PermissionDeniedError()
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValidationError({"name": ["Enter a name of at most 100 characters."]})
    if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns) or len(columns) > 50:
        raise ValidationError({"columns": ["Expected a list of column names."]})
    view, _ = SavedView.objects.update_or_create(
        user=actor,
        object_type=object_type,
        name=name,
        defaults={"filter": filter or "", "columns": columns, "sort": sort or ""},
    )
    return view


def saved_view_delete(*, actor, view_id: int) -> None:
    deleted, _ = SavedView.objects.filter(pk=view_id, user=actor).delete()
    if not deleted:
        raise NotFoundError()
