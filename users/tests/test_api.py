"""Users, teams, tokens and the command line contract."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from core.testing import assert_matches_spec
from users.models import ApiToken, User

pytestmark = pytest.mark.django_db


def test_admin_manages_users_and_teams(org, api_as):
    api = api_as(org.admin)
    created = api.post(
        "users",
        {"username": "nina", "password": "a-long-pass-1", "role": "manager", "teams": ["Team A", "Team N"]},
    )
    assert created.status_code == 201, created.content
    assert_matches_spec(created, "post", "/api/v1/users")
    assert created.json()["role"] == "manager"
    assert sorted(t["name"] for t in created.json()["teams"]) == ["Team A", "Team N"]
    changed = api.patch(f"users/{created.json()['id']}", {"role": "member", "is_active": False})
    assert (
        changed.status_code == 200 and changed.json()["role"] == "member" and not changed.json()["is_active"]
    )
    for payload, field in [
        ({"username": "nina", "password": "a-long-pass-1"}, "username"),
        ({"username": "bad name!", "password": "a-long-pass-1"}, "username"),
        ({"username": "x1", "password": "short"}, "password"),
        ({"username": "x2", "role": "emperor"}, "role"),
        ({"username": "x3", "email": "nope"}, "email"),
    ]:
        response = api.post("users", payload)
        assert response.status_code == 400, payload
        assert field in response.json()["errors"]
    assert api.patch(f"users/{org.admin.pk}", {"role": "member"}).status_code == 400


def test_members_cannot_manage_users(org, api_as):
    api = api_as(org.owner)
    assert api.post("users", {"username": "sneaky", "password": "a-long-pass-1"}).status_code == 403
    assert api.patch(f"users/{org.owner.pk}", {"role": "admin"}).status_code == 403
    assert User.objects.get(pk=org.owner.pk).role == "member"
    assert not User.objects.filter(username="sneaky").exists()


def test_tokens_are_hashed_listed_and_revoked(org, api_as):
    api = api_as(org.owner)
    created = api.post("tokens", {"name": "laptop"})
    assert created.status_code == 201
    secret = created.json()["token"]
    assert secret.startswith("crm_")
    stored = ApiToken.objects.get(pk=created.json()["id"])
    assert secret not in (stored.key_hash, stored.prefix) and len(stored.key_hash) == 64
    listed = api.get("tokens").json()
    assert {t["name"] for t in listed} == {"laptop", ""}
    assert all("token" not in t for t in listed)
    other = api_as(org.other).get("tokens").json()
    assert all(t["user_id"] == org.other.pk for t in other)
    assert api.delete(f"tokens/{created.json()['id']}").status_code == 204
    from conftest import ApiClient

    revoked = ApiClient()
    revoked.client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {secret}"
    assert revoked.get("contacts").status_code == 401


def test_sign_in_for_a_token(org, client):
    response = client.post(
        "/api/v1/auth/token",
        {"username": "owner", "password": "pw-ownerowner"},
        content_type="application/json",
    )
    assert response.status_code == 201
    assert response.json()["token"].startswith("crm_")


def test_createuser_and_token_commands():
    out = io.StringIO()
    call_command(
        "createuser",
        "carol",
        "--role",
        "manager",
        "--team",
        "Nordics",
        "--password",
        "s3cret-pass!",
        stdout=out,
    )
    carol = User.objects.get(username="carol")
    assert carol.role == "manager" and [t.name for t in carol.teams.all()] == ["Nordics"]
    assert carol.check_password("s3cret-pass!")
    out = io.StringIO()
    call_command("token", "create", "--user", "carol", stdout=out)
    secret = out.getvalue().strip()
    assert secret.startswith("crm_") and "\n" not in secret
    from users.services import token_authenticate

    assert token_authenticate(secret) == carol
    out = io.StringIO()
    call_command("createuser", "admin2", "--role", "admin", stdout=out)
    assert "with password" in out.getvalue()
    assert User.objects.get(username="admin2").is_superuser
