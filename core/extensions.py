"""Extension points other apps plug into, so that a record's page grows without its app knowing.

- Tabs on a record's detail page: `register_tab("contacts.contact", key="timeline", label=_("Timeline"),
  render=fn, order=10)`. `fn(request, record) -> str` returns the tab's HTML; it is called only after the
  detail view has checked that the user may see `record`, and must apply the visibility rules to anything
  else it shows.
- Panels in the side column of the overview tab: `register_panel("contacts.company", key="purchases",
  render=fn, order=10)`, same contract.

Apps register in their `AppConfig.ready()`. Object types are "app_label.model" in lower case, as in
`users.services.OBJECT_TYPES`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.safestring import SafeString, mark_safe


@dataclass(frozen=True)
class Extension:
    key: str
    label: str
    render: Callable
    order: int


_TABS: dict[str, dict[str, Extension]] = {}
_PANELS: dict[str, dict[str, Extension]] = {}


def register_tab(object_type: str, *, key: str, label, render: Callable, order: int = 50) -> None:
    _TABS.setdefault(object_type, {})[key] = Extension(key, label, render, order)


def register_panel(object_type: str, *, key: str, render: Callable, label="", order: int = 50) -> None:
    _PANELS.setdefault(object_type, {})[key] = Extension(key, label, render, order)


def tabs(object_type: str) -> list[Extension]:
    return sorted(_TABS.get(object_type, {}).values(), key=lambda e: (e.order, e.key))


def tab_render(object_type: str, key: str, request, record) -> SafeString | None:
    extension = _TABS.get(object_type, {}).get(key)
    if extension is None:
        return None
    return mark_safe(extension.render(request, record))  # noqa: S308 — the renderer returns template output


def panels_render(object_type: str, request, record) -> list[SafeString]:
    ordered = sorted(_PANELS.get(object_type, {}).values(), key=lambda e: (e.order, e.key))
    return [mark_safe(p.render(request, record)) for p in ordered]  # noqa: S308
