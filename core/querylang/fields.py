"""Which fields a filter may use, per record type: built-in fields registered in code plus the admin-defined
custom fields read from the database. The compiler accepts nothing that is not registered here, so a filter
can never reach a column, relation or JSON key that the app did not expose."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

from django.apps import apps
from django.db.models import Model, Q
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_

from .parser import RESERVED, WORD_RE, error

_TEXT_OPS = (
    "eq",
    "ne",
    "contains",
    "not_contains",
    "starts_with",
    "in",
    "not_in",
    "is_empty",
    "is_not_empty",
)
_ORDER_OPS = ("eq", "ne", "lt", "lte", "gt", "gte", "is_empty", "is_not_empty")
TYPE_OPS: dict[str, tuple[str, ...]] = {
    "text": _TEXT_OPS,
    "email": _TEXT_OPS,
    "url": _TEXT_OPS,
    "number": (*_ORDER_OPS[:6], "in", "not_in", "is_empty", "is_not_empty"),
    "date": _ORDER_OPS,
    "datetime": _ORDER_OPS,
    "boolean": ("eq", "ne", "is_empty", "is_not_empty"),
    "choice": ("eq", "ne", "in", "not_in", "is_empty", "is_not_empty"),
    "multi_choice": _TEXT_OPS[:4] + ("in", "not_in", "is_empty", "is_not_empty"),
    "user": ("eq", "ne", "in", "not_in", "is_empty", "is_not_empty"),
}
TYPE_NAMES = {
    "text": N_("text"),
    "email": N_("an e-mail address"),
    "url": N_("a URL"),
    "number": N_("a number"),
    "date": N_("a date (2024-01-31, today or 90d)"),
    "datetime": N_("a date or date-time (2024-01-31T10:00:00Z, today or 90d)"),
    "boolean": N_("true or false"),
    "choice": N_("one of the choices"),
    "multi_choice": N_("one of the choices"),
    "user": N_("a user name, user id or me"),
}
# Custom keys are used inside ORM lookups (custom__<key>__op), so keys that Django would read as a nested
# path ("a__b") or an array index ("12") are left out of the registry.
_USABLE_KEY = re.compile(r"(?!\d+$)[A-Za-z0-9](?:[A-Za-z0-9-]|_(?!_))*")

CompileHook = Callable[[str, Any], Q]


@dataclass(frozen=True)
class Field:
    """One filterable field.

    `path` is the ORM path (defaults to `name`). `many` marks to-many paths, compiled as EXISTS so rows are
    never duplicated. `annotation` is a zero-argument callable returning an expression that `apply_filter`
    adds with `.alias()` before filtering (computed fields such as counts). `presence` makes a boolean that
    is true when `path` is not null (e.g. "archived" over `archived_at`). `compile` is an escape hatch:
    `compile(op, value) -> Q` for the positive operators (eq, lt, contains, in, is_empty ...); negations
    are derived from it. `ops` narrows the operators the type allows."""

    name: str
    type: str
    path: str = ""
    label: str = ""
    choices: Iterable[Any] = ()
    many: bool = False
    annotation: Callable[[], Any] | None = None
    presence: bool = False
    compile: CompileHook | None = None
    ops: tuple[str, ...] = ()
    custom: bool = dc_field(default=False, repr=False)

    def __post_init__(self) -> None:
        if self.type not in TYPE_OPS:
            raise ValueError(f"Unknown field type {self.type!r} for {self.name!r}.")
        if not WORD_RE.fullmatch(self.name) or self.name.lower() in RESERVED:
            raise ValueError(f"{self.name!r} cannot be used as a field name in the query language.")
        object.__setattr__(self, "path", self.path or self.name)
        object.__setattr__(
            self, "label", self.label or capfirst(self.name.replace("_", " ").replace(".", " "))
        )
        object.__setattr__(self, "choices", tuple(_choice_pair(c) for c in self.choices))
        ops = self.ops or (("eq", "ne") if self.presence else TYPE_OPS[self.type])
        object.__setattr__(self, "ops", tuple(ops))

    @property
    def type_name(self) -> str:
        return _(TYPE_NAMES[self.type])


def _choice_pair(choice: Any) -> tuple[str, str]:
    """Accept Django choices, plain strings and {"value", "label"} dicts (custom field definitions)."""
    if isinstance(choice, dict):
        value = choice.get("value", choice.get("key"))
        return str(value), str(choice.get("label", value))
    if isinstance(choice, list | tuple):
        return str(choice[0]), choice[1] if len(choice) > 1 else str(choice[0])
    return str(choice), str(choice)


class FieldRegistry:
    """The fields of one record type. `model` may be a class, an "app.Model" label, a callable, or omitted
    (then `object_type`, a model label such as "contacts.contact", names it)."""

    def __init__(
        self,
        object_type: str,
        model: type[Model] | str | Callable[[], type[Model]] | None = None,
        *,
        custom: bool = True,
    ):
        self.object_type = object_type
        self._model = model
        self._fields: dict[str, Field] = {}
        self.include_custom = custom

    @property
    def model(self) -> type[Model]:
        model = self._model or self.object_type
        if isinstance(model, str):
            model = apps.get_model(model)
        elif not isinstance(model, type):
            model = model()
        self._model = model
        return model

    def add(self, field: Field) -> Field:
        if field.name in self._fields:
            raise ValueError(f"Field {field.name!r} is already registered for {self.object_type}.")
        self._fields[field.name] = field
        return field

    def custom_fields(self) -> list[Field]:
        """The admin-defined fields, read from the database on every call (cheap, and never stale)."""
        if not self.include_custom:
            return []
        from core.models import CustomField

        found = []
        for cf in CustomField.objects.filter(object_type=self.object_type).order_by("position", "id"):
            if _USABLE_KEY.fullmatch(cf.key) and cf.field_type in TYPE_OPS:
                found.append(
                    Field(
                        f"custom.{cf.key}",
                        cf.field_type,
                        path=f"custom__{cf.key}",
                        label=cf.label,
                        choices=cf.choices or (),
                        custom=True,
                    )
                )
        return found

    def fields(self) -> dict[str, Field]:
        """Every usable name → field. Custom fields appear as `custom.<key>`, and as plain `<key>` when
        that does not clash with a built-in field."""
        result = dict(self._fields)
        for f in self.custom_fields():
            result[f.name] = f
            result.setdefault(f.name.removeprefix("custom."), f)
        return result

    def get(self, name: str, fields: dict[str, Field] | None = None) -> Field:
        fields = self.fields() if fields is None else fields
        if name in fields:
            return fields[name]
        folded = {key.lower(): key for key in fields}
        if name.lower() in folded:
            return fields[folded[name.lower()]]
        close = difflib.get_close_matches(name.lower(), list(folded), n=3, cutoff=0.6)
        if close:
            names = ", ".join(f"“{folded[c]}”" for c in close)
            raise error(_("Unknown field “%(name)s”. Did you mean %(names)s?"), name=name, names=names)
        raise error(_("Unknown field “%(name)s”."), name=name)

    def describe(self) -> list[dict[str, Any]]:
        """What a filter bar needs: one entry per field (aliases of custom fields are not repeated)."""
        seen, out = set(), []
        for f in self.fields().values():
            if f.name in seen:
                continue
            seen.add(f.name)
            out.append(
                {
                    "name": f.name,
                    "label": str(f.label),
                    "type": f.type,
                    "ops": list(f.ops),
                    "choices": [{"value": v, "label": str(label)} for v, label in f.choices],
                    "many": f.many,
                    "custom": f.custom,
                }
            )
        return out
