"""The REST API's shared machinery: authentication, the one error shape, lean JSON responses, `fields=`.

Every operation answers errors as `{"detail": "...", "errors": {"field": ["message"]}}` and declares
every status it can return, so the OpenAPI document is true.
"""

from __future__ import annotations

from collections.abc import Iterable

import orjson
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, AuthorizationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer, SessionAuth

from .errors import ConflictError, ServiceError, ValidationError
from .throttle import SlidingWindowThrottle


class ErrorOut(Schema):
    detail: str
    errors: dict[str, list[str]] = {}


ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 429: ErrorOut}
READ_ERRORS = {k: v for k, v in ERRORS.items() if k in (400, 401, 403, 404, 429)}


def json_response(data, status: int = 200) -> HttpResponse:
    """orjson straight to bytes: the lean path PERFORMANCE.md measured (Schema validation per field is the
    cost on list pages). Handlers that use it still declare their Schema so the OpenAPI spec is true;
    the test suite validates real responses against that spec."""
    return HttpResponse(
        orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS), status=status, content_type="application/json"
    )


_URL_MAKERS: dict[tuple[str, str], object] = {}


def url_maker(name: str):
    """`url_maker("contacts:contact_detail")(42)` → "/contacts/42/": the URL pattern reversed once per
    process (and script prefix), then filled in by string formatting — reversing per row or per request
    costs more than the rest of a one-record read."""
    from django.urls import get_script_prefix, reverse

    key = (name, get_script_prefix())
    maker = _URL_MAKERS.get(key)
    if maker is None:
        head, tail = reverse(name, args=[987654321]).split("987654321")
        maker = _URL_MAKERS[key] = lambda pk: f"{head}{pk}{tail}"
    return maker


def error_response(status: int, detail: str, errors: dict | None = None) -> HttpResponse:
    return json_response({"detail": detail, "errors": errors or {}}, status=status)


class TokenAuth(HttpBearer):
    """`Authorization: Bearer crm_…`: the token's hash is looked up with its user in one query."""

    def authenticate(self, request: HttpRequest, token: str):
        from users.services import token_authenticate

        user = token_authenticate(token)
        if user is not None:
            request.user = user
        return user


class ActiveSessionAuth(SessionAuth):
    """The browser's session, with Django's CSRF check on unsafe methods."""

    def authenticate(self, request: HttpRequest, key):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_active:
            return user
        return None


def _field_name(loc: Iterable) -> str:
    parts = [str(p) for p in loc]
    while parts and parts[0] in {
        "body",
        "query",
        "path",
        "header",
        "cookie",
        "form",
        "payload",
        "data",
        "filters",
    }:
        parts.pop(0)
    return ".".join(parts) or "__all__"


def install_error_handlers(api: NinjaAPI) -> None:
    @api.exception_handler(ServiceError)
    def service_error(request, exc: ServiceError):
        body = {"detail": exc.detail, "errors": exc.errors}
        if isinstance(exc, ConflictError):
            body["current_version"] = exc.current_version
        return json_response(body, status=exc.status)

    @api.exception_handler(NinjaValidationError)
    def validation_error(request, exc: NinjaValidationError):
        errors: dict[str, list[str]] = {}
        for error in exc.errors:
            name = _field_name(error.get("loc", []))
            message = error.get("msg", "Invalid value.")
            if message.startswith("Value error, "):
                message = message[len("Value error, ") :]
            errors.setdefault(name, []).append(message)
        return error_response(400, "Invalid input.", errors)

    @api.exception_handler(AuthenticationError)
    def authentication_error(request, exc):
        return error_response(401, "Authentication required: send a Bearer token or sign in.")

    @api.exception_handler(AuthorizationError)
    def authorization_error(request, exc):
        return error_response(403, str(exc) or "You may not do this.")

    @api.exception_handler(HttpError)
    def http_error(request, exc: HttpError):
        return error_response(exc.status_code, str(exc))

    @api.exception_handler(Http404)
    def not_found(request, exc):
        return error_response(404, "Not found.")


def fields_parse(fields: str | None, allowed: Iterable[str]) -> set[str] | None:
    """`fields=id,email,tags` → the set to return; unknown names are a 400 naming `fields`."""
    if not fields:
        return None
    wanted = {f.strip() for f in fields.split(",") if f.strip()}
    unknown = wanted - set(allowed)
    if unknown:
        raise ValidationError({"fields": [f"Unknown field(s): {', '.join(sorted(unknown))}."]})
    return wanted | {"id"}


def bool_param(name: str, value) -> bool:
    if value in (None, ""):
        return False
    if isinstance(value, bool):
        return value
    text = str(value).lower()
    if text in {"1", "true", "yes"}:
        return True
    if text in {"0", "false", "no"}:
        return False
    raise ValidationError({name: ["Enter true or false."]})


def make_api(**kwargs) -> NinjaAPI:
    from django.conf import settings

    api = NinjaAPI(
        auth=[TokenAuth(), ActiveSessionAuth()],
        throttle=[SlidingWindowThrottle(settings.CRM_API_RATE)],
        **kwargs,
    )
    install_error_handlers(api)
    return api
