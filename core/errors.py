"""Errors that services raise and every interface (API, pages, CLI, import) turns into its own shape."""

from __future__ import annotations


class ServiceError(Exception):
    status = 400

    def __init__(self, detail: str, errors: dict[str, list[str]] | None = None):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or {}


class ValidationError(ServiceError):
    """Bad input: `errors` names every bad field."""

    status = 400

    def __init__(self, errors: dict[str, list[str]] | str, detail: str = "Invalid input."):
        if isinstance(errors, str):
            errors = {"__all__": [errors]}
        super().__init__(detail, errors)


class NotFoundError(ServiceError):
    status = 404

    def __init__(self, detail: str = "Not found."):
        super().__init__(detail)


class PermissionDeniedError(ServiceError):
    status = 403

    def __init__(self, detail: str = "You may not do this."):
        super().__init__(detail)


class ConflictError(ServiceError):
    """The record changed since the client read it (stale `version`)."""

    status = 409

    def __init__(self, detail: str = "This record was changed by someone else.", current_version: int = 0):
        super().__init__(detail, {"version": [f"Stale version; the current version is {current_version}."]})
        self.current_version = current_version
