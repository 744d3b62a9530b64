"""The columns of the contact and company lists (and of their CSV exports)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from core.tables import Column, Table

from .models import Company, Contact


def _contact_name(contact: Contact) -> str:
    return contact.full_name or contact.email or contact.phone or _("(no name)")


contact_table = Table(
    columns=[
        Column(
            "name",
            _("Name"),
            value=_contact_name,
            kind="title",
            sort="name",
            fixed=True,
            subtitle="job_title",
            export=lambda c: c.full_name,
        ),
        Column("email", _("E-mail"), kind="email", sort="email"),
        Column("phone", _("Phone"), kind="phone"),
        Column("company", _("Company"), path="company", kind="link"),
        Column(
            "stage", _("Stage"), path="lifecycle_stage", kind="badge", choices=dict(Contact.Stage.choices)
        ),
        Column("tags", _("Tags"), value=lambda c: c.tags.all(), kind="tags"),
        Column("owner", _("Owner"), path="owner", kind="user"),
        Column("job_title", _("Job title"), default=False),
        Column("source", _("Source"), default=False),
        Column("external_id", _("External ID"), default=False),
        Column("team", _("Team"), path="team.name", default=False),
        Column("birthday", _("Birthday"), kind="date", default=False),
        Column("created_at", _("Created"), kind="datetime", sort="created_at"),
        Column("updated_at", _("Updated"), kind="datetime", default=False),
        Column("id", _("ID"), kind="number", sort="id", default=False),
    ]
)

company_table = Table(
    columns=[
        Column(
            "name",
            _("Name"),
            path="name",
            kind="title",
            sort="name",
            fixed=True,
            subtitle="domain",
            export=lambda c: c.name,
        ),
        Column("domain", _("Domain"), sort="domain", default=False),
        Column("industry", _("Industry")),
        Column("size", _("Size"), kind="badge", choices=dict(Company.Size.choices)),
        Column("annual_revenue", _("Annual revenue"), kind="money"),
        Column("currency", _("Currency"), default=False),
        Column("phone", _("Phone"), kind="phone", default=False),
        Column("website", _("Website"), kind="url", default=False),
        Column("parent", _("Parent company"), path="parent", kind="link", default=False),
        Column("tags", _("Tags"), value=lambda c: c.tags.all(), kind="tags"),
        Column("owner", _("Owner"), path="owner", kind="user"),
        Column("team", _("Team"), path="team.name", default=False),
        Column("created_at", _("Created"), kind="datetime", sort="created_at"),
        Column("updated_at", _("Updated"), kind="datetime", default=False),
        Column("id", _("ID"), kind="number", sort="id", default=False),
    ]
)
