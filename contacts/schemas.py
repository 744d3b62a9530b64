"""API shapes for contacts and companies, per operation. Foreign keys are written `<name>_id`."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from ninja import Schema
from pydantic import ConfigDict


class EmailIn(Schema):
    email: str
    label: str | None = None
    is_primary: bool = False


class EmailOut(Schema):
    email: str
    label: str
    is_primary: bool


class PhoneIn(Schema):
    number: str
    label: str | None = None
    is_primary: bool = False


class PhoneOut(Schema):
    number: str
    label: str
    is_primary: bool


class AddressIn(Schema):
    kind: str | None = None
    street: str | None = None
    city: str | None = None
    region: str | None = None
    postal_code: str | None = None
    country: str | None = None
    is_primary: bool = False


class AddressOut(Schema):
    kind: str
    street: str
    city: str
    region: str
    postal_code: str
    country: str
    is_primary: bool


class RoleIn(Schema):
    company_id: int
    title: str | None = None
    is_primary: bool = False


class RoleOut(Schema):
    company_id: int
    company_name: str
    title: str
    is_primary: bool


class ContactBase(Schema):
    model_config = ConfigDict(extra="forbid")

    prefix: str | None = None
    first_name: str | None = None
    middle_name: str | None = None
    last_name: str | None = None
    suffix: str | None = None
    email: str | None = None
    phone: str | None = None
    emails: list[EmailIn | str] | None = None
    phones: list[PhoneIn | str] | None = None
    addresses: list[AddressIn] | None = None
    job_title: str | None = None
    birthday: dt.date | None = None
    company_id: int | None = None
    roles: list[RoleIn] | None = None
    lifecycle_stage: str | None = None
    source: str | None = None
    external_id: str | None = None
    tags: list[str] | None = None
    owner_id: int | None = None
    team_id: int | None = None
    custom: dict[str, Any] | None = None


class ContactIn(ContactBase):
    """Create a contact. `email` and `phone` are shortcuts for the primary entries of `emails`/`phones`."""


class ContactPatch(ContactBase):
    """Change some fields; `version` must be the version you read (409 when someone changed it since)."""

    version: int


class ContactOut(Schema):
    id: int
    url: str
    prefix: str
    first_name: str
    middle_name: str
    last_name: str
    suffix: str
    full_name: str
    email: str
    phone: str
    emails: list[EmailOut]
    phones: list[PhoneOut]
    addresses: list[AddressOut]
    job_title: str
    birthday: dt.date | None
    company_id: int | None
    company_name: str | None
    roles: list[RoleOut]
    lifecycle_stage: str
    source: str
    external_id: str
    tags: list[str]
    owner_id: int | None
    team_id: int | None
    custom: dict[str, Any]
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    archived_at: dt.datetime | None


class ContactListOut(Schema):
    items: list[ContactOut]
    next_cursor: str | None


class CompanyBase(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    domain: str | None = None
    industry: str | None = None
    size: str | None = None
    annual_revenue: Decimal | None = None
    currency: str | None = None
    phone: str | None = None
    website: str | None = None
    description: str | None = None
    parent_id: int | None = None
    external_id: str | None = None
    addresses: list[AddressIn] | None = None
    tags: list[str] | None = None
    owner_id: int | None = None
    team_id: int | None = None
    custom: dict[str, Any] | None = None


class CompanyIn(CompanyBase):
    name: str


class CompanyPatch(CompanyBase):
    version: int


class CompanyOut(Schema):
    id: int
    url: str
    name: str
    domain: str
    industry: str
    size: str
    annual_revenue: str | None
    currency: str
    phone: str
    website: str
    description: str
    parent_id: int | None
    external_id: str
    addresses: list[AddressOut]
    tags: list[str]
    owner_id: int | None
    team_id: int | None
    custom: dict[str, Any]
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    archived_at: dt.datetime | None


class CompanyListOut(Schema):
    items: list[CompanyOut]
    next_cursor: str | None


class HistoryChangeOut(Schema):
    field: str
    old: Any
    new: Any


class HistoryOut(Schema):
    id: int
    action: str
    actor_id: int | None
    actor: str | None
    created_at: dt.datetime
    changes: list[HistoryChangeOut]


class HistoryListOut(Schema):
    items: list[HistoryOut]
    next_cursor: str | None


class BulkIn(Schema):
    model_config = ConfigDict(extra="forbid")

    ids: list[int]
    action: str
    owner_id: int | None = None
    tag: str | None = None


class BulkOut(Schema):
    changed: int


class DuplicateWarningOut(Schema):
    id: int
    reason: str
