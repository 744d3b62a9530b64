"""Migration operations of the project's own.

`DropForeignKeyIndexes` turns off `db_index` on foreign keys that a composite index (or a unique
constraint) already leads with. Django's own `AlterField` would do the same on PostgreSQL with a DROP
INDEX, but on SQLite it rebuilds the whole table for it (copy every row, recreate every index): minutes
and twice the disk for a million contacts. This operation changes the model state exactly as those
`AlterField`s would and, on every database, only drops the single-column index (found by introspection,
whatever its generated name); reversing it creates the index again.
"""

from __future__ import annotations

from django.db import migrations


class DropForeignKeyIndexes(migrations.operations.base.Operation):
    """`fields`: (model name, field name) pairs of this app whose single-column index goes."""

    reversible = True

    def __init__(self, fields: list[tuple[str, str]]) -> None:
        self.fields = [tuple(pair) for pair in fields]

    def deconstruct(self):
        return (self.__class__.__qualname__, [], {"fields": self.fields})

    def describe(self) -> str:
        return "Drop the single-column indexes of " + ", ".join(f"{m}.{f}" for m, f in self.fields)

    @property
    def migration_name_fragment(self) -> str:
        return "drop_fk_indexes"

    def state_forwards(self, app_label, state):
        self._set(app_label, state, False)

    def _set(self, app_label, state, db_index: bool) -> None:
        for model_name, name in self.fields:
            field = state.models[app_label, model_name.lower()].fields[name].clone()
            field.db_index = db_index
            state.alter_field(app_label, model_name.lower(), name, field, True)

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        for model_name, name in self.fields:
            model = to_state.apps.get_model(app_label, model_name)
            if not self.allow_migrate_model(schema_editor.connection.alias, model):
                continue
            column = model._meta.get_field(name).column
            for index in schema_editor._constraint_names(model, [column], index=True, unique=False):
                schema_editor.execute(schema_editor._delete_index_sql(model, index))

    def state_backwards(self, app_label, state):
        self._set(app_label, state, True)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        for model_name, name in self.fields:
            model = to_state.apps.get_model(app_label, model_name)
            if not self.allow_migrate_model(schema_editor.connection.alias, model):
                continue
            field = model._meta.get_field(name)
            if not schema_editor._constraint_names(model, [field.column], index=True, unique=False):
                schema_editor.execute(schema_editor._create_index_sql(model, fields=[field]))
