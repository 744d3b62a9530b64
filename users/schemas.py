"""API shapes for users, teams, tokens, custom fields."""

from __future__ import annotations

import datetime as dt

from ninja import Schema
from pydantic import ConfigDict


class TeamOut(Schema):
    id: int
    name: str


class TeamIn(Schema):
    model_config = ConfigDict(extra="forbid")
    name: str


class UserOut(Schema):
    id: int
    username: str
    first_name: str
    last_name: str
    email: str
    role: str
    is_active: bool
    teams: list[TeamOut]


class UserIn(Schema):
    model_config = ConfigDict(extra="forbid")
    username: str
    password: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    role: str = "member"
    teams: list[str | int] | None = None


class UserPatch(Schema):
    model_config = ConfigDict(extra="forbid")
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    role: str | None = None
    is_active: bool | None = None
    teams: list[str | int] | None = None


class TokenIn(Schema):
    model_config = ConfigDict(extra="forbid")
    name: str | None = None


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    user_id: int
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


class TokenCreatedOut(TokenOut):
    token: str


class LoginIn(Schema):
    model_config = ConfigDict(extra="forbid")
    username: str
    password: str
    name: str | None = None


class CustomFieldIn(Schema):
    model_config = ConfigDict(extra="forbid")
    object_type: str
    label: str
    key: str | None = None
    field_type: str
    choices: list[str] | None = None
    required: bool = False
    help_text: str | None = None
    show_in_list: bool = False


class CustomFieldOut(Schema):
    id: int
    object_type: str
    key: str
    label: str
    field_type: str
    choices: list[str]
    required: bool
    help_text: str
    show_in_list: bool


class HealthOut(Schema):
    status: str
    database: str
