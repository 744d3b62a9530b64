"""The htmx UI of the activities app: the timeline tab and its composer, My tasks, notifications."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from contacts.queries import company_get, contact_get
from core.errors import ValidationError
from core.views import crm_view, is_htmx, safe_next
from core.visibility import can, role_of

from . import queries, services
from .forms import ComposerForm, assignee_choices
from .models import Activity

PAGE_SIZE = 20
KIND_ICONS = {"note": "edit", "call": "phone", "meeting": "calendar", "email": "mail", "task": "check"}
FILTERS = [
    ("", gettext_lazy("All")),
    ("note", gettext_lazy("Notes")),
    ("call", gettext_lazy("Calls")),
    ("meeting", gettext_lazy("Meetings")),
    ("email", gettext_lazy("E-mails")),
    ("task", gettext_lazy("Tasks")),
    ("event", gettext_lazy("Changes")),
]
TARGETS = {
    "contact": (
        contact_get,
        "contacts:contact_detail",
        "activities:contact_timeline",
        "activities:contact_compose",
    ),
    "company": (
        company_get,
        "contacts:company_detail",
        "activities:company_timeline",
        "activities:company_compose",
    ),
}


def _kind_param(request) -> str:
    kind = request.GET.get("kind") or ""
    return kind if kind in {k for k, _ in FILTERS} else ""


def _entries_context(request, record, target: str, kind: str, cursor: str | None) -> dict:
    page = queries.timeline(request.user, record, kinds=kind or None, cursor=cursor, limit=PAGE_SIZE)
    user = request.user
    entries = []
    for entry in page["entries"]:
        if entry["type"] == "activity":
            activity = entry["activity"]
            entries.append(
                {
                    **entry,
                    "icon": KIND_ICONS[activity.kind],
                    "can_change": queries.can_change_activity(user, activity),
                    "can_complete": activity.kind == "task" and queries.can_complete_task(user, activity),
                    "rich": activity.kind in ("note", "email"),
                }
            )
        else:
            event = entry["event"]
            entries.append({**entry, "icon": "zap", "changes": _event_changes(event)})
    return {
        "entries": entries,
        "next_cursor": page["next_cursor"],
        "timeline_url": reverse(TARGETS[target][2], args=[record.pk]),
        "kind": kind,
    }


def _event_changes(event) -> list[dict]:
    labels = {"owner_id": _("Owner"), "lifecycle_stage": _("Stage"), "archived": _("Archived")}
    return [
        {"field": labels.get(k, k), "old": v[0], "new": v[1]}
        for k, v in (event.changes or {}).items()
        if k in labels and isinstance(v, list) and len(v) == 2
    ]


def timeline_tab(request, record, target: str, *, form: ComposerForm | None = None) -> str:
    """The "Timeline" tab: the composer (for people who may change the record), the kind filter and
    the first page. The caller has checked that the user may see `record`."""
    kind = _kind_param(request)
    context = {
        "record": record,
        "target": target,
        "filters": FILTERS,
        "can_compose": can(request.user, "change", record),
        "compose_url": reverse(TARGETS[target][3], args=[record.pk]),
        **_entries_context(request, record, target, kind, None),
    }
    if context["can_compose"]:
        context["form"] = form or ComposerForm(user=request.user, kind=request.GET.get("compose") or "note")
        context["kinds"] = Activity.Kind.choices
    return render_to_string("activities/timeline_tab.html", context, request=request)


def open_tasks_panel(request, record) -> str:
    tasks = queries.open_tasks_for(request.user, record)
    return render_to_string(
        "activities/open_tasks_panel.html",
        {"tasks": tasks, "record": record, "now": timezone.now()},
        request=request,
    )


def contact_timeline_tab(request, record) -> str:
    return timeline_tab(request, record, "contact")


def company_timeline_tab(request, record) -> str:
    return timeline_tab(request, record, "company")


def _timeline(request, pk, target: str):
    record = TARGETS[target][0](request.user, pk)
    kind = _kind_param(request)
    if request.GET.get("part") == "entries":
        context = _entries_context(request, record, target, kind, request.GET.get("cursor") or None)
        return render(request, "activities/timeline_entries.html", context)
    return HttpResponse(timeline_tab(request, record, target))


@crm_view("GET")
def contact_timeline(request, pk):
    return _timeline(request, pk, "contact")


@crm_view("GET")
def company_timeline(request, pk):
    return _timeline(request, pk, "company")


def _compose(request, pk, target: str):
    getter, detail_name, _timeline_name, compose_name = TARGETS[target]
    record = getter(request.user, pk, "change")
    if request.method == "GET":
        form = ComposerForm(user=request.user, kind=request.GET.get("kind") or "note")
        return render(
            request,
            "activities/composer.html",
            {"form": form, "compose_url": reverse(compose_name, args=[pk]), "kinds": Activity.Kind.choices},
        )
    form = ComposerForm(request.POST, user=request.user, kind=request.POST.get("kind") or "note")
    if form.is_valid():
        data = form.to_data()
        data["links"] = [{f"{target}_id": record.pk}]
        try:
            services.activity_create(actor=request.user, data=data)
        except ValidationError as exc:
            form.apply_service_errors(exc.errors)
        else:
            if is_htmx(request):
                return HttpResponse(timeline_tab(request, record, target))
            return redirect(reverse(detail_name, args=[record.pk]) + "?tab=timeline")
    if is_htmx(request):
        return HttpResponse(timeline_tab(request, record, target, form=form))
    return render(
        request,
        "activities/composer.html",
        {"form": form, "compose_url": reverse(compose_name, args=[pk]), "kinds": Activity.Kind.choices},
        status=400,
    )


@crm_view("GET", "POST")
def contact_compose(request, pk):
    return _compose(request, pk, "contact")


@crm_view("GET", "POST")
def company_compose(request, pk):
    return _compose(request, pk, "company")


@crm_view("POST")
def activity_archive(request, pk):
    services.activity_archive(actor=request.user, activity_id=pk)
    if is_htmx(request):
        return HttpResponse("")
    return redirect(safe_next(request, reverse("activities:task_list")))


# ---------------------------------------------------------------------------------------------------------
# My tasks


def _task_row(request, task, group: str) -> HttpResponse:
    return render(
        request,
        "activities/task_row.html",
        {"task": task, "group": group, "can_complete": queries.can_complete_task(request.user, task)},
    )


def _set_done(request, pk, done: bool):
    func = services.task_complete if done else services.task_reopen
    task = func(actor=request.user, activity_id=pk)
    if is_htmx(request):
        return _task_row(request, task, queries.due_group(task.due_at))
    return redirect(safe_next(request, reverse("activities:task_list")))


@crm_view("POST")
def task_complete(request, pk):
    return _set_done(request, pk, True)


@crm_view("POST")
def task_reopen(request, pk):
    return _set_done(request, pk, False)


@crm_view("GET")
def task_list(request):
    user = request.user
    role = role_of(user)
    assignee_id = request.GET.get("assignee") or None
    people = assignee_choices(user) if role in ("admin", "manager") else []
    if assignee_id is not None and assignee_id not in {pk for pk, _ in people}:
        assignee_id = None
    tasks = list(
        queries.task_list(user, assignee_id=int(assignee_id) if assignee_id else None)
        .select_related("assignee")
        .order_by("occurred_at", "id")[:500]
    )
    ids = [t.pk for t in tasks]
    links = {}
    if ids:
        from .models import ActivityLink

        for link in ActivityLink.objects.filter(activity_id__in=ids).select_related("contact", "company"):
            links.setdefault(link.activity_id, []).append(link.contact or link.company)
    groups = {"overdue": [], "today": [], "upcoming": []}
    for task in tasks:
        task.targets = [t for t in links.get(task.pk, []) if can(user, "view", t)]
        groups[queries.due_group(task.due_at)].append(task)
    context = {
        "title": _("My tasks"),
        "groups": [
            ("overdue", _("Overdue"), groups["overdue"]),
            ("today", _("Today"), groups["today"]),
            ("upcoming", _("Upcoming"), groups["upcoming"]),
        ],
        "total": len(tasks),
        "people": people,
        "assignee": assignee_id or str(user.pk),
        "feed_url": "/api/v1/tasks.ics",
    }
    return render(request, "activities/task_list.html", context)


# ---------------------------------------------------------------------------------------------------------
# Notifications


@crm_view("GET")
def notifications(request):
    items = list(queries.notification_list(request.user).order_by("-id")[:100])
    return render(
        request,
        "activities/notifications.html",
        {"title": _("Notifications"), "items": items, "unread": sum(1 for n in items if n.read_at is None)},
    )


@crm_view("POST")
def notifications_read(request):
    services.notifications_mark_read(actor=request.user)
    return redirect(safe_next(request, reverse("activities:notifications")))
