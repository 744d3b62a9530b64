"""The side panel on contact and company pages: "merged into …" on an absorbed record, the merges on a
survivor (each with its undo page)."""

from __future__ import annotations

from django.template.loader import render_to_string

from core.visibility import can

from . import queries
from .models import Kind


def _panel(request, record, kind: str) -> str:
    merged_into = queries.merged_into(kind, record.pk)
    merges = queries.merges_into(kind, record.pk)
    if merged_into is None and not merges:
        return ""
    context = {"merged_into": merged_into, "merges": merges}
    if merged_into is not None:
        survivor = queries.MODELS[kind].objects.filter(pk=merged_into.survivor_id).first()
        context["survivor_visible"] = survivor is not None and can(request.user, "view", survivor)
        if context["survivor_visible"]:
            context["survivor_url"] = survivor.get_absolute_url()
            context["survivor_label"] = str(survivor)
    return render_to_string("dedupe/panel.html", context, request=request)


def contact_panel(request, record) -> str:
    return _panel(request, record, Kind.CONTACT)


def company_panel(request, record) -> str:
    return _panel(request, record, Kind.COMPANY)
