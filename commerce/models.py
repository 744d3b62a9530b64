"""Products, orders with their lines, and per-customer purchase summaries.

- `Product`: the catalogue. Visible to everyone signed in; changed by admins and managers.
- `Order` (a Record): bought by a contact and/or a company (at least one), with its lines.
- `OrderLine`: quantity × unit price, less a percentage discount, is the line total; the order's total is
  the sum of its lines when it has lines.
- `ContactPurchaseSummary` / `CompanyPurchaseSummary`: one row per customer with purchases that count
  (not cancelled, not refunded, not archived), kept current by the order services in their transaction, so
  filters such as `orders.count >= 3` read one indexed row per customer instead of aggregating orders.
- `ContactPurchaseCategory` / `CompanyPurchaseCategory`: per customer and product category, the orders and
  spend that count (the "favourite categories" and the `orders.category` filter).
Summary rows are derived data: `commerce.services.summaries_refresh` rebuilds them from the orders.
"""

from __future__ import annotations

from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import Record, TimestampedModel


class Product(TimestampedModel):
    """An item of the catalogue."""

    sku = models.CharField(_("SKU"), max_length=64, unique=True)
    name = models.CharField(max_length=200)
    category = models.CharField(max_length=100, blank=True)
    price = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    currency = models.CharField(max_length=3, default="USD")
    active = models.BooleanField(default=True)
    description = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1)
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["category", "id"], name="product_category_idx")]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def object_type(cls) -> str:
        return cls._meta.label_lower

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    def get_absolute_url(self) -> str:
        return reverse("commerce:product_detail", args=[self.pk])


class Order(Record):
    """A purchase by a contact and/or a company."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        PAID = "paid", _("Paid")
        FULFILLED = "fulfilled", _("Fulfilled")
        CANCELLED = "cancelled", _("Cancelled")
        REFUNDED = "refunded", _("Refunded")

    class Channel(models.TextChoices):
        WEB = "web", _("Web shop")
        STORE = "store", _("Store")
        PHONE = "phone", _("Phone")
        MARKETPLACE = "marketplace", _("Marketplace")
        OTHER = "other", _("Other")

    # Real foreign keys (merging contacts or companies moves them); PROTECT keeps purchase history from
    # vanishing with a deleted customer: contacts and companies are archived, not deleted.
    # Indexed by order_contact_idx / order_company_idx, which lead with them.
    contact = models.ForeignKey(
        "contacts.Contact",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
        db_index=False,
    )
    company = models.ForeignKey(
        "contacts.Company",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
        db_index=False,
    )
    number = models.CharField(max_length=64, unique=True)
    ordered_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PAID)
    currency = models.CharField(max_length=3, default="USD")
    total = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    channel = models.CharField(max_length=20, choices=Channel.choices, default=Channel.WEB)
    notes = models.TextField(blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["owner", "id"], name="order_owner_idx"),
            models.Index(fields=["team", "id"], name="order_team_idx"),
            models.Index(fields=["contact", "ordered_at", "id"], name="order_contact_idx"),
            models.Index(fields=["company", "ordered_at", "id"], name="order_company_idx"),
            models.Index(fields=["ordered_at", "id"], name="order_ordered_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(contact__isnull=False) | models.Q(company__isnull=False),
                name="order_has_customer",
            )
        ]

    def __str__(self) -> str:
        return f"#{self.number}"

    def get_absolute_url(self) -> str:
        return reverse("commerce:order_detail", args=[self.pk])

    @property
    def counts(self) -> bool:
        return self.archived_at is None and self.status in COUNTING_STATUSES


# Orders in these states count in purchase summaries; cancelled and refunded ones (and archived ones) do not.
COUNTING_STATUSES = (Order.Status.PENDING, Order.Status.PAID, Order.Status.FULFILLED)


class OrderLine(models.Model):
    """One line: `line_total = round(quantity × unit_price × (1 − discount / 100), 2)`; `discount` is a
    percentage from 0 to 100. `sku`, `description` and `category` are copied from the product (when one
    is given) so the line keeps what was sold even if the catalogue changes."""

    order = models.ForeignKey(  # indexed by orderline_order_idx (order, position)
        Order, on_delete=models.CASCADE, related_name="lines", db_index=False
    )
    position = models.PositiveIntegerField(default=0)
    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    sku = models.CharField(max_length=64, blank=True)
    description = models.CharField(max_length=300, blank=True)
    category = models.CharField(max_length=100, blank=True)
    quantity = models.DecimalField(max_digits=12, decimal_places=3, default=1)
    unit_price = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    discount = models.DecimalField(max_digits=5, decimal_places=2, default=0)
    line_total = models.DecimalField(max_digits=14, decimal_places=2, default=0)

    class Meta:
        ordering = ["order_id", "position", "id"]
        indexes = [models.Index(fields=["order", "position"], name="orderline_order_idx")]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.description or self.sku}"


class PurchaseSummary(models.Model):
    order_count = models.PositiveIntegerField(default=0)
    total_spent = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    average_order = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    first_order_at = models.DateTimeField(null=True, blank=True)
    last_order_at = models.DateTimeField(null=True, blank=True)
    favourite_categories = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True


class ContactPurchaseSummary(PurchaseSummary):
    contact = models.OneToOneField(
        "contacts.Contact", primary_key=True, on_delete=models.CASCADE, related_name="purchase_summary"
    )

    class Meta:
        indexes = [
            models.Index(fields=["last_order_at"], name="cps_last_idx"),
            models.Index(fields=["order_count"], name="cps_count_idx"),
        ]

    def __str__(self) -> str:
        return f"purchases of contact {self.contact_id}"


class CompanyPurchaseSummary(PurchaseSummary):
    company = models.OneToOneField(
        "contacts.Company", primary_key=True, on_delete=models.CASCADE, related_name="purchase_summary"
    )

    class Meta:
        indexes = [models.Index(fields=["last_order_at"], name="cops_last_idx")]

    def __str__(self) -> str:
        return f"purchases of company {self.company_id}"


class ContactPurchaseCategory(models.Model):
    contact = models.ForeignKey(  # indexed by the (contact, category) unique constraint
        "contacts.Contact", on_delete=models.CASCADE, related_name="purchase_categories", db_index=False
    )
    category = models.CharField(max_length=100)
    order_count = models.PositiveIntegerField(default=0)
    spent = models.DecimalField(max_digits=16, decimal_places=2, default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["contact", "category"], name="contact_purchase_category_unique")
        ]
        indexes = [models.Index(fields=["category", "contact"], name="cpc_category_idx")]

    def __str__(self) -> str:
        return self.category


class CompanyPurchaseCategory(models.Model):
    company = models.ForeignKey(  # indexed by the (company, category) unique constraint
        "contacts.Company", on_delete=models.CASCADE, related_name="purchase_categories", db_index=False
    )
    category = models.CharField(max_length=100)
    order_count = models.PositiveIntegerField(default=0)
    spent = models.DecimalField(max_digits=16, decimal_places=2, default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "category"], name="company_purchase_category_unique")
        ]
        indexes = [models.Index(fields=["category", "company"], name="copc_category_idx")]

    def __str__(self) -> str:
        return self.category
