"""Generic page machinery with no CRM nouns: error mapping, list pages (filter, search, saved views, sortable
columns, keyset pages, column chooser, bulk actions, CSV export), inline editing of one field, form error
mapping, and the global search page.

An app declares a list page by subclassing `ListView` (see its docstring); an inline-editable field panel by
subclassing `InlineEditView`; service errors raised anywhere in a view become the right page through
`service_errors` (404, 403, 409, 400), for full pages and htmx requests alike.
"""

from __future__ import annotations

import csv
import functools
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.decorators.http import require_http_methods

from .errors import ConflictError, NotFoundError, PermissionDeniedError, ServiceError, ValidationError
from .models import CustomField, SavedView
from .pagination import cursor_encode, id_cursor_decode, id_order, keyset_page
from .search_providers import search_all
from .tables import Table, csv_cell
from .visibility import can_create, role_of

logger = logging.getLogger(__name__)

# ---------------------------------------------------------------------------------------------------------
# Requests and responses


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-Boosted") != "true"


def safe_next(request: HttpRequest, fallback: str) -> str:
    """The `next` URL from the form or query string when it points to this site, else `fallback`."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return fallback


def error_messages(errors: dict[str, list[str]]) -> list[str]:
    """Every message of a ValidationError, once each, in order."""
    seen: list[str] = []
    for messages_ in errors.values():
        for message in messages_:
            if str(message) not in seen:
                seen.append(str(message))
    return seen


ERROR_TITLES = {
    400: gettext_lazy("That did not work"),
    403: gettext_lazy("You don’t have access to this"),
    404: gettext_lazy("Page not found"),
    409: gettext_lazy("Changed by someone else"),
}


def error_response(request: HttpRequest, status: int, message: str = "", errors: list[str] | None = None):
    """The error page (inside the layout) or, for htmx requests, a small alert fragment."""
    if status == 404:
        template = "errors/404.html"
    elif status == 403:
        template = "errors/403.html"
    else:
        template = "errors/error.html"
    if is_htmx(request):
        template = "components/alert.html"
    context = {
        "status": status,
        "title": ERROR_TITLES.get(status, _("Something went wrong")),
        "message": message,
        "errors": errors or [],
        "level": "error",
    }
    return render(request, template, context, status=status)


def service_error_response(request: HttpRequest, exc: ServiceError) -> HttpResponse:
    if isinstance(exc, NotFoundError):
        return error_response(request, 404, _("This record does not exist, or you may not see it."))
    if isinstance(exc, PermissionDeniedError):
        return error_response(request, 403, _(exc.detail) if exc.detail else "")
    if isinstance(exc, ConflictError):
        return error_response(
            request, 409, _("This record was changed by someone else. Reload to see the changes.")
        )
    if isinstance(exc, ValidationError):
        return error_response(request, 400, _("Please check the input."), error_messages(exc.errors))
    return error_response(request, exc.status, _(exc.detail))


def service_errors(view: Callable) -> Callable:
    """Turn service errors escaping a view into the matching page: NotFoundError → 404, PermissionDeniedError
    → 403, ConflictError → 409, ValidationError → 400 (listing the messages). Django's own Http404 and
    PermissionDenied are rendered the same way, inside the layout."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except ServiceError as exc:
            return service_error_response(request, exc)
        except Http404:
            return error_response(request, 404)
        except PermissionDenied as exc:
            return error_response(request, 403, str(exc) if str(exc) else "")

    return wrapper


def login_redirect(request: HttpRequest) -> HttpResponse:
    """Send a signed-out person to the sign-in page; htmx requests get HX-Redirect so the whole page moves."""
    if is_htmx(request):
        target = request.headers.get("HX-Current-URL") or request.get_full_path()
        response = HttpResponse(status=401)
        response["HX-Redirect"] = redirect_to_login(target).url
        return response
    return redirect_to_login(request.get_full_path())


def login_required(view: Callable) -> Callable:
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return login_redirect(request)
        return view(request, *args, **kwargs)

    return wrapper


def crm_view(*methods: str):
    """Decorator for function views: sign-in required, only `methods` (default GET), service errors mapped.

    @crm_view("GET", "POST")
    def contact_create(request): ...
    """
    allowed = list(methods or ("GET",))
    if "GET" in allowed and "HEAD" not in allowed:
        allowed.append("HEAD")

    def decorate(view):
        return login_required(require_http_methods(allowed)(service_errors(view)))

    return decorate


class CrmViewMixin:
    """For class-based views: sign-in required and service errors mapped, as `crm_view` does."""

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return login_redirect(request)
        return service_errors(super().dispatch)(request, *args, **kwargs)


def require_writer(user) -> None:
    """Read-only users (and anyone who may not create records) get 403 on writes."""
    if not can_create(user):
        raise PermissionDeniedError(_("Your role can view records but not change them."))


def require_admin_page(user) -> None:
    if role_of(user) != "admin":
        raise PermissionDeniedError(_("Only administrators may open this page."))


# ---------------------------------------------------------------------------------------------------------
# Forms: service errors beside their fields, custom fields by type, a record picker


def apply_errors(form: forms.BaseForm, errors: dict[str, list[str]], aliases: dict[str, str] | None = None):
    """Put a service's ValidationError.errors onto `form`: each message beside its field.

    A key is matched exactly, then `custom.<key>` as `custom_<key>`, then through `aliases` by its longest
    dotted prefix (`emails.3.email` → aliases["emails"]); anything else becomes a form-wide error."""
    aliases = aliases or {}
    for key, messages_ in errors.items():
        target = None
        if key in form.fields:
            target = key
        elif key.startswith("custom.") and f"custom_{key[7:]}" in form.fields:
            target = f"custom_{key[7:]}"
        else:
            parts = key.split(".")
            for end in range(len(parts), 0, -1):
                prefix = ".".join(parts[:end])
                if prefix in aliases and aliases[prefix] in form.fields:
                    target = aliases[prefix]
                    break
        for message in messages_:
            if target and target in form.fields:
                if target not in form.errors or message not in form.errors[target]:
                    form.add_error(target, str(message))
            elif key in ("__all__", "version"):
                form.add_error(None, str(message))
            else:
                form.add_error(None, f"{key}: {message}")


BOOLEAN_CHOICES = [("", "—"), ("true", gettext_lazy("Yes")), ("false", gettext_lazy("No"))]


def custom_form_field(definition: CustomField) -> forms.Field:
    """A form field for an admin-defined custom field, drawn by its type. The service validates values; the
    form only collects them (so every error comes from one place, shown beside its field)."""
    common = {"label": definition.label, "required": False, "help_text": definition.help_text}
    kind = definition.field_type
    if kind == "number":
        return forms.CharField(widget=forms.NumberInput(attrs={"step": "any"}), **common)
    if kind == "date":
        return forms.CharField(widget=forms.DateInput(attrs={"type": "date"}), **common)
    if kind == "url":
        return forms.CharField(widget=forms.URLInput(attrs={"placeholder": "https://"}), **common)
    if kind == "email":
        return forms.CharField(widget=forms.EmailInput(), **common)
    if kind == "boolean":
        return forms.ChoiceField(choices=BOOLEAN_CHOICES, **common)
    if kind == "choice":
        return forms.ChoiceField(choices=[("", "—"), *[(c, c) for c in definition.choices]], **common)
    if kind == "multi_choice":
        return forms.MultipleChoiceField(
            choices=[(c, c) for c in definition.choices], widget=forms.CheckboxSelectMultiple, **common
        )
    return forms.CharField(max_length=2000, **common)


def custom_initial(definition: CustomField, value: Any) -> Any:
    """The stored JSON value as the form field's initial value."""
    if value is None:
        return [] if definition.field_type == "multi_choice" else ""
    if definition.field_type == "boolean":
        return "true" if value else "false"
    return value


def custom_value(definition: CustomField, value: Any) -> Any:
    """The submitted value as the service expects it (None clears the field)."""
    if definition.field_type == "multi_choice":
        return list(value or []) or None
    if value in ("", None):
        return None
    return value


def custom_fields_add(form: forms.BaseForm, definitions: Iterable[CustomField], current: dict | None) -> None:
    """Add one `custom_<key>` field per definition to `form`, with the record's current values."""
    for definition in definitions:
        name = f"custom_{definition.key}"
        form.fields[name] = custom_form_field(definition)
        form.fields[name].custom = True
        if current is not None:
            form.initial[name] = custom_initial(definition, current.get(definition.key))


def custom_fields_data(form: forms.BaseForm, definitions: Iterable[CustomField]) -> dict:
    return {d.key: custom_value(d, form.cleaned_data.get(f"custom_{d.key}")) for d in definitions}


class RecordPicker(forms.Widget):
    """A search-as-you-type picker for one record (a hidden id plus a text box). `source` is the URL of a
    view answering `?q=` with `components/picker_options.html`; `label` is the current record's name."""

    template_name = "components/picker.html"

    def __init__(self, source: str = "", label: str = "", attrs=None):
        super().__init__(attrs)
        self.source = source
        self.label = label

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        source = self.source
        if callable(source):
            source = source()
        context["widget"].update({"source": str(source), "label": self.label})
        return context

    def render(self, name, value, attrs=None, renderer=None):
        # The project's template engine (not the form renderer's) so the template can live in templates/.
        return mark_safe(render_to_string(self.template_name, self.get_context(name, value, attrs)))  # noqa: S308


def picker_options(request: HttpRequest, rows: Iterable[tuple[Any, str, str]]) -> HttpResponse:
    """Answer a RecordPicker: rows of (value, label, hint)."""
    return render(request, "components/picker_options.html", {"options": list(rows)})


# ---------------------------------------------------------------------------------------------------------
# List pages


@dataclass
class BulkAction:
    """One action on the selected rows of a list.

    key       the `action` value posted.
    label     the button text.
    run       callable(user, ids, value) → number of records changed (calls the app's bulk service).
    input     None, "text" (e.g. a tag name) or "choice" (then `choices(user)` gives (value, label) pairs).
    confirm   a question shown before running (destructive actions).
    done      message after running, with %(count)s.
    """

    key: str
    label: str
    run: Callable[[Any, list[int], Any], int]
    input: str | None = None
    choices: Callable[[Any], list[tuple[Any, str]]] | None = None
    placeholder: str = ""
    confirm: str = ""
    done: str = gettext_lazy("%(count)s records updated.")
    danger: bool = False


@dataclass
class ListState:
    """What the query string says: filter, quick search, sort, columns, cursor, archived, saved view."""

    filter: str = ""
    q: str = ""
    sort: str = ""
    cols: list[str] = field(default_factory=list)
    cursor: str = ""
    archived: bool = False
    view: str = ""

    @classmethod
    def from_query(cls, query) -> ListState:
        cols: list[str] = []
        for value in query.getlist("cols"):
            cols.extend(c.strip() for c in value.split(",") if c.strip())
        return cls(
            filter=(query.get("filter") or "").strip(),
            q=(query.get("q") or "").strip(),
            sort=(query.get("sort") or "").strip(),
            cols=list(dict.fromkeys(cols)),
            cursor=(query.get("cursor") or "").strip(),
            archived=query.get("archived") in {"1", "true", "on", "yes"},
            view=(query.get("view") or "").strip(),
        )

    def params(self, **overrides) -> dict[str, str]:
        values = {
            "filter": self.filter,
            "q": self.q,
            "sort": self.sort,
            "cols": ",".join(self.cols),
            "cursor": self.cursor,
            "archived": "1" if self.archived else "",
            "view": self.view,
        }
        for key, value in overrides.items():
            if key == "cols" and isinstance(value, list | tuple):
                value = ",".join(value)
            if key == "archived":
                value = "1" if value else ""
            values[key] = value if value is not None else ""
        return {k: v for k, v in values.items() if v}

    def query(self, **overrides) -> str:
        params = self.params(**overrides)
        return "?" + urlencode(params) if params else "?"


def sort_resolve_default(sorts: dict, sort: str | None, default: str) -> list[tuple[str, bool]]:
    """`name` ascending, `-name` descending; unknown names are an error on `sort`."""
    sort = (sort or default).strip()
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    if key not in sorts:
        raise ValidationError(
            {"sort": [_("Sort by one of: %(names)s.") % {"names": ", ".join(sorted(sorts))}]}
        )
    return [(column, descending) for column, _d in sorts[key]]


class ListView(CrmViewMixin, View):
    """A list page, its CSV export and its bulk actions, declared in a few lines:

        class DealList(ListView):
            object_type = "sales.deal"                 # saved views and custom-field columns
            title = _("Deals")
            table = deal_table                         # core.tables.Table
            registry = deal_fields                     # query language FieldRegistry (or None)
            sorts = DEAL_SORTS                         # name → [(column, descending), ..., ("id", False)]
            default_sort = "-created_at"
            url_name = "sales:deal_list"               # this page
            export_url_name = "sales:deal_export"      # optional
            bulk_url_name = "sales:deal_bulk"          # optional
            create_url_name = "sales:deal_create"      # optional
            bulk_actions = [BulkAction(...), ...]

            def get_queryset(self, *, filter, q, archived):
                return deal_list(self.request.user, filter=filter, q=q, archived=archived)

            def optimize(self, queryset):              # everything the columns touch, no N+1
                return queryset.select_related("owner").prefetch_related("tags")

        urlpatterns = [
            path("deals/", DealList.as_view(), name="deal_list"),
            path("deals/export.csv", DealList.as_view(mode="export"), name="deal_export"),
            path("deals/bulk/", DealList.as_view(mode="bulk"), name="deal_bulk"),
        ]

    Query string: filter, q, sort, cols (comma separated), cursor, archived=1, view (saved view id).
    """

    mode = "page"  # "page", "export" or "bulk"
    template_name = "core/list.html"
    object_type = ""
    title = ""
    noun_plural = gettext_lazy("records")
    table: Table
    registry = None
    sorts: dict = {}
    default_sort = "-id"
    page_size = 50
    url_name = ""
    export_url_name = ""
    bulk_url_name = ""
    create_url_name = ""
    create_label = gettext_lazy("New record")
    bulk_actions: list[BulkAction] = []
    search_placeholder = gettext_lazy("Search…")
    filter_placeholder = gettext_lazy('Filter, e.g. created > 30d and tags = "vip"')
    empty_title = gettext_lazy("Nothing here yet")
    empty_text = gettext_lazy("Records you create or import will appear here.")
    export_filename = "export"
    export_chunk_size = 2000
    # Lists whose get_queryset takes `id_order` and `after` (core.search.filter_queryset): a quick search
    # with no sort chosen is then shown newest first straight from the search index, and a searched
    # page in id order never sorts every match (a common prefix at 1M rows: ~500 ms → a few ms).
    search_in_index_order = False

    # Hooks -------------------------------------------------------------------------------------------

    def get_queryset(self, *, filter: str, q: str, archived: bool):
        raise NotImplementedError

    def optimize(self, queryset):
        """Add select_related / prefetch_related for the columns (constant queries per page)."""
        return queryset

    def resolve_sort(self, sort: str) -> list[tuple[str, bool]]:
        return sort_resolve_default(self.sorts, sort, self.default_sort)

    def annotate_sort(self, queryset, order: list[tuple[str, bool]]):
        return queryset

    def custom_fields(self) -> list[CustomField]:
        if not self.object_type:
            return []
        return list(CustomField.objects.filter(object_type=self.object_type))

    def extra_context(self) -> dict:
        return {}

    # Plumbing ----------------------------------------------------------------------------------------

    @property
    def list_url(self) -> str:
        return reverse(self.url_name)

    def get(self, request, *args, **kwargs):
        if self.mode == "export":
            return self.export(request)
        if self.mode != "page":
            return HttpResponse(status=405)
        return self.page(request)

    def post(self, request, *args, **kwargs):
        if self.mode == "bulk":
            return self.bulk(request)
        if self.mode == "page":
            return self.saved_view_post(request)
        return HttpResponse(status=405)

    def effective_sort(self, state: ListState) -> str:
        if state.sort:
            return state.sort
        return "-id" if state.q and self.search_in_index_order else self.default_sort

    def ordered_queryset(self, state: ListState):
        queryset = self.get_queryset(filter=state.filter, q=state.q, archived=state.archived)
        order = self.resolve_sort(self.effective_sort(state))
        queryset = self.annotate_sort(queryset, order)
        return self.optimize(queryset), order

    def searched_page(self, state: ListState, order) -> tuple[list, str | None]:
        """A searched page in id order, ordered and bounded by the search index itself."""
        queryset = self.get_queryset(
            filter=state.filter,
            q=state.q,
            archived=state.archived,
            id_order="desc" if order[0][1] else "asc",
            after=id_cursor_decode(state.cursor or None),
        )
        rows = list(self.optimize(queryset)[: self.page_size + 1])
        if len(rows) <= self.page_size:
            return rows, None
        rows = rows[: self.page_size]
        return rows, cursor_encode([rows[-1].pk])

    def page(self, request):
        state = ListState.from_query(request.GET)
        custom_fields = self.custom_fields()
        available = self.table.available(custom_fields)
        columns = self.table.choose(state.cols, custom_fields)
        errors: dict[str, list[str]] = {}
        rows: list = []
        next_cursor = None
        try:
            order = self.resolve_sort(self.effective_sort(state))
            if state.q and self.search_in_index_order and id_order(order):
                rows, next_cursor = self.searched_page(state, order)
            else:
                queryset, order = self.ordered_queryset(state)
                rows, next_cursor = keyset_page(queryset, order, state.cursor or None, self.page_size)
        except ValidationError as exc:
            errors = exc.errors
        current_sort = self.effective_sort(state)
        headers = []
        for column in columns:
            header = {"column": column, "sortable": bool(column.sort and column.sort in self.sorts)}
            if header["sortable"]:
                active = current_sort.lstrip("-") == column.sort
                descending = current_sort.startswith("-")
                header["active"] = active
                header["descending"] = active and descending
                header["url"] = state.query(
                    sort=f"-{column.sort}" if active and not descending else column.sort, cursor=None
                )
            headers.append(header)
        user = request.user
        writer = can_create(user)
        bulk_actions = []
        if writer and self.bulk_url_name:
            for action in self.bulk_actions:
                bulk_actions.append(
                    {"action": action, "choices": action.choices(user) if action.choices else []}
                )
        saved_views = (
            list(SavedView.objects.filter(user=user, object_type=self.object_type))
            if (self.object_type)
            else []
        )
        active_view = next((v for v in saved_views if str(v.pk) == state.view), None)
        chosen = {c.key for c in columns}
        column_choices = [
            {"column": c, "checked": c.key in chosen, "fixed": c.fixed}
            for c in sorted(available, key=lambda c: ([x.key for x in columns] + [c.key]).index(c.key))
        ]
        filter_fields = []
        if self.registry is not None:
            try:
                filter_fields = self.registry.describe()
            except Exception:  # a broken custom field must not take the list page down
                logger.exception("describe() failed for %s", self.object_type)
        context = {
            "view": self,
            "title": self.title,
            "state": state,
            "columns": columns,
            "headers": headers,
            "rows": rows,
            "next_url": state.query(cursor=next_cursor) if next_cursor else "",
            "first_url": state.query(cursor=None) if state.cursor else "",
            "errors": errors,
            "filter_errors": errors.get("filter", []),
            "other_errors": [m for k, ms in errors.items() if k != "filter" for m in ms],
            "bulk_actions": bulk_actions,
            "writer": writer,
            "saved_views": [
                {"view": v, "url": self.list_url + self.saved_view_query(v), "active": v is active_view}
                for v in saved_views
            ],
            "active_view": active_view,
            "column_choices": column_choices,
            "filter_fields": filter_fields,
            "create_url": reverse(self.create_url_name) if (self.create_url_name and writer) else "",
            "export_url": (reverse(self.export_url_name) + state.query(cursor=None))
            if self.export_url_name
            else "",
            "export_xlsx_url": (reverse(self.export_url_name) + state.query(cursor=None, format="xlsx"))
            if self.export_url_name
            else "",
            "bulk_url": reverse(self.bulk_url_name) if self.bulk_url_name else "",
            "list_url": self.list_url,
            "archived_url": state.query(archived=not state.archived, cursor=None),
            "columns_reset_url": state.query(cols=None, cursor=None),
            "filtered": bool(state.filter or state.q),
            "current_sort": current_sort,
            "current_cols": ",".join(c.key for c in columns),
            **self.extra_context(),
        }
        status = 400 if errors else 200
        return render(request, self.template_name, context, status=status)

    # Saved views -------------------------------------------------------------------------------------

    def saved_view_post(self, request):
        from users.services import saved_view_delete, saved_view_save

        action = request.POST.get("_action")
        if action == "save_view":
            state = ListState.from_query(request.POST)
            try:
                saved = saved_view_save(
                    actor=request.user,
                    object_type=self.object_type,
                    name=request.POST.get("name", ""),
                    filter=state.filter,
                    columns=state.cols,
                    sort=state.sort,
                )
            except ValidationError as exc:
                for message in error_messages(exc.errors):
                    messages.error(request, message)
                return redirect(self.list_url + state.query())
            messages.success(request, _("Saved the view “%(name)s”.") % {"name": saved.name})
            return redirect(self.list_url + self.saved_view_query(saved))
        if action == "delete_view":
            saved_view_delete(actor=request.user, view_id=_int(request.POST.get("view_id")))
            messages.success(request, _("Deleted the view."))
            return redirect(self.list_url)
        return error_response(request, 400, _("Unknown action."))

    @staticmethod
    def saved_view_query(saved: SavedView) -> str:
        return ListState(
            filter=saved.filter, sort=saved.sort, cols=list(saved.columns), view=str(saved.pk)
        ).query()

    # Bulk actions ------------------------------------------------------------------------------------

    def bulk(self, request):
        require_writer(request.user)
        back = safe_next(request, self.list_url)
        actions = {a.key: a for a in self.bulk_actions}
        action = actions.get(request.POST.get("action", ""))
        if action is None:
            messages.error(request, _("Choose an action."))
            return HttpResponseRedirect(back)
        ids = [i for i in request.POST.getlist("ids") if i.strip()]
        if not ids:
            messages.error(request, _("Select at least one record."))
            return HttpResponseRedirect(back)
        value = request.POST.get(f"value_{action.key}", request.POST.get("value"))
        try:
            count = action.run(request.user, ids, value)
        except ValidationError as exc:
            for message in error_messages(exc.errors):
                messages.error(request, message)
            return HttpResponseRedirect(back)
        messages.success(request, str(action.done) % {"count": count})
        return HttpResponseRedirect(back)

    # CSV export --------------------------------------------------------------------------------------

    def export(self, request):
        state = ListState.from_query(request.GET)
        custom_fields = self.custom_fields()
        columns = self.table.choose(state.cols, custom_fields)
        try:
            queryset, order = self.ordered_queryset(state)
        except ValidationError as exc:
            return error_response(request, 400, _("The export could not start."), error_messages(exc.errors))
        queryset = queryset.order_by(*[f"-{c}" if d else c for c, d in order])
        if request.GET.get("format") == "xlsx":
            return self.export_xlsx(queryset, columns)

        def rows():
            buffer = _Echo()
            writer = csv.writer(buffer)
            yield "\ufeff" + writer.writerow([str(c.label) for c in columns])
            for row in queryset.iterator(chunk_size=self.export_chunk_size):
                yield writer.writerow([csv_cell(c.export_value(row)) for c in columns])

        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{self.export_filename}-{stamp}.csv"'
        response["Cache-Control"] = "no-store"
        return response

    def export_xlsx(self, queryset, columns):
        """The same rows as an XLSX workbook: written row by row (openpyxl's write-only mode) to a temporary
        file, then streamed from it, so a million rows never sit in memory."""
        import tempfile

        from django.http import FileResponse
        from openpyxl import Workbook

        from .tables import xlsx_cell

        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet(title=str(self.title or "Export")[:31])
        sheet.append([str(c.label) for c in columns])
        for row in queryset.iterator(chunk_size=self.export_chunk_size):
            sheet.append([xlsx_cell(c.export_value(row)) for c in columns])
        handle = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 - closed (and removed) by the response
        workbook.save(handle)
        handle.seek(0)
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        response = FileResponse(
            handle,
            as_attachment=True,
            filename=f"{self.export_filename}-{stamp}.xlsx",
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Cache-Control"] = "no-store"
        return response


class _Echo:
    """A file-like object whose write() returns the line, so csv.writer can feed a streaming response."""

    def write(self, value):
        return value


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# ---------------------------------------------------------------------------------------------------------
# Inline editing of one field on a detail page


@dataclass
class InlineField:
    """One field of a record's fields panel that can be edited in place.

    name      the URL segment and the form field name.
    label     what the panel shows.
    build     callable() → a fresh django.forms.Field for the input.
    initial   callable(record) → the input's starting value.
    data      callable(cleaned value) → the dict passed to the app's update service (without `version`).
    display   callable(record) → the text or safe HTML shown when not editing.
    errors    the service error keys that belong to this field (prefix match, e.g. ("emails", "email")).
    """

    name: str
    label: str
    build: Callable[[], forms.Field]
    initial: Callable[[Any], Any]
    data: Callable[[Any], dict]
    display: Callable[[Any], Any]
    errors: tuple[str, ...] = ()

    def owns(self, key: str) -> bool:
        keys = self.errors or (self.name,)
        return any(key == k or key.startswith(k + ".") for k in keys)


class InlineEditView(CrmViewMixin, View):
    """GET shows the input for one field (or, with ?display=1, the value again); POST saves it through the
    app's update service with the record's `version`. A stale version answers 409 with a conflict message
    and a reload link; invalid input answers 400 with the message beside the input.

        class ContactField(InlineEditView):
            url_name = "contacts:contact_field"
            def get_object(self, pk, action): return contact_get(self.request.user, pk, action)
            def update(self, pk, data):
                return contact_update(actor=self.request.user, contact_id=pk, data=data)
            def get_fields(self): return {f.name: f for f in contact_inline_fields()}
    """

    url_name = ""
    template_display = "components/inline_field.html"
    template_form = "components/inline_field_form.html"

    def get_object(self, pk, action):
        raise NotImplementedError

    def update(self, pk, data):
        raise NotImplementedError

    def get_fields(self) -> dict[str, InlineField]:
        raise NotImplementedError

    @staticmethod
    def auto_id(spec: InlineField) -> str:
        return "inline-" + slugify(spec.name) + "-%s"

    def field_or_404(self, name) -> InlineField:
        spec = self.get_fields().get(name)
        if spec is None:
            raise NotFoundError()
        return spec

    def context(self, record, spec, **extra):
        return {
            "record": record,
            "spec": spec,
            "field_url": reverse(self.url_name, args=[record.pk, spec.name]),
            "value": spec.display(record),
            "editable": True,
            **extra,
        }

    def get(self, request, pk, name):
        spec = self.field_or_404(name)
        if request.GET.get("display"):
            record = self.get_object(pk, "view")
            return render(request, self.template_display, self.context(record, spec))
        record = self.get_object(pk, "change")
        form_field = spec.build()
        bound = forms.Form(auto_id=self.auto_id(spec))
        bound.fields["value"] = form_field
        bound.initial["value"] = spec.initial(record)
        return render(
            request,
            self.template_form,
            self.context(record, spec, form=bound, version=record.version),
        )

    def post(self, request, pk, name):
        spec = self.field_or_404(name)
        record = self.get_object(pk, "change")
        form = forms.Form(request.POST, auto_id=self.auto_id(spec))
        form.fields["value"] = spec.build()
        version = request.POST.get("version", "")
        if not form.is_valid():
            return render(
                request,
                self.template_form,
                self.context(record, spec, form=form, version=version),
                status=400,
            )
        try:
            record = self.update(pk, {**spec.data(form.cleaned_data["value"]), "version": version})
        except ConflictError:
            current = self.get_object(pk, "view")
            return render(
                request,
                self.template_form,
                self.context(current, spec, form=form, version=version, conflict=True),
                status=409,
            )
        except ValidationError as exc:
            for key, messages_ in exc.errors.items():
                for message in messages_:
                    if spec.owns(key) or key in ("__all__", "value"):
                        form.add_error("value", str(message))
                    else:
                        form.add_error(None, f"{key}: {message}")
            return render(
                request,
                self.template_form,
                self.context(record, spec, form=form, version=version),
                status=400,
            )
        response = render(request, self.template_display, self.context(record, spec, saved=True))
        response["HX-Trigger"] = "recordSaved"
        return response


# ---------------------------------------------------------------------------------------------------------
# Record history (a detail page's History tab)


def history_rows(entries: Iterable, labels: dict[str, str] | None = None) -> list[dict]:
    """History entries as rows for the template: who, when, action, and (field, old, new) per change."""
    labels = labels or {}
    rows = []
    for entry in entries:
        changes = []
        for name, pair in sorted((entry.changes or {}).items()):
            old, new = (pair + [None, None])[:2] if isinstance(pair, list) else (None, pair)
            changes.append(
                {
                    "field": labels.get(name, name.replace("_", " ").capitalize()),
                    "old": _plain(old),
                    "new": _plain(new),
                }
            )
        rows.append({"entry": entry, "changes": changes})
    return rows


def _plain(value) -> str:
    if value is None or value == "" or value == []:
        return ""
    if isinstance(value, list):
        return ", ".join(_plain(v) if not isinstance(v, list) else " ".join(map(str, v)) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_plain(v)}" for k, v in value.items())
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    return str(value)


# ---------------------------------------------------------------------------------------------------------
# Home and global search


@crm_view("GET")
def home(request):
    """The first area of the navigation that exists."""
    from .context_processors import navigation

    for section in navigation(request).get("navigation", []):
        for item in section["items"]:
            if item["url"]:
                return redirect(item["url"])
    raise Http404


SEARCH_PAGE_LIMIT = 20
SEARCH_DROPDOWN_LIMIT = 5


@crm_view("GET")
def search_page(request):
    text = (request.GET.get("q") or "").strip()
    groups, errors = search_all(request.user, text, limit=SEARCH_PAGE_LIMIT)
    return render(
        request,
        "core/search.html",
        {"q": text, "groups": groups, "errors": errors, "title": _("Search")},
    )


@crm_view("GET")
def search_suggest(request):
    text = (request.GET.get("q") or "").strip()
    groups, errors = search_all(request.user, text, limit=SEARCH_DROPDOWN_LIMIT)
    return render(request, "components/search_dropdown.html", {"q": text, "groups": groups, "errors": errors})
