"""People (contacts) and companies, with their e-mails, phones, addresses, roles and tags."""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from core.models import Record


class Tag(models.Model):
    """A label shared by contacts and companies."""

    name = models.CharField(max_length=50)
    color = models.CharField(max_length=7, default="#64748b")

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(Lower("name"), name="tag_name_unique_ci")]

    def __str__(self) -> str:
        return self.name


class Company(Record):
    """An organisation the business deals with."""

    class Size(models.TextChoices):
        S1 = "1-10", "1–10"
        S2 = "11-50", "11–50"
        S3 = "51-200", "51–200"
        S4 = "201-1000", "201–1,000"
        S5 = "1001-5000", "1,001–5,000"
        S6 = "5001+", "5,001+"

    name = models.CharField(max_length=200)
    domain = models.CharField(max_length=253, blank=True)
    industry = models.CharField(max_length=100, blank=True)
    size = models.CharField(max_length=20, choices=Size.choices, blank=True)
    annual_revenue = models.DecimalField(max_digits=18, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, default="USD")
    phone = models.CharField(max_length=32, blank=True)
    website = models.URLField(max_length=300, blank=True)
    description = models.TextField(blank=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )
    external_id = models.CharField(max_length=100, blank=True, default="", db_default="")
    tags = models.ManyToManyField(Tag, blank=True, related_name="companies")

    class Meta:
        verbose_name_plural = "companies"
        indexes = [
            models.Index(fields=["owner", "id"], name="company_owner_idx"),
            models.Index(fields=["team", "id"], name="company_team_idx"),
            models.Index(fields=["domain"], name="company_domain_idx"),
            models.Index(fields=["external_id"], name="company_external_idx"),
            models.Index(Lower("name"), "id", name="company_name_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("contacts:company_detail", args=[self.pk])


class Contact(Record):
    """A person. `email` and `phone` mirror the primary entries for fast lists and lookups."""

    class Stage(models.TextChoices):
        SUBSCRIBER = "subscriber", _("Subscriber")
        LEAD = "lead", _("Lead")
        MQL = "mql", _("Marketing qualified lead")
        SQL = "sql", _("Sales qualified lead")
        OPPORTUNITY = "opportunity", _("Opportunity")
        CUSTOMER = "customer", _("Customer")
        EVANGELIST = "evangelist", _("Evangelist")
        CHURNED = "churned", _("Churned")
        OTHER = "other", _("Other")

    prefix = models.CharField(max_length=20, blank=True)
    first_name = models.CharField(max_length=100, blank=True)
    middle_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    suffix = models.CharField(max_length=20, blank=True)
    email = models.CharField(max_length=254, blank=True)
    phone = models.CharField(max_length=32, blank=True)
    job_title = models.CharField(max_length=150, blank=True)
    birthday = models.DateField(null=True, blank=True)
    company = models.ForeignKey(  # indexed by contact_company_idx (company, id)
        Company,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="primary_contacts",
        db_index=False,
    )
    lifecycle_stage = models.CharField(max_length=20, choices=Stage.choices, default=Stage.LEAD)
    source = models.CharField(max_length=100, blank=True)
    # The record's id in another system (a shop, an ERP, the file it was imported from): an import key.
    external_id = models.CharField(max_length=100, blank=True, default="", db_default="")
    tags = models.ManyToManyField(Tag, blank=True, related_name="contacts")

    class Meta:
        indexes = [
            models.Index(fields=["owner", "id"], name="contact_owner_idx"),
            models.Index(fields=["team", "id"], name="contact_team_idx"),
            models.Index(fields=["email"], name="contact_email_idx"),
            models.Index(fields=["phone"], name="contact_phone_idx"),
            models.Index(fields=["company", "id"], name="contact_company_idx"),
            models.Index(fields=["external_id"], name="contact_external_idx"),
            models.Index(Lower("last_name"), Lower("first_name"), "id", name="contact_name_idx"),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email or f"Contact {self.pk}"

    @property
    def full_name(self) -> str:
        return " ".join(
            p for p in (self.prefix, self.first_name, self.middle_name, self.last_name, self.suffix) if p
        )

    def get_absolute_url(self) -> str:
        return reverse("contacts:contact_detail", args=[self.pk])


class ContactEmail(models.Model):
    """One of a contact's e-mail addresses, stored lower-cased for exact lookup."""

    # Indexed by the (contact, email) unique constraint.
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="emails", db_index=False)
    email = models.CharField(max_length=254)
    label = models.CharField(max_length=20, default="work")
    is_primary = models.BooleanField(default=False)

    class Meta:
        ordering = ["-is_primary", "id"]
        indexes = [models.Index(fields=["email"], name="contact_email_lookup_idx")]
        constraints = [models.UniqueConstraint(fields=["contact", "email"], name="contact_email_unique")]

    def __str__(self) -> str:
        return self.email


class ContactPhone(models.Model):
    """One of a contact's phone numbers, normalised to E.164 (`number`) with the text as typed."""

    # Indexed by the (contact, number) unique constraint.
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="phones", db_index=False)
    number = models.CharField(max_length=32)
    raw = models.CharField(max_length=64, blank=True)
    label = models.CharField(max_length=20, default="mobile")
    is_primary = models.BooleanField(default=False)

    class Meta:
        ordering = ["-is_primary", "id"]
        indexes = [models.Index(fields=["number"], name="contact_phone_lookup_idx")]
        constraints = [models.UniqueConstraint(fields=["contact", "number"], name="contact_phone_unique")]

    def __str__(self) -> str:
        return self.number


class Address(models.Model):
    """A postal address of a contact or of a company."""

    class Kind(models.TextChoices):
        WORK = "work", _("Work")
        HOME = "home", _("Home")
        BILLING = "billing", _("Billing")
        SHIPPING = "shipping", _("Shipping")
        OTHER = "other", _("Other")

    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.CASCADE, related_name="addresses"
    )
    company = models.ForeignKey(
        Company, null=True, blank=True, on_delete=models.CASCADE, related_name="addresses"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.WORK)
    street = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    region = models.CharField(max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2, blank=True)
    is_primary = models.BooleanField(default=False)

    class Meta:
        ordering = ["-is_primary", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(contact__isnull=False, company__isnull=True)
                | models.Q(contact__isnull=True, company__isnull=False),
                name="address_one_parent",
            )
        ]

    def __str__(self) -> str:
        return ", ".join(p for p in (self.street, self.postal_code, self.city, self.country) if p)


class ContactRole(models.Model):
    """A contact's role at a company; a contact may hold roles at several companies."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="roles")
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="roles")
    title = models.CharField(max_length=150, blank=True)
    is_primary = models.BooleanField(default=False)

    class Meta:
        ordering = ["-is_primary", "id"]
        constraints = [models.UniqueConstraint(fields=["contact", "company"], name="contact_role_unique")]

    def __str__(self) -> str:
        return f"{self.title} at {self.company_id}"
