"""The one place that turns (user, action) into a queryset filter.

Rules (the access contract in docs/architecture.md):
- admins see and change everything;
- managers see and change records owned by a member of a team they manage, or shared with such a team;
- members see and change their own records and those shared with one of their teams; they archive only
  their own;
- read-only users see what a member of their teams sees and change nothing.
A record outside the user's view is "not found" for every method; a visible record the user may not
change is "forbidden".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from django.db.models import Model, Q, QuerySet

from .errors import NotFoundError, PermissionDeniedError

Action = Literal["view", "change", "delete"]
ROLES_THAT_WRITE = {"admin", "manager", "member"}


def role_of(user) -> str | None:
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    if user.is_superuser:
        return "admin"
    return user.role


def visibility_q(user, action: Action = "view") -> Q | None:
    """A Q selecting the records `user` may act on; None means every record. Q(pk__in=[]) means none."""
    role = role_of(user)
    nothing = Q(pk__in=[])
    if role is None:
        return nothing
    if role == "admin":
        return None
    team_ids = user.team_ids
    if role == "manager":
        q = Q(owner_id__in=user.managed_user_ids)
        return q | Q(team_id__in=team_ids) if team_ids else q
    if role == "readonly" and action != "view":
        return nothing
    if role == "member" and action == "delete":
        return Q(owner_id=user.pk)
    q = Q(owner_id=user.pk)
    return q | Q(team_id__in=team_ids) if team_ids else q


@dataclass(frozen=True)
class Scope:
    """What `visibility_q` admits, as ids: records owned by one of `owner_ids` or shared with one of
    `team_ids`. For copies of a record's owner and team kept elsewhere (the search documents)."""

    owner_ids: tuple[int, ...]
    team_ids: tuple[int, ...]


def visibility_scope(user, action: Action = "view") -> Scope | None:
    """The ids behind `visibility_q(user, action)`; None means every record. Same rules, same records."""
    role = role_of(user)
    if role is None or (role == "readonly" and action != "view"):
        return Scope((), ())
    if role == "admin":
        return None
    if role == "manager":
        return Scope(tuple(user.managed_user_ids), tuple(user.team_ids))
    if role == "member" and action == "delete":
        return Scope((user.pk,), ())
    return Scope((user.pk,), tuple(user.team_ids))


def restrict(queryset: QuerySet, user, action: Action = "view") -> QuerySet:
    """Every list, detail, search, export and API read starts here.

    The restricted query also carries its Scope (`query.visibility_scope`), which core.search repeats on
    the search documents of the owner/team kinds: an extra narrowing where the index can use it, never a
    replacement for the filter applied here."""
    q = visibility_q(user, action)
    if q is None:
        return queryset
    queryset = queryset.filter(q)
    queryset.query.visibility_scope = visibility_scope(user, action)
    return queryset


def can(user, action: Action, instance: Model) -> bool:
    """Whether `user` may act on one record already in memory (no query)."""
    role = role_of(user)
    if role is None:
        return False
    if role == "admin":
        return True
    owner_id = getattr(instance, "owner_id", None)
    team_id = getattr(instance, "team_id", None)
    if role == "manager":
        return owner_id in user.managed_user_ids or (team_id is not None and team_id in user.team_ids)
    if role == "readonly" and action != "view":
        return False
    if role == "member" and action == "delete":
        return owner_id == user.pk
    return owner_id == user.pk or (team_id is not None and team_id in user.team_ids)


def get_for(user, queryset: QuerySet, pk, action: Action = "view") -> Model:
    """Fetch one record for `action`: 404 when the user may not see it (before any other check),
    403 when they may see it but not do `action`."""
    try:
        instance = restrict(queryset, user, "view").get(pk=pk)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise NotFoundError()
    if action != "view" and not can(user, action, instance):
        raise PermissionDeniedError()
    return instance


def can_create(user) -> bool:
    return role_of(user) in ROLES_THAT_WRITE


def require_create(user) -> None:
    if not can_create(user):
        raise PermissionDeniedError()


def require_admin(user) -> None:
    if role_of(user) != "admin":
        raise PermissionDeniedError(detail="Only administrators may do this.")
