"""What the global search box searches: each app registers one function per group of results.

    from core.search_providers import register

    def _contacts(user, text, limit):
        rows = ...  # visible to `user`, matching `text`, at most `limit`
        return _("Contacts"), [{"title": ..., "subtitle": ..., "url": ...} for row in rows]

    register("contacts", _contacts, order=10, more_url=lambda text: f"/contacts/?q={quote(text)}")

The search page and the dropdown call every provider in `order` and show each non-empty group. A provider
must apply the visibility rules itself (start from core.visibility.restrict or the app's list query).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from .errors import ValidationError

logger = logging.getLogger(__name__)

Result = dict  # {"title": str, "subtitle": str, "url": str}
Provider = Callable[[object, str, int], tuple[str, list[Result]]]


@dataclass(frozen=True)
class _Entry:
    key: str
    func: Provider
    order: int
    more_url: Callable[[str], str] | None


_registry: dict[str, _Entry] = {}


def register(
    key: str, func: Provider, *, order: int = 100, more_url: Callable[[str], str] | None = None
) -> None:
    """Register (or replace, so re-imports are harmless) the provider called `key`."""
    _registry[key] = _Entry(key, func, order, more_url)


def unregister(key: str) -> None:
    _registry.pop(key, None)


def providers() -> list[_Entry]:
    return sorted(_registry.values(), key=lambda e: (e.order, e.key))


def search_all(user, text: str, *, limit: int = 5) -> tuple[list[dict], list[str]]:
    """Run every provider. Returns (groups, errors): groups are {key, label, results, more_url}, in order,
    empty ones left out; errors are messages for the person (a search text a provider refuses)."""
    text = (text or "").strip()
    groups: list[dict] = []
    errors: list[str] = []
    if not text:
        return groups, errors
    for entry in providers():
        try:
            label, results = entry.func(user, text, limit)
        except ValidationError as exc:
            for messages in exc.errors.values():
                for message in messages:
                    if message not in errors:
                        errors.append(message)
            continue
        results = list(results)[:limit]
        if results:
            groups.append(
                {
                    "key": entry.key,
                    "label": label,
                    "results": results,
                    "more_url": entry.more_url(text) if entry.more_url else "",
                }
            )
    return groups, errors
