"""Field-level history: who changed what, when, old → new. Written by services in their transaction."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterable

from django.contrib.contenttypes.models import ContentType
from django.db.models import Model

from .models import HistoryEntry


def to_json_value(value):
    """History and events store plain JSON: dates as ISO text, decimals as strings, models as ids."""
    if isinstance(value, Model):
        return value.pk
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, list | tuple | set):
        return [to_json_value(v) for v in value]
    if isinstance(value, dict):
        return {k: to_json_value(v) for k, v in value.items()}
    return value


def history_record(
    *, instance: Model, actor, action: str, changes: dict[str, tuple] | None = None
) -> HistoryEntry:
    """Append one history entry; `changes` maps field → (old, new)."""
    return HistoryEntry.objects.create(
        content_type=ContentType.objects.get_for_model(instance, for_concrete_model=True),
        object_id=instance.pk,
        action=action,
        actor=actor if getattr(actor, "pk", None) else None,
        changes={k: [to_json_value(o), to_json_value(n)] for k, (o, n) in (changes or {}).items()},
    )


def history_record_bulk(
    *, model: type[Model], actor, action: str, rows: Iterable[tuple[int, dict[str, tuple]]], batch_size=2000
) -> int:
    """Append many entries at once (imports, bulk actions): a bulk write that skips history is a bug."""
    content_type = ContentType.objects.get_for_model(model, for_concrete_model=True)
    actor_id = getattr(actor, "pk", None)
    entries = [
        HistoryEntry(
            content_type=content_type,
            object_id=object_id,
            action=action,
            actor_id=actor_id,
            changes={k: [to_json_value(o), to_json_value(n)] for k, (o, n) in changes.items()},
        )
        for object_id, changes in rows
    ]
    HistoryEntry.objects.bulk_create(entries, batch_size=batch_size)
    return len(entries)


def history_for(instance: Model):
    content_type = ContentType.objects.get_for_model(instance, for_concrete_model=True)
    return (
        HistoryEntry.objects.filter(content_type=content_type, object_id=instance.pk)
        .select_related("actor")
        .order_by("-id")
    )
