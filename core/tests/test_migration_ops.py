"""core.migration_ops.DropForeignKeyIndexes: the redundant foreign-key indexes are gone from the migrated
database, on SQLite and PostgreSQL, while the composite indexes that serve the same lookups remain."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import connection

pytestmark = pytest.mark.django_db

# (model, foreign key, the index or unique constraint that leads with it instead)
DROPPED = [
    ("contacts.Contact", "owner", "contact_owner_idx"),
    ("contacts.Contact", "team", "contact_team_idx"),
    ("contacts.Contact", "company", "contact_company_idx"),
    ("contacts.Company", "owner", "company_owner_idx"),
    ("contacts.Company", "team", "company_team_idx"),
    ("contacts.ContactEmail", "contact", "contact_email_unique"),
    ("contacts.ContactPhone", "contact", "contact_phone_unique"),
    ("commerce.Order", "owner", "order_owner_idx"),
    ("commerce.Order", "team", "order_team_idx"),
    ("commerce.Order", "contact", "order_contact_idx"),
    ("commerce.Order", "company", "order_company_idx"),
    ("commerce.OrderLine", "order", "orderline_order_idx"),
    ("commerce.ContactPurchaseCategory", "contact", "contact_purchase_category_unique"),
    ("commerce.CompanyPurchaseCategory", "company", "company_purchase_category_unique"),
    ("activities.Activity", "owner", "activity_owner_idx"),
    ("activities.Activity", "team", "activity_team_idx"),
]


@pytest.mark.parametrize(("label", "name", "covering"), DROPPED)
def test_a_foreign_key_is_indexed_once_by_what_leads_with_it(label, name, covering):
    model = apps.get_model(label)
    column = model._meta.get_field(name).column
    assert model._meta.get_field(name).db_index is False
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, model._meta.db_table)
    single = [
        n for n, c in constraints.items() if c["columns"] == [column] and c["index"] and not c["unique"]
    ]
    assert single == []
    assert constraints[covering]["columns"][0] == column
