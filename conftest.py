"""Fixtures shared by every app's tests: one organisation with two teams and a user of every role."""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest
from django.test import Client

os.environ.setdefault("CRM_VAR_DIR", os.path.join(os.path.dirname(__file__), "var", "test"))


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Production hashing is deliberately slow; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _search_vocabulary_forgotten():
    # The search vocabulary remembers which words were committed; tests roll the database back.
    from core.search import fuzzy

    fuzzy.forget()


@dataclass
class Org:
    admin: object
    manager: object  # manages team A
    owner: object  # member of team A; owns the records under test
    teammate: object  # member of team A
    other: object  # member of team B
    other_manager: object  # manages team B
    readonly: object  # read-only in team A
    team_a: object
    team_b: object

    def all(self) -> dict[str, object]:
        return {k: v for k, v in self.__dict__.items() if not k.startswith("team")}


@pytest.fixture
def org(db) -> Org:
    from users.services import user_create

    def make(name, role, teams):
        return user_create(
            actor=None, data={"username": name, "role": role, "teams": teams, "password": "pw-" + name * 2}
        )

    users = {
        "admin": make("admin", "admin", []),
        "manager": make("manager", "manager", ["Team A"]),
        "owner": make("owner", "member", ["Team A"]),
        "teammate": make("teammate", "member", ["Team A"]),
        "other": make("other", "member", ["Team B"]),
        "other_manager": make("other_manager", "manager", ["Team B"]),
        "readonly": make("readonly", "readonly", ["Team A"]),
    }
    from users.models import Team

    return Org(**users, team_a=Team.objects.get(name="Team A"), team_b=Team.objects.get(name="Team B"))


class ApiClient:
    """The API as a client sees it: Bearer token, JSON in and out."""

    def __init__(self, user=None):
        self.user = user
        headers = {}
        if user is not None:
            from users.services import token_create

            _, secret = token_create(actor=None, user=user)
            headers["HTTP_AUTHORIZATION"] = f"Bearer {secret}"
        self.client = Client(**headers)

    def _call(self, method, path, data=None, **params):
        url = path if path.startswith("/") else f"/api/v1/{path}"
        func = getattr(self.client, method)
        if method in ("get", "delete"):
            return func(url, data=params or None)
        return func(url, data=data if data is not None else {}, content_type="application/json")

    def get(self, path, **params):
        return self._call("get", path, **params)

    def post(self, path, data=None):
        return self._call("post", path, data)

    def patch(self, path, data=None):
        return self._call("patch", path, data)

    def delete(self, path):
        return self._call("delete", path)


@pytest.fixture
def api_as():
    return ApiClient


@pytest.fixture
def page_as():
    """A browser-like test client signed in as `user` (or anonymous)."""

    def make(user=None):
        client = Client()
        if user is not None:
            client.force_login(user)
        return client

    return make
