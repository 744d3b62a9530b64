"""Demo data for the commerce app: a product catalogue and purchase histories for existing contacts.

Reproducible (a fixed random seed gives the same data) and fast: orders go through the bulk path
(`commerce.services.orders_bulk_create`), summaries are rebuilt once per batch.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from contacts.models import Contact

from .models import Order, Product
from .services import orders_bulk_create, product_create

CATALOGUE = {
    "Books": ["Field Guide", "Cookbook", "Thriller", "Atlas", "Poetry Collection", "Biography"],
    "Kitchen": ["Espresso Cups", "Chef's Knife", "Cast Iron Pan", "Tea Kettle", "Salad Bowl"],
    "Outdoor": ["Trail Backpack", "Rain Jacket", "Camping Stove", "Water Bottle", "Head Torch"],
    "Office": ["Notebook", "Fountain Pen", "Desk Lamp", "Monitor Stand", "Ergonomic Chair"],
    "Garden": ["Seed Kit", "Pruning Shears", "Watering Can", "Planter", "Garden Gloves"],
    "Electronics": ["Headphones", "Power Bank", "Smart Speaker", "USB-C Hub", "E-Reader"],
}
# Orders per contact: 0–4 with these weights (mean 2.0).
ORDER_COUNTS = [(0, 20), (1, 20), (2, 20), (3, 20), (4, 20)]
STATUS_WEIGHTS = [("fulfilled", 70), ("paid", 15), ("pending", 5), ("cancelled", 6), ("refunded", 4)]
CHANNEL_WEIGHTS = [("web", 60), ("store", 20), ("phone", 8), ("marketplace", 10), ("other", 2)]


@dataclass
class CommerceSeedResult:
    products: int
    orders: int


def system_actor():
    """An administrator that is nobody: history shows "System" for seeded rows."""
    from users.models import User

    return User(username="system", role="admin", is_superuser=True, is_active=True)


def catalogue_ensure(actor, rng: random.Random) -> list[Product]:
    existing = list(Product.objects.filter(sku__startswith="DEMO-"))
    if existing:
        return existing
    products = []
    for category, names in CATALOGUE.items():
        for index, name in enumerate(names):
            price = Decimal(rng.choice([4.9, 9.9, 14.5, 19.9, 29.0, 49.0, 89.0, 149.0])).quantize(
                Decimal("0.01")
            )
            products.append(
                product_create(
                    actor=actor,
                    data={
                        "sku": f"DEMO-{category[:3].upper()}-{index + 1:02d}",
                        "name": name,
                        "category": category,
                        "price": str(price),
                        "currency": "USD",
                    },
                )
            )
    return products


def seed_commerce(
    *,
    seed: int = 424242,
    contact_ids: list[int] | None = None,
    batch_size: int = 2000,
    log: Callable[[str], None] = lambda text: None,
) -> CommerceSeedResult:
    """Add the demo catalogue and about two orders per contact (all contacts, or `contact_ids`), owned
    and shared like their contact. Contacts that already have orders are skipped."""
    rng = random.Random(seed)
    actor = system_actor()
    products = catalogue_ensure(actor, rng)
    weights = [w for _, w in ORDER_COUNTS]
    now = timezone.now()
    contacts = Contact.objects.filter(archived_at__isnull=True).exclude(orders__isnull=False)
    if contact_ids is not None:
        contacts = contacts.filter(pk__in=contact_ids)
    created = 0
    rows: list[dict] = []

    def flush():
        nonlocal created, rows
        if rows:
            result = orders_bulk_create(actor=actor, rows=rows, batch_size=batch_size)
            created += sum(1 for pk in result["created"] if pk)
            if result["errors"]:
                log(f"  {len(result['errors'])} demo orders refused: {next(iter(result['errors'].values()))}")
            rows = []

    for contact_id, owner_id, team_id, company_id in (
        contacts.order_by("id")
        .values_list("id", "owner_id", "team_id", "company_id")
        .iterator(chunk_size=5000)
    ):
        count = rng.choices([n for n, _ in ORDER_COUNTS], weights)[0]
        for _ in range(count):
            lines = []
            for product in rng.sample(products, rng.choice([1, 1, 1, 2, 2, 3])):
                lines.append(
                    {
                        "product_id": product.pk,
                        "quantity": rng.choice([1, 1, 1, 2, 3]),
                        "discount": rng.choice([0, 0, 0, 0, 10, 15, 25]),
                    }
                )
            rows.append(
                {
                    "contact_id": contact_id,
                    "company_id": company_id if rng.random() < 0.3 else None,
                    "ordered_at": now - dt.timedelta(minutes=rng.randrange(0, 2 * 365 * 24 * 60)),
                    "status": rng.choices([s for s, _ in STATUS_WEIGHTS], [w for _, w in STATUS_WEIGHTS])[0],
                    "channel": rng.choices([c for c, _ in CHANNEL_WEIGHTS], [w for _, w in CHANNEL_WEIGHTS])[
                        0
                    ],
                    "currency": "USD",
                    "lines": lines,
                    "owner_id": owner_id,
                    "team_id": team_id or 0,
                }
            )
        if len(rows) >= batch_size:
            flush()
            log(f"  {created:,} demo orders …")
    flush()
    log(f"added {created:,} demo orders ({Order.objects.count():,} in all) and {len(products)} products")
    return CommerceSeedResult(products=len(products), orders=created)
