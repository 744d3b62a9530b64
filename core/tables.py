"""Column declarations for list pages and CSV exports.

An app declares a `Table` of `Column`s once; the generic list page (core.views.ListView) uses it to draw the
column chooser, the sortable headers, the cells and the CSV export. Custom fields marked "show in list" are
appended as columns at run time. Rendering never queries the database: the list view fetches rows with the
relations the columns need (select_related / prefetch_related) before any cell is drawn.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from .normalize import phone_display

# Kinds of cell. Each decides how a value is drawn on the page and written to the CSV file.
KINDS = {
    "text",
    "title",
    "link",
    "badge",
    "tags",
    "user",
    "date",
    "datetime",
    "number",
    "money",
    "email",
    "phone",
    "url",
    "bool",
    "list",
}

EMPTY = mark_safe('<span class="muted" aria-label="empty">—</span>')  # noqa: S308 - constant markup

# Cells starting with one of these are read as formulas by spreadsheet programs (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def resolve(row: Any, path: str) -> Any:
    """`company.name` → row.company.name; dict keys work too (`custom.tier`). Missing parts give None."""
    value = row
    for part in path.split("."):
        if value is None:
            return None
        value = value.get(part) if isinstance(value, dict) else getattr(value, part, None)
    return value


def _initials(text: str) -> str:
    parts = [p for p in (text or "").replace("@", " ").split() if p[:1].isalnum()]
    letters = "".join(p[0] for p in parts[:2]).upper()
    return letters or "?"


def avatar_html(text: str, *, size: str = "sm") -> SafeString:
    """A circle with initials; the hue is derived from the text so each person keeps one colour."""
    hue = sum(ord(c) for c in (text or "")) * 37 % 360
    return format_html(
        '<span class="avatar avatar-{}" style="--hue:{}" aria-hidden="true">{}</span>',
        size,
        hue,
        _initials(text),
    )


@dataclass(frozen=True)
class Column:
    """One column of a list.

    key       stable name used in the query string (`cols=`), saved views and the CSV header row.
    label     the header text.
    path      where the value comes from (`company.name`, `custom.tier`); defaults to `key`.
    value     a callable(row) instead of `path` (e.g. `lambda c: c.tags.all()`).
    kind      how to draw it (see KINDS).
    sort      the sort name offered by the app's sorts (clicking the header sorts by it).
    default   shown when the user has not chosen columns.
    fixed     always shown (the record's name); cannot be switched off.
    choices   value → label for `badge` columns.
    link      for `title` columns: callable(row) → URL (defaults to row.get_absolute_url()).
    subtitle  for `title` columns: a path shown in small text under the title.
    avatar    for `title` columns: the initials circle (people and companies); off for records named by a
              number or code (orders, products), which have no initials.
    export    callable(row) → the value written to CSV (defaults to a plain-text version of the cell).
    align     "start" or "end" (numbers).
    """

    key: str
    label: str
    path: str = ""
    value: Callable[[Any], Any] | None = None
    kind: str = "text"
    sort: str | None = None
    default: bool = True
    fixed: bool = False
    choices: dict | None = None
    link: Callable[[Any], str] | None = None
    subtitle: str = ""
    export: Callable[[Any], Any] | None = None
    align: str = ""
    avatar: bool = True

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"Unknown column kind {self.kind!r}.")

    @property
    def end_aligned(self) -> bool:
        return self.align == "end" or (not self.align and self.kind in {"number", "money"})

    def get(self, row: Any) -> Any:
        return self.value(row) if self.value is not None else resolve(row, self.path or self.key)

    # Page cells --------------------------------------------------------------------------------------

    def render(self, row: Any) -> SafeString:
        value = self.get(row)
        kind = self.kind
        if kind == "title":
            return self._render_title(row, value)
        if value is None or value == "" or (isinstance(value, list | tuple) and not value):
            return EMPTY
        if kind == "link":
            url = getattr(value, "get_absolute_url", None)
            if url is None:
                return format_html("{}", value)
            return format_html('<a href="{}" class="link-quiet">{}</a>', url(), value)
        if kind == "badge":
            label = (self.choices or {}).get(value, value)
            return format_html('<span class="badge badge-{}">{}</span>', str(value).replace(" ", "-"), label)
        if kind == "tags":
            tags = list(value)
            if not tags:
                return EMPTY
            return format_html(
                '<span class="chips">{}</span>',
                format_html_join(
                    "",
                    '<span class="chip" style="--chip:{}">{}</span>',
                    ((getattr(t, "color", "") or "#64748b", str(t)) for t in tags),
                ),
            )
        if kind == "user":
            name = getattr(value, "display_name", None) or str(value)
            return format_html('<span class="user-cell">{}<span>{}</span></span>', avatar_html(name), name)
        if kind == "date":
            return format_html("{}", _format_date(value))
        if kind == "datetime":
            return format_html('<time datetime="{}">{}</time>', _iso(value), _format_datetime(value))
        if kind in {"number", "money"}:
            return format_html("{}", _format_number(value))
        if kind == "email":
            return format_html('<a href="mailto:{}" class="link-quiet">{}</a>', value, value)
        if kind == "phone":
            return format_html('<a href="tel:{}" class="link-quiet">{}</a>', value, phone_display(str(value)))
        if kind == "url":
            text = str(value).removeprefix("https://").removeprefix("http://").rstrip("/")
            return format_html(
                '<a href="{}" class="link-quiet" target="_blank" rel="noopener noreferrer">{}</a>',
                value,
                text,
            )
        if kind == "bool":
            return format_html("{}", _("Yes") if value else _("No"))
        if kind == "list":
            items = value if isinstance(value, list | tuple) else list(value)
            return format_html("{}", ", ".join(str(v) for v in items))
        return format_html("{}", value)

    def _render_title(self, row: Any, value: Any) -> SafeString:
        text = str(value or row)
        url = self.link(row) if self.link else getattr(row, "get_absolute_url", lambda: "")()
        subtitle = resolve(row, self.subtitle) if self.subtitle else ""
        return format_html(
            '<a class="title-cell" href="{}">{}<span class="title-text">'
            '<span class="title-main">{}</span>{}</span></a>',
            url,
            avatar_html(text) if self.avatar else "",
            text,
            format_html('<span class="title-sub">{}</span>', subtitle) if subtitle else "",
        )

    # CSV -----------------------------------------------------------------------------------------------

    def export_value(self, row: Any) -> Any:
        """Plain value for CSV: text, a number or empty. Escaped against formula injection by csv_cell()."""
        if self.export is not None:
            return self.export(row)
        value = self.get(row) if self.kind != "title" or self.value or self.path else str(row)
        if value is None:
            return ""
        if self.kind == "tags":
            return ", ".join(str(t) for t in value)
        if self.kind == "user":
            return getattr(value, "username", None) or str(value)
        if self.kind in {"date", "datetime"}:
            return _iso(value)
        if self.kind == "bool":
            return "yes" if value else "no"
        if self.kind == "list":
            return ", ".join(str(v) for v in (value if isinstance(value, list | tuple) else list(value)))
        if isinstance(value, int | float | decimal.Decimal) and not isinstance(value, bool):
            return value
        return str(value)


def csv_cell(value: Any) -> Any:
    """Neutralise spreadsheet formulas: text starting with = + - @ (or tab/CR) gets a leading apostrophe.
    Numbers are written as numbers (a negative number is not a formula)."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def xlsx_cell(value: Any) -> Any:
    """A CSV cell's escaping for XLSX too (a text cell starting with = + - @ tab or CR gets a leading
    apostrophe, so no spreadsheet reads it as a formula), with the characters XML cannot hold removed."""
    value = csv_cell(value)
    if isinstance(value, str):
        return _XML_ILLEGAL.sub("", value)
    return value


_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _iso(value: Any) -> str:
    if isinstance(value, dt.datetime):
        local = timezone.localtime(value) if timezone.is_aware(value) else value
        return local.isoformat(timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value or "")


def _format_date(value: Any) -> str:
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value)
        except ValueError:
            return value
    return formats.date_format(value, "M j, Y") if isinstance(value, dt.date) else str(value)


def _format_datetime(value: Any) -> str:
    if isinstance(value, dt.datetime):
        local = timezone.localtime(value) if timezone.is_aware(value) else value
        return formats.date_format(local, "M j, Y")
    return _format_date(value)


def _format_number(value: Any) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float | decimal.Decimal):
        if isinstance(value, decimal.Decimal) and value == value.to_integral_value():
            value = int(value)
        return formats.number_format(value, use_l10n=True, force_grouping=True)
    return str(value)


# Custom fields become columns: their type decides the kind of cell.
CUSTOM_KIND = {
    "text": "text",
    "number": "number",
    "date": "date",
    "choice": "text",
    "multi_choice": "list",
    "boolean": "bool",
    "url": "url",
    "email": "email",
}


def custom_field_column(definition) -> Column:
    """A column for an admin-defined custom field (core.models.CustomField)."""
    return Column(
        key=f"custom.{definition.key}",
        label=definition.label,
        path=f"custom.{definition.key}",
        kind=CUSTOM_KIND.get(definition.field_type, "text"),
        default=True,
    )


@dataclass
class Table:
    """The columns an app offers for one kind of record."""

    columns: list[Column]
    default_columns: list[str] = field(default_factory=list)

    def __post_init__(self):
        keys = [c.key for c in self.columns]
        if len(keys) != len(set(keys)):
            raise ValueError("Column keys must be unique.")

    def available(self, custom_fields: Iterable = ()) -> list[Column]:
        """Every column the user may choose: declared ones plus custom fields shown in lists."""
        extra = [custom_field_column(f) for f in custom_fields if getattr(f, "show_in_list", False)]
        return [*self.columns, *extra]

    def choose(self, keys: Iterable[str] | None, custom_fields: Iterable = ()) -> list[Column]:
        """The columns to show for `keys` (in that order; unknown keys are ignored), always including the
        fixed ones first. Without keys: the defaults."""
        available = {c.key: c for c in self.available(custom_fields)}
        keys = [k for k in (keys or []) if k in available]
        if not keys:
            keys = self.default_columns or [c.key for c in available.values() if c.default]
        fixed = [c for c in available.values() if c.fixed and c.key not in keys]
        return [*fixed, *(available[k] for k in dict.fromkeys(keys))]
