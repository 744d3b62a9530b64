"""REST API for users, teams, API tokens and custom field definitions."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse
from ninja import Router

from core.api import ERRORS, READ_ERRORS, ErrorOut, error_response, json_response
from core.errors import NotFoundError
from core.models import CustomField
from core.visibility import require_admin

from . import services
from .models import ApiToken, Team, User
from .schemas import (
    CustomFieldIn,
    CustomFieldOut,
    HealthOut,
    LoginIn,
    TeamIn,
    TeamOut,
    TokenCreatedOut,
    TokenIn,
    TokenOut,
    UserIn,
    UserOut,
    UserPatch,
)

router = Router(tags=["users"])
public_router = Router(tags=["public"])


def user_dict(user: User) -> dict:
    return {
        "id": user.pk,
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "role": "admin" if user.is_superuser else user.role,
        "is_active": user.is_active,
        "teams": [{"id": t.pk, "name": t.name} for t in user.teams.all()],
    }


def token_dict(token: ApiToken) -> dict:
    return {
        "id": token.pk,
        "name": token.name,
        "prefix": token.prefix,
        "user_id": token.user_id,
        "created_at": token.created_at,
        "last_used_at": token.last_used_at,
        "revoked_at": token.revoked_at,
    }


def custom_field_dict(field: CustomField) -> dict:
    return {
        k: getattr(field, k)
        for k in (
            "id",
            "object_type",
            "key",
            "label",
            "field_type",
            "choices",
            "required",
            "help_text",
            "show_in_list",
        )
    }


# Public on purpose: health and token sign-in carry no security requirement.


@public_router.get("/health", auth=None, response={200: HealthOut, 503: ErrorOut}, summary="Health check")
def health(request: HttpRequest):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        return error_response(503, "The database is not reachable.")
    return json_response({"status": "ok", "database": connection.vendor})


@public_router.post(
    "/auth/token",
    auth=None,
    response={201: TokenCreatedOut, 400: ErrorOut, 401: ErrorOut, 429: ErrorOut},
    summary="Sign in and get an API token",
)
def auth_token(request: HttpRequest, payload: LoginIn):
    """Exchange a username and password for a new API token (shown once). Throttled like the sign-in page."""
    from django.contrib.auth import authenticate

    ip = request.META.get("REMOTE_ADDR", "")
    if services.login_is_throttled(username=payload.username, ip_address=ip):
        return error_response(429, "Too many failed sign-ins; wait a few minutes and try again.")
    user = authenticate(request, username=payload.username, password=payload.password)
    if user is None:
        services.login_failure_record(username=payload.username, ip_address=ip)
        return error_response(401, "Wrong username or password.")
    services.login_success_record(username=payload.username)
    token, secret = services.token_create(actor=user, user=user, name=payload.name or "API sign-in")
    return json_response({**token_dict(token), "token": secret}, status=201)


@router.get("/me", response={200: UserOut, **READ_ERRORS}, summary="The signed-in user")
def me(request: HttpRequest):
    return json_response(user_dict(request.auth))


@router.get("/users", response={200: list[UserOut], **READ_ERRORS}, summary="List users")
def user_list(request: HttpRequest):
    """Every user, for choosing owners (names and roles are not secret within the organisation)."""
    users = User.objects.prefetch_related("teams").order_by("username")
    return json_response([user_dict(u) for u in users])


@router.post("/users", response={201: UserOut, **ERRORS}, summary="Create a user (admins)")
def user_create(request: HttpRequest, payload: UserIn):
    user = services.user_create(actor=request.auth, data=payload.model_dump(exclude_unset=True))
    return json_response(user_dict(user), status=201)


@router.get("/users/{user_id}", response={200: UserOut, **READ_ERRORS}, summary="Read a user")
def user_get(request: HttpRequest, user_id: int):
    user = User.objects.filter(pk=user_id).prefetch_related("teams").first()
    if user is None:
        raise NotFoundError()
    return json_response(user_dict(user))


@router.patch("/users/{user_id}", response={200: UserOut, **ERRORS}, summary="Change a user (admins)")
def user_update(request: HttpRequest, user_id: int, payload: UserPatch):
    user = services.user_update(
        actor=request.auth, user_id=user_id, data=payload.model_dump(exclude_unset=True)
    )
    return json_response(user_dict(user))


@router.get("/teams", response={200: list[TeamOut], **READ_ERRORS}, summary="List teams")
def team_list(request: HttpRequest):
    return json_response([{"id": t.pk, "name": t.name} for t in Team.objects.order_by("name")])


@router.post("/teams", response={201: TeamOut, **ERRORS}, summary="Create a team (admins)")
def team_create(request: HttpRequest, payload: TeamIn):
    team = services.team_create(actor=request.auth, name=payload.name)
    return json_response({"id": team.pk, "name": team.name}, status=201)


@router.get("/tokens", response={200: list[TokenOut], **READ_ERRORS}, summary="List API tokens")
def token_list(request: HttpRequest):
    """Your own tokens; admins see everyone's."""
    tokens = ApiToken.objects.all()
    if request.auth.role != "admin" and not request.auth.is_superuser:
        tokens = tokens.filter(user=request.auth)
    return json_response([token_dict(t) for t in tokens.order_by("-id")[:500]])


@router.post("/tokens", response={201: TokenCreatedOut, **ERRORS}, summary="Create an API token")
def token_create(request: HttpRequest, payload: TokenIn):
    """The secret is in `token`; it is shown only in this response."""
    token, secret = services.token_create(actor=request.auth, user=request.auth, name=payload.name or "")
    return json_response({**token_dict(token), "token": secret}, status=201)


@router.delete("/tokens/{token_id}", response={204: None, **READ_ERRORS}, summary="Revoke an API token")
def token_revoke(request: HttpRequest, token_id: int):
    services.token_revoke(actor=request.auth, token_id=token_id)
    return HttpResponse(status=204)


@router.get(
    "/custom-fields", response={200: list[CustomFieldOut], **READ_ERRORS}, summary="List custom fields"
)
def custom_field_list(request: HttpRequest, object_type: str | None = None):
    fields = CustomField.objects.all()
    if object_type:
        fields = fields.filter(object_type=object_type)
    return json_response([custom_field_dict(f) for f in fields])


@router.post(
    "/custom-fields", response={201: CustomFieldOut, **ERRORS}, summary="Define a custom field (admins)"
)
def custom_field_create(request: HttpRequest, payload: CustomFieldIn):
    field = services.custom_field_create(actor=request.auth, data=payload.model_dump())
    return json_response(custom_field_dict(field), status=201)


@router.delete(
    "/custom-fields/{field_id}", response={204: None, **READ_ERRORS}, summary="Remove a custom field (admins)"
)
def custom_field_delete(request: HttpRequest, field_id: int):
    """Removes the definition; values already stored stay in the records, so nothing is lost."""
    require_admin(request.auth)
    services.custom_field_delete(actor=request.auth, field_id=field_id)
    return HttpResponse(status=204)
