"""Fixtures of the dedupe tests."""

from __future__ import annotations

import pytest
from django.apps import apps

# Rows a merge and its undo are expected to add to (not to restore): the record of what happened.
LOG_MODELS = {
    "core.historyentry",
    "core.outboxevent",
    "core.eventdelivery",
    "core.searchdocument",
    "users.apitoken",
    "sessions.session",
}


def database_dump() -> dict:
    """Every row of every table a merge may touch, in primary-key order (log tables and the dedupe app's
    own rows aside)."""
    dump = {}
    for model in apps.get_models(include_auto_created=True):
        label = model._meta.label_lower
        if label in LOG_MODELS or model._meta.app_label in {"dedupe", "django_tasks_db", "contenttypes"}:
            continue
        if model._meta.app_label in {"auth", "admin"}:
            continue
        dump[label] = list(model._base_manager.order_by("pk").values())
    return dump


@pytest.fixture
def dump():
    return database_dump
