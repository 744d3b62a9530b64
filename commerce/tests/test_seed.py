"""The demo seed goes through the bulk path and leaves summaries that match the orders."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db.models import Count, Sum

from commerce.models import COUNTING_STATUSES, ContactPurchaseSummary, Order
from commerce.seed import seed_commerce
from commerce.services import summaries_refresh
from contacts.services import contact_create

pytestmark = pytest.mark.django_db


def test_seed_adds_orders_with_matching_summaries(org):
    contacts = [contact_create(actor=org.owner, data={"first_name": f"C{i}"}) for i in range(12)]
    result = seed_commerce(seed=7, batch_size=5)
    assert result.products == 31 and result.orders == Order.objects.count() > 0
    assert set(Order.objects.values_list("owner_id", flat=True)) == {org.owner.pk}
    for contact in contacts:
        counting = Order.objects.filter(contact=contact, status__in=COUNTING_STATUSES)
        summary = ContactPurchaseSummary.objects.filter(contact=contact).first()
        if not counting.exists():
            assert summary is None
            continue
        assert summary.order_count == counting.count()
        assert summary.total_spent == counting.aggregate(s=Sum("total"))["s"].quantize(Decimal("0.01"))
    before = list(
        ContactPurchaseSummary.objects.order_by("contact_id").values(
            "contact_id", "order_count", "total_spent"
        )
    )
    summaries_refresh(contact_ids=[c.pk for c in contacts])
    after = list(
        ContactPurchaseSummary.objects.order_by("contact_id").values(
            "contact_id", "order_count", "total_spent"
        )
    )
    assert before == after
    # Contacts that already have orders are skipped on a second run.
    had = dict(Order.objects.values_list("contact_id").annotate(n=Count("id")).values_list("contact_id", "n"))
    seed_commerce(seed=7)
    again = dict(
        Order.objects.values_list("contact_id").annotate(n=Count("id")).values_list("contact_id", "n")
    )
    assert {k: again[k] for k in had} == had
