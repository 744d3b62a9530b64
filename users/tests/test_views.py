"""Page tests for signing in and out (with throttling) and the settings pages."""

from __future__ import annotations

import pytest
from django.urls import reverse

from core.models import CustomField
from users.models import ApiToken, LoginFailure, Team, User
from users.services import token_authenticate, token_create, user_create

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-test-password-1"


@pytest.fixture
def admin(db):
    return user_create(actor=None, data={"username": "ada", "password": PASSWORD, "role": "admin"})


@pytest.fixture
def member(db):
    return user_create(
        actor=None,
        data={
            "username": "mel",
            "password": PASSWORD,
            "role": "member",
            "first_name": "Mel",
            "last_name": "Member",
        },
    )


@pytest.fixture
def admin_client(client, admin):
    client.force_login(admin)
    return client


@pytest.fixture
def member_client(client, member):
    client.force_login(member)
    return client


def text(response) -> str:
    return response.content.decode()


# ---------------------------------------------------------------------------------------------------------
# Sign in / out


def test_login_page_renders(client):
    response = client.get(reverse("users:login"))
    assert response.status_code == 200
    assert 'name="username"' in text(response) and 'name="password"' in text(response)
    assert 'name="viewport"' in text(response)


def test_login_success_redirects_to_next(client, member):
    response = client.post(
        reverse("users:login"), {"username": "mel", "password": PASSWORD, "next": "/contacts/?sort=name"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/contacts/?sort=name"
    assert client.get(reverse("contacts:contact_list")).status_code == 200


def test_login_ignores_foreign_next(client, member):
    response = client.post(
        reverse("users:login"), {"username": "mel", "password": PASSWORD, "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


def test_login_wrong_password_shows_error_and_records_failure(client, member):
    response = client.post(reverse("users:login"), {"username": "mel", "password": "wrong"})
    assert response.status_code == 400
    assert "do not match" in text(response)
    assert LoginFailure.objects.filter(username="mel").count() == 1


def test_login_throttled_after_repeated_failures(client, member, settings):
    settings.CRM_LOGIN_FAILURE_LIMIT = 3
    for _ in range(3):
        client.post(reverse("users:login"), {"username": "mel", "password": "wrong"})
    # Even the right password is refused while throttled, with a form error and HTTP 429.
    response = client.post(reverse("users:login"), {"username": "mel", "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in text(response)
    assert response["Retry-After"]
    assert client.get(reverse("contacts:contact_list")).status_code == 302


def test_login_success_clears_failures(client, member):
    client.post(reverse("users:login"), {"username": "mel", "password": "wrong"})
    client.post(reverse("users:login"), {"username": "mel", "password": PASSWORD})
    assert not LoginFailure.objects.filter(username="mel").exists()


def test_inactive_user_cannot_sign_in(client, member):
    User.objects.filter(pk=member.pk).update(is_active=False)
    response = client.post(reverse("users:login"), {"username": "mel", "password": PASSWORD})
    assert response.status_code == 400


def test_logout_is_post_only(member_client):
    assert member_client.get(reverse("users:logout")).status_code == 405
    response = member_client.post(reverse("users:logout"))
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert member_client.get(reverse("contacts:contact_list")).status_code == 302


def test_home_redirects_to_first_area(member_client):
    response = member_client.get("/")
    assert response.status_code == 302 and response["Location"] == reverse("contacts:contact_list")


# ---------------------------------------------------------------------------------------------------------
# Layout


def test_layout_navigation_and_user_menu(member_client):
    page = text(member_client.get(reverse("users:settings")))
    assert "Customers" in page and "Insights" in page
    assert "soon" in page  # areas without pages yet
    assert 'hx-headers=\'{"X-CSRFToken"' in page
    assert reverse("users:logout") in page
    assert "vendor/htmx/htmx.min.js" in page
    assert "https://" not in page.split("<body", 1)[0]  # no CDN


# ---------------------------------------------------------------------------------------------------------
# Profile and password


def test_member_profile_is_read_only(member_client):
    response = member_client.get(reverse("users:settings"))
    assert response.status_code == 200
    page = text(response)
    assert "Mel Member" in page
    assert 'name="_form" value="profile"' not in page
    assert (
        member_client.post(reverse("users:settings"), {"_form": "profile", "first_name": "X"}).status_code
        == 403
    )
    assert "Users" not in page.split('class="settings-nav"', 1)[1].split("</nav>", 1)[0]


def test_admin_edits_own_profile(admin_client, admin):
    response = admin_client.post(
        reverse("users:settings"),
        {"_form": "profile", "first_name": "Ada", "last_name": "Lovelace", "email": "bad"},
    )
    assert response.status_code == 400
    assert response.context["profile_form"].errors["email"]
    response = admin_client.post(
        reverse("users:settings"),
        {"_form": "profile", "first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"},
    )
    assert response.status_code == 302
    admin.refresh_from_db()
    assert admin.get_full_name() == "Ada Lovelace" and admin.email == "ada@example.com"


def test_change_own_password(member_client, member):
    url = reverse("users:settings")
    response = member_client.post(
        url,
        {
            "_form": "password",
            "current_password": "nope",
            "password": "another-long-pass-2",
            "password_again": "another-long-pass-2",
        },
    )
    assert response.status_code == 400
    assert response.context["password_form"].errors["current_password"]
    response = member_client.post(
        url,
        {"_form": "password", "current_password": PASSWORD, "password": "short", "password_again": "short"},
    )
    assert response.status_code == 400
    assert response.context["password_form"].errors["password"]
    response = member_client.post(
        url,
        {
            "_form": "password",
            "current_password": PASSWORD,
            "password": "another-long-pass-2",
            "password_again": "different-pass-3",
        },
    )
    assert response.context["password_form"].errors["password_again"]
    response = member_client.post(
        url,
        {
            "_form": "password",
            "current_password": PASSWORD,
            "password": "another-long-pass-2",
            "password_again": "another-long-pass-2",
        },
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.check_password("another-long-pass-2")
    assert member_client.get(url).status_code == 200  # still signed in


# ---------------------------------------------------------------------------------------------------------
# API tokens


def test_token_secret_shown_once_then_revoked(member_client, member):
    url = reverse("users:tokens")
    response = member_client.post(url, {"name": "Zapier"}, follow=True)
    token = ApiToken.objects.get(user=member)
    page = text(response)
    assert "Your new API token" in page
    secret = response.context["new_token"]["secret"]
    assert secret in page
    assert token_authenticate(secret) == member
    page = text(member_client.get(url))
    assert secret not in page and "Zapier" in page
    response = member_client.post(reverse("users:token_revoke", args=[token.pk]))
    assert response.status_code == 302
    assert token_authenticate(secret) is None
    assert "Revoked" in text(member_client.get(url))


def test_tokens_are_private_except_for_admins(client, admin, member):
    other = user_create(actor=None, data={"username": "otto", "password": PASSWORD})
    theirs, _ = token_create(actor=None, user=other, name="theirs")
    client.force_login(member)
    assert "theirs" not in text(client.get(reverse("users:tokens")))
    assert client.post(reverse("users:token_revoke", args=[theirs.pk])).status_code == 404
    client.force_login(admin)
    assert "theirs" in text(client.get(reverse("users:tokens")))
    assert client.post(reverse("users:token_revoke", args=[theirs.pk])).status_code == 302


def test_token_name_too_long_is_a_field_error(member_client):
    response = member_client.post(reverse("users:tokens"), {"name": "x" * 101})
    assert response.status_code == 400
    assert response.context["form"].errors["name"]


# ---------------------------------------------------------------------------------------------------------
# Admin: users, teams, custom fields


@pytest.mark.parametrize("name", ["users:users", "users:teams", "users:custom_fields"])
def test_admin_pages_forbidden_for_members(member_client, name):
    response = member_client.get(reverse(name))
    assert response.status_code == 403
    assert "access" in text(response)
    assert member_client.post(reverse(name), {}).status_code == 403


def test_admin_creates_and_edits_users(admin_client, admin, member):
    url = reverse("users:users")
    page = text(admin_client.get(url))
    assert "mel" in page and "Add a user" in page
    response = admin_client.post(url, {"username": "mel", "role": "member"})
    assert response.status_code == 400
    assert "already exists" in text(response)
    response = admin_client.post(url, {"username": "", "role": "member", "password": "short"})
    assert response.status_code == 400
    form = response.context["form"]
    assert form.errors["username"] and form.errors["password"]
    response = admin_client.post(
        url,
        {
            "username": "newbie",
            "role": "manager",
            "new_teams": "Support, Sales",
            "password": "brand-new-pass-9",
            "email": "newbie@example.com",
        },
    )
    assert response.status_code == 302
    newbie = User.objects.get(username="newbie")
    assert newbie.role == "manager" and sorted(t.name for t in newbie.teams.all()) == ["Sales", "Support"]
    assert newbie.check_password("brand-new-pass-9")

    edit = reverse("users:user_edit", args=[newbie.pk])
    assert admin_client.get(edit).status_code == 200
    response = admin_client.post(
        edit,
        {
            "role": "readonly",
            "teams": ["Support"],
            "first_name": "New",
            "last_name": "Bie",
            "email": "newbie@example.com",
        },
    )
    assert response.status_code == 302
    newbie.refresh_from_db()
    assert newbie.role == "readonly" and not newbie.is_active
    assert [t.name for t in newbie.teams.all()] == ["Support"]
    response = admin_client.post(
        reverse("users:user_edit", args=[admin.pk]), {"role": "member", "is_active": "on"}
    )
    assert response.status_code == 400
    assert "cannot demote" in text(response)
    assert admin_client.get(reverse("users:user_edit", args=[999999])).status_code == 404


def test_admin_creates_teams(admin_client):
    url = reverse("users:teams")
    response = admin_client.post(url, {"name": "Support"})
    assert response.status_code == 302
    assert Team.objects.filter(name="Support").exists()
    response = admin_client.post(url, {"name": "support"})
    assert response.status_code == 400
    assert "already exists" in text(response)
    assert "Support" in text(admin_client.get(url))


def test_admin_manages_custom_fields(admin_client):
    url = reverse("users:custom_fields")
    response = admin_client.post(
        url, {"object_type": "contacts.contact", "label": "Tier", "field_type": "choice", "choices": ""}
    )
    assert response.status_code == 400
    assert response.context["form"].errors["choices"]
    response = admin_client.post(
        url,
        {
            "object_type": "contacts.contact",
            "label": "Tier",
            "field_type": "choice",
            "choices": "Gold, Silver",
            "show_in_list": "on",
        },
    )
    assert response.status_code == 302
    field = CustomField.objects.get(key="tier")
    assert field.choices == ["Gold", "Silver"] and field.show_in_list
    page = text(admin_client.get(url))
    assert "Tier" in page and "Gold, Silver" in page
    response = admin_client.post(
        url, {"object_type": "contacts.contact", "label": "Tier", "field_type": "text"}
    )
    assert response.status_code == 400 and "already exists" in text(response)
    response = admin_client.post(reverse("users:custom_field_delete", args=[field.pk]))
    assert response.status_code == 302
    assert not CustomField.objects.exists()
    assert admin_client.post(reverse("users:custom_field_delete", args=[field.pk])).status_code == 404
