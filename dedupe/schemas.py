"""API schemas of the dedupe app."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Schema
from pydantic import ConfigDict


class ContactCheckIn(Schema):
    """The data a contact would be created with (the keys of `POST /contacts`); unknown keys are ignored."""

    model_config = ConfigDict(extra="ignore")
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    emails: list[Any] | None = None
    phone: str | None = None
    phones: list[Any] | None = None
    company_id: int | None = None


class CompanyCheckIn(Schema):
    model_config = ConfigDict(extra="ignore")
    name: str | None = None
    domain: str | None = None
    website: str | None = None
    phone: str | None = None


class CandidateOut(Schema):
    id: int
    name: str
    url: str
    score: int
    reasons: list[str]
    detail: str = ""


class CandidateListOut(Schema):
    items: list[CandidateOut]


class MergeIn(Schema):
    survivor_id: int
    other_ids: list[int]
    field_choices: dict[str, int] | None = None


class MergeOut(Schema):
    id: int
    kind: str
    survivor_id: int
    other_ids: list[int]
    created_at: dt.datetime
    undone_at: dt.datetime | None = None
    survivor_url: str


class RecordRef(Schema):
    id: int
    name: str
    url: str
    detail: str = ""


class GroupOut(Schema):
    id: int
    kind: str
    status: str
    score: int
    reasons: list[str]
    records: list[RecordRef]


class GroupListOut(Schema):
    items: list[GroupOut]
    next_cursor: str | None = None


class GroupMergeIn(Schema):
    survivor_id: int | None = None
    field_choices: dict[str, int] | None = None


class RunIn(Schema):
    kind: str | None = None


class RunOut(Schema):
    queued: list[str]


class MergeAboveIn(Schema):
    kind: str = "contact"
    min_score: int = 95


class MergeAboveOut(Schema):
    merged: int
    skipped: int
    queued: int
