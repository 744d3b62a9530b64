"""Visibility-matrix rows for the imports app (see tests/matrix/__init__.py)."""

from __future__ import annotations

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

API: dict = {}
PAGES: dict = {}
PAGE_ARGS: dict = {}


def world(ctx: dict) -> None:
    """Add this app's records to the shared world."""


def state() -> tuple:
    """Everything a refused call on this app's rows could have changed."""
    return ()
