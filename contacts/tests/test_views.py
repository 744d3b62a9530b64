"""Page tests for contacts and companies: lists (filter, sort, cursor pages, columns, saved views, bulk
actions, CSV export), detail pages, inline editing, forms and the global search."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contacts import services
from contacts.models import Company, Contact
from core.models import CustomField, SavedView
from users.models import Team
from users.services import custom_field_create, user_create

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-test-password-1"


# ---------------------------------------------------------------------------------------------------------
# Fixtures (local, so the file runs with or without a project conftest)


@pytest.fixture
def team(db):
    return Team.objects.create(name="Sales")


@pytest.fixture
def admin(db):
    return user_create(
        actor=None,
        data={
            "username": "ada",
            "password": PASSWORD,
            "role": "admin",
            "first_name": "Ada",
            "last_name": "Admin",
        },
    )


@pytest.fixture
def member(db, team):
    return user_create(
        actor=None, data={"username": "mel", "password": PASSWORD, "role": "member", "teams": [team.pk]}
    )


@pytest.fixture
def other_member(db):
    return user_create(actor=None, data={"username": "otto", "password": PASSWORD, "role": "member"})


@pytest.fixture
def readonly(db, team):
    return user_create(
        actor=None, data={"username": "rita", "password": PASSWORD, "role": "readonly", "teams": [team.pk]}
    )


@pytest.fixture
def admin_client(client, admin):
    client.force_login(admin)
    return client


def make_contact(actor, **data):
    data.setdefault("first_name", "Test")
    return services.contact_create(actor=actor, data=data)


def make_company(actor, **data):
    data.setdefault("name", "Acme")
    return services.company_create(actor=actor, data=data)


def page_text(response) -> str:
    return response.content.decode()


# ---------------------------------------------------------------------------------------------------------
# Sign-in and visibility


def test_pages_require_sign_in(client):
    for url in [reverse("contacts:contact_list"), reverse("contacts:company_list"), reverse("core:search")]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/?next=")


def test_htmx_request_without_session_gets_hx_redirect(client):
    response = client.get(reverse("contacts:contact_list"), HTTP_HX_REQUEST="true")
    assert response.status_code == 401
    assert response["HX-Redirect"].startswith("/login/")


def test_detail_of_invisible_record_is_404_in_layout(client, admin, other_member):
    contact = make_contact(admin, first_name="Hidden")
    client.force_login(other_member)
    response = client.get(reverse("contacts:contact_detail", args=[contact.pk]))
    assert response.status_code == 404
    text = page_text(response)
    assert "Page not found" in text
    assert 'class="sidebar"' in text  # inside the layout


def test_unknown_url_is_404_page(admin_client):
    response = admin_client.get("/no-such-page/")
    assert response.status_code == 404


# ---------------------------------------------------------------------------------------------------------
# List page


def test_contact_list_shows_rows_and_empty_state(admin_client, admin):
    response = admin_client.get(reverse("contacts:contact_list"))
    assert response.status_code == 200
    assert "No contacts yet" in page_text(response)
    make_contact(admin, first_name="Grace", last_name="Hopper", email="grace@example.com")
    response = admin_client.get(reverse("contacts:contact_list"))
    text = page_text(response)
    assert "Grace Hopper" in text
    assert "grace@example.com" in text
    assert "New contact" in text


def test_list_filter_narrows_and_invalid_filter_is_an_error_not_500(admin_client, admin):
    make_contact(admin, first_name="Cust", lifecycle_stage="customer", tags=["vip"])
    make_contact(admin, first_name="Leady", lifecycle_stage="lead")
    url = reverse("contacts:contact_list")
    response = admin_client.get(url, {"filter": 'stage = customer and tags = "vip"'})
    assert response.status_code == 200
    text = page_text(response)
    assert "Cust" in text and "Leady" not in text

    response = admin_client.get(url, {"filter": "stage == = nope ("})
    assert response.status_code == 400
    text = page_text(response)
    assert 'id="filter-errors"' in text
    assert "field-error-line" in text

    response = admin_client.get(url, {"filter": "no_such_field = 1"})
    assert response.status_code == 400
    assert "field-error-line" in page_text(response)


def test_filter_fields_help_lists_registry_fields(admin_client):
    text = page_text(admin_client.get(reverse("contacts:contact_list")))
    assert 'data-insert="stage"' in text
    assert 'data-insert="tags"' in text


def test_quick_search_by_email(admin_client, admin):
    make_contact(admin, first_name="Findme", email="findme@example.com")
    make_contact(admin, first_name="Other", email="other@example.com")
    text = page_text(admin_client.get(reverse("contacts:contact_list"), {"q": "findme@example.com"}))
    assert "Findme" in text and "Other" not in text


def test_sort_by_header_and_invalid_sort(admin_client, admin):
    for name in ["Bravo", "Alpha", "Charlie"]:
        make_contact(admin, first_name="X", last_name=name)
    url = reverse("contacts:contact_list")
    text = page_text(admin_client.get(url, {"sort": "name"}))
    assert text.index("Alpha") < text.index("Bravo") < text.index("Charlie")
    assert "sort=-name" in text  # the active header links to the reverse order
    text = page_text(admin_client.get(url, {"sort": "-name"}))
    assert text.index("Charlie") < text.index("Bravo") < text.index("Alpha")
    response = admin_client.get(url, {"sort": "bogus"})
    assert response.status_code == 400
    assert "Sort by one of" in page_text(response)


def test_cursor_pages_without_offset(admin_client, admin):
    for i in range(55):
        make_contact(admin, first_name=f"P{i:02d}", last_name="Page")
    url = reverse("contacts:contact_list")
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(url, {"sort": "id"})
    assert not any("OFFSET" in q["sql"].upper() for q in queries.captured_queries)
    rows = response.context["rows"]
    assert len(rows) == 50
    next_url = response.context["next_url"]
    assert "cursor=" in next_url
    assert "Next page" in page_text(response)
    response = admin_client.get(url + next_url)
    assert response.status_code == 200
    assert len(response.context["rows"]) == 5
    assert response.context["next_url"] == ""
    assert "First page" in page_text(response)
    ids = [r.pk for r in rows] + [r.pk for r in response.context["rows"]]
    assert len(set(ids)) == 55
    response = admin_client.get(url, {"cursor": "garbage!"})
    assert response.status_code == 400


def test_column_chooser_and_custom_field_columns(admin_client, admin):
    custom_field_create(
        actor=admin,
        data={
            "object_type": "contacts.contact",
            "label": "Tier",
            "field_type": "choice",
            "choices": "Gold,Silver",
            "show_in_list": True,
        },
    )
    make_contact(admin, first_name="Col", email="col@example.com", custom={"tier": "Gold"})
    url = reverse("contacts:contact_list")
    response = admin_client.get(url)
    keys = [c.key for c in response.context["columns"]]
    assert "custom.tier" in keys
    assert "Gold" in page_text(response)
    response = admin_client.get(url, {"cols": "owner,email"})
    keys = [c.key for c in response.context["columns"]]
    assert keys == ["name", "owner", "email"]  # the name column is fixed; the order is the user's
    response = admin_client.get(url + "?cols=email&cols=stage")
    assert [c.key for c in response.context["columns"]] == ["name", "email", "stage"]


def test_archived_toggle(admin_client, admin):
    kept = make_contact(admin, first_name="Kept")
    gone = make_contact(admin, first_name="Gone")
    services.contact_archive(actor=admin, contact_id=gone.pk)
    url = reverse("contacts:contact_list")
    text = page_text(admin_client.get(url))
    assert "Kept" in text and "Gone" not in text
    response = admin_client.get(url, {"archived": "1"})
    assert [r.pk for r in response.context["rows"]] == [gone.pk]
    assert kept.pk not in [r.pk for r in response.context["rows"]]


def test_saved_views_save_apply_delete(admin_client, admin):
    url = reverse("contacts:contact_list")
    response = admin_client.post(
        url,
        {
            "_action": "save_view",
            "name": "Customers",
            "filter": "stage = customer",
            "cols": "email,stage",
            "sort": "-name",
        },
    )
    assert response.status_code == 302
    view = SavedView.objects.get(user=admin, object_type="contacts.contact")
    assert view.filter == "stage = customer" and view.columns == ["email", "stage"] and view.sort == "-name"
    assert f"view={view.pk}" in response["Location"]
    response = admin_client.get(response["Location"])
    assert response.context["active_view"] == view
    assert "Customers" in page_text(response)
    response = admin_client.post(url, {"_action": "save_view", "name": ""})
    assert response.status_code == 302
    assert SavedView.objects.count() == 1
    response = admin_client.post(url, {"_action": "delete_view", "view_id": view.pk})
    assert response.status_code == 302
    assert not SavedView.objects.exists()


def _seed_list(admin, member, n: int):
    companies = [make_company(admin, name=f"Co {i}", tags=["partner"]) for i in range(3)]
    for i in range(n):
        make_contact(
            admin,
            first_name=f"Q{i}",
            last_name="Count",
            email=f"q{i}@example.com",
            company_id=companies[i % 3].pk,
            tags=["vip", f"t{i % 4}"],
            owner_id=(admin if i % 2 else member).pk,
        )
    for i in range(n):
        make_company(admin, name=f"Firm {i}", tags=["x", "y"], owner_id=member.pk, parent_id=companies[0].pk)


def _count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries.captured_queries)


@pytest.mark.parametrize("url_name", ["contacts:contact_list", "contacts:company_list"])
def test_list_query_count_is_constant(client, admin, member, url_name, django_assert_max_num_queries):
    client.force_login(admin)
    url = reverse(url_name) + "?cols=name,email,company,stage,tags,owner,team,parent,industry"
    _seed_list(admin, member, 5)
    small = _count_queries(client, url)
    _seed_list(admin, member, 45)
    with django_assert_max_num_queries(small):
        response = client.get(url)
    assert len(response.context["rows"]) == 50
    assert _count_queries(client, url) == small


# ---------------------------------------------------------------------------------------------------------
# CSV export


def _csv_rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


def test_export_streams_current_filter_and_columns_with_formula_escaping(admin_client, admin):
    make_contact(
        admin,
        first_name='=HYPERLINK("x")',
        last_name="Evil",
        email="evil@example.com",
        job_title="+cmd",
        source="@SUM(A1)",
        lifecycle_stage="customer",
    )
    make_contact(
        admin, first_name="-minus", last_name="Plain", email="plain@example.com", lifecycle_stage="lead"
    )
    url = reverse("contacts:contact_export")
    response = admin_client.get(url, {"filter": "stage = customer", "cols": "email,job_title,source,stage"})
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = _csv_rows(response)
    assert rows[0] == ["Name", "E-mail", "Job title", "Source", "Stage"]
    assert len(rows) == 2
    name, email, title, source, stage = rows[1]
    assert name.startswith("'=HYPERLINK")
    assert email == "evil@example.com"
    assert title == "'+cmd"
    assert source == "'@SUM(A1)"
    assert stage == "customer"
    rows = _csv_rows(admin_client.get(url, {"filter": "stage = lead", "cols": "email"}))
    assert rows[1][0] == "'-minus Plain"


def test_export_respects_visibility(client, admin, other_member):
    make_contact(admin, first_name="AdminOnly")
    make_contact(other_member, first_name="Mine")
    client.force_login(other_member)
    rows = _csv_rows(client.get(reverse("contacts:contact_export")))
    names = [r[0] for r in rows[1:]]
    assert names == ["Mine"]


def test_export_with_invalid_filter_is_400(admin_client):
    response = admin_client.get(reverse("contacts:contact_export"), {"filter": "((("})
    assert response.status_code == 400


def test_company_export(admin_client, admin):
    make_company(admin, name="@Formula Inc", domain="formula.example")
    rows = _csv_rows(admin_client.get(reverse("contacts:company_export"), {"cols": "domain"}))
    assert rows[0] == ["Name", "Domain"]
    assert rows[1] == ["'@Formula Inc", "formula.example"]


# ---------------------------------------------------------------------------------------------------------
# Bulk actions


def test_bulk_assign_owner_add_tag_archive(admin_client, admin, member):
    a = make_contact(admin, first_name="A")
    b = make_contact(admin, first_name="B")
    url = reverse("contacts:contact_bulk")
    back = reverse("contacts:contact_list") + "?sort=name"
    response = admin_client.post(
        url, {"action": "assign_owner", "ids": [a.pk, b.pk], "value_assign_owner": member.pk, "next": back}
    )
    assert response.status_code == 302 and response["Location"] == back
    assert set(Contact.objects.values_list("owner_id", flat=True)) == {member.pk}
    admin_client.post(url, {"action": "add_tag", "ids": [a.pk], "value_add_tag": "hot"})
    assert [t.name for t in Contact.objects.get(pk=a.pk).tags.all()] == ["hot"]
    response = admin_client.post(url, {"action": "archive", "ids": [a.pk, b.pk]}, follow=True)
    assert Contact.objects.filter(archived_at__isnull=False).count() == 2
    assert "Archived 2 records." in page_text(response)


def test_bulk_errors_are_messages(admin_client, admin):
    a = make_contact(admin, first_name="A")
    url = reverse("contacts:contact_bulk")
    response = admin_client.post(url, {"action": "add_tag", "ids": [a.pk], "value_add_tag": ""}, follow=True)
    assert response.status_code == 200
    assert "Enter a tag name." in page_text(response)
    response = admin_client.post(url, {"action": "add_tag", "ids": []}, follow=True)
    assert "Select at least one record." in page_text(response)


def test_readonly_sees_no_write_controls_and_gets_403_on_writes(client, admin, readonly, team):
    contact = make_contact(admin, first_name="Shared", team_id=team.pk)
    client.force_login(readonly)
    response = client.get(reverse("contacts:contact_list"))
    text = page_text(response)
    assert "Shared" in text
    assert "New contact" not in text
    assert "data-bulk-bar" not in text
    text = page_text(client.get(reverse("contacts:contact_detail", args=[contact.pk])))
    assert "Archive" not in text
    assert reverse("contacts:contact_edit", args=[contact.pk]) not in text
    assert (
        client.post(reverse("contacts:contact_bulk"), {"action": "archive", "ids": [contact.pk]}).status_code
        == 403
    )
    assert client.get(reverse("contacts:contact_create")).status_code == 403
    assert client.post(reverse("contacts:contact_create"), {"first_name": "X"}).status_code == 403
    assert client.get(reverse("contacts:contact_edit", args=[contact.pk])).status_code == 403
    assert client.post(reverse("contacts:contact_archive", args=[contact.pk])).status_code == 403
    field_url = reverse("contacts:contact_field", args=[contact.pk, "first_name"])
    assert client.post(field_url, {"value": "Y", "version": contact.version}).status_code == 403
    contact.refresh_from_db()
    assert contact.archived_at is None and contact.first_name == "Shared"


# ---------------------------------------------------------------------------------------------------------
# Detail pages, history, inline editing, archive/restore


def test_contact_detail_shows_header_related_and_tabs(admin_client, admin):
    company = make_company(admin, name="Globex")
    contact = make_contact(
        admin,
        first_name="Hank",
        last_name="Scorpio",
        emails=["hank@globex.com", "h@home.net"],
        phones=["+14155550100"],
        company_id=company.pk,
        job_title="CEO",
        tags=["vip"],
        addresses=[{"street": "1 Volcano Rd", "city": "Cypress Creek", "country": "US"}],
    )
    response = admin_client.get(reverse("contacts:contact_detail", args=[contact.pk]))
    assert response.status_code == 200
    text = page_text(response)
    for expected in [
        "Hank Scorpio",
        "Globex",
        "hank@globex.com",
        "h@home.net",
        "Cypress Creek",
        "vip",
        "CEO",
        "Overview",
        "History",
        "Archive",
    ]:
        assert expected in text
    text = page_text(
        admin_client.get(reverse("contacts:contact_detail", args=[contact.pk]), {"tab": "history"})
    )
    assert "created" in text and "Ada Admin" in text


def test_history_partial(admin_client, admin):
    contact = make_contact(admin, first_name="Old")
    services.contact_update(actor=admin, contact_id=contact.pk, data={"first_name": "New", "version": 1})
    url = reverse("contacts:contact_history", args=[contact.pk])
    response = admin_client.get(url, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    text = page_text(response)
    assert "<html" not in text
    assert "Old" in text and "New" in text and "First name" in text
    response = admin_client.get(url)
    assert response.status_code == 302 and response["Location"].endswith("?tab=history")


def test_inline_edit_get_post_and_conflict(admin_client, admin):
    contact = make_contact(admin, first_name="Inline", lifecycle_stage="lead")
    url = reverse("contacts:contact_field", args=[contact.pk, "lifecycle_stage"])
    response = admin_client.get(url, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    text = page_text(response)
    assert 'name="version" value="1"' in text and "<select" in text

    response = admin_client.post(url, {"value": "customer", "version": 1}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "Customer" in page_text(response)
    contact.refresh_from_db()
    assert contact.lifecycle_stage == "customer" and contact.version == 2

    response = admin_client.post(url, {"value": "churned", "version": 1}, HTTP_HX_REQUEST="true")
    assert response.status_code == 409
    assert "Changed by someone else" in page_text(response)
    contact.refresh_from_db()
    assert contact.lifecycle_stage == "customer"

    response = admin_client.get(url + "?display=1", HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "Customer" in page_text(response)


def test_inline_edit_validation_error_beside_input(admin_client, admin):
    contact = make_contact(admin, first_name="Mail")
    url = reverse("contacts:contact_field", args=[contact.pk, "email"])
    response = admin_client.post(
        url, {"value": "not-an-email", "version": contact.version}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 400
    assert "field-errors" in page_text(response)
    assert admin_client.get(reverse("contacts:contact_field", args=[contact.pk, "nope"])).status_code == 404


def test_inline_edit_custom_field(admin_client, admin):
    custom_field_create(
        actor=admin, data={"object_type": "contacts.contact", "label": "Score", "field_type": "number"}
    )
    contact = make_contact(admin, first_name="Custom")
    url = reverse("contacts:contact_field", args=[contact.pk, "custom.score"])
    response = admin_client.post(url, {"value": "abc", "version": contact.version})
    assert response.status_code == 400 and "Enter a number." in page_text(response)
    response = admin_client.post(url, {"value": "42", "version": contact.version})
    assert response.status_code == 200
    contact.refresh_from_db()
    assert contact.custom == {"score": 42}


def test_archive_and_restore(admin_client, admin):
    contact = make_contact(admin, first_name="Arch")
    response = admin_client.post(reverse("contacts:contact_archive", args=[contact.pk]), follow=True)
    assert response.status_code == 200
    assert "Archived" in page_text(response) and "Restore" in page_text(response)
    contact.refresh_from_db()
    assert contact.archived_at is not None
    admin_client.post(reverse("contacts:contact_restore", args=[contact.pk]))
    contact.refresh_from_db()
    assert contact.archived_at is None
    assert admin_client.get(reverse("contacts:contact_archive", args=[contact.pk])).status_code == 405


def test_member_cannot_archive_a_teammates_record(client, admin, member, team):
    contact = make_contact(admin, first_name="Team", team_id=team.pk)
    client.force_login(member)
    text = page_text(client.get(reverse("contacts:contact_detail", args=[contact.pk])))
    assert "Archive" not in text  # members archive only their own
    assert client.post(reverse("contacts:contact_archive", args=[contact.pk])).status_code == 403


def test_company_detail_lists_people_paged_and_children(admin_client, admin):
    parent = make_company(admin, name="Parent Co")
    child = make_company(admin, name="Child Co", parent_id=parent.pk)
    for i in range(25):
        make_contact(admin, first_name=f"Emp{i:02d}", last_name="Worker", company_id=parent.pk)
    response = admin_client.get(reverse("contacts:company_detail", args=[parent.pk]))
    assert response.status_code == 200
    text = page_text(response)
    assert "Child Co" in text and "More people" in text
    assert len(response.context["contacts"]) == 20
    cursor = response.context["contacts_next"]
    response = admin_client.get(
        reverse("contacts:company_detail", args=[parent.pk]), {"contacts_cursor": cursor}
    )
    assert len(response.context["contacts"]) == 5
    text = page_text(admin_client.get(reverse("contacts:company_detail", args=[child.pk])))
    assert "Parent Co" in text


# ---------------------------------------------------------------------------------------------------------
# Forms


def test_contact_create_success(admin_client, admin):
    company = make_company(admin, name="Initech")
    response = admin_client.post(
        reverse("contacts:contact_create"),
        {
            "first_name": "Peter",
            "last_name": "Gibbons",
            "email": "peter@initech.com",
            "other_emails": "pg@home.net\n",
            "phone": "+1 415 555 0199",
            "job_title": "Engineer",
            "company": company.pk,
            "lifecycle_stage": "customer",
            "tags": "vip, tps",
            "owner": admin.pk,
            "team": "",
            "address-0-kind": "work",
            "address-0-street": "1 Office Park",
            "address-0-city": "Austin",
            "address-0-country": "us",
        },
    )
    assert response.status_code == 302
    contact = Contact.objects.get(last_name="Gibbons")
    assert response["Location"] == contact.get_absolute_url()
    assert contact.email == "peter@initech.com"
    assert sorted(e.email for e in contact.emails.all()) == ["peter@initech.com", "pg@home.net"]
    assert contact.company_id == company.pk
    assert sorted(t.name for t in contact.tags.all()) == ["tps", "vip"]
    assert contact.addresses.get().country == "US"


def test_contact_create_shows_errors_beside_fields(admin_client, admin):
    custom_field_create(
        actor=admin,
        data={
            "object_type": "contacts.contact",
            "label": "Tier",
            "field_type": "choice",
            "choices": "Gold,Silver",
        },
    )
    response = admin_client.post(
        reverse("contacts:contact_create"),
        {
            "first_name": "Bad",
            "email": "not-an-email",
            "phone": "12",
            "lifecycle_stage": "lead",
            "custom_tier": "",
            "owner": "999999",
            "address-0-kind": "work",
            "address-0-city": "X",
            "address-0-country": "XX",
            "birthday": "2020-13-45",
        },
    )
    assert response.status_code == 400
    form = response.context["form"]
    assert form.errors["email"]
    assert form.errors["phone"]
    assert form.errors["owner"]
    assert form.errors["birthday"]
    assert form.address_forms[0].errors["country"]
    text = page_text(response)
    assert "Please correct the highlighted fields." in text
    assert 'aria-invalid="true"' in text
    assert not Contact.objects.exists()


def test_contact_create_custom_field_error(admin_client, admin):
    custom_field_create(
        actor=admin,
        data={"object_type": "contacts.contact", "label": "Website", "field_type": "url", "required": True},
    )
    response = admin_client.post(
        reverse("contacts:contact_create"),
        {"first_name": "C", "lifecycle_stage": "lead", "custom_website": "ftp://x"},
    )
    assert response.status_code == 400
    assert response.context["form"].errors["custom_website"]


def test_contact_edit_and_stale_version(admin_client, admin):
    contact = make_contact(admin, first_name="Before", email="b@example.com")
    url = reverse("contacts:contact_edit", args=[contact.pk])
    response = admin_client.get(url)
    assert response.status_code == 200
    assert 'name="version" value="1"' in page_text(response)
    data = {
        "first_name": "After",
        "email": "b@example.com",
        "lifecycle_stage": "lead",
        "version": 1,
        "owner": admin.pk,
        "address-0-kind": "work",
    }
    response = admin_client.post(url, data)
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.first_name == "After" and contact.version == 2
    response = admin_client.post(url, {**data, "first_name": "Stale"})
    assert response.status_code == 409
    assert "changed by someone else" in page_text(response)
    contact.refresh_from_db()
    assert contact.first_name == "After"


def test_company_create_edit_and_errors(admin_client, admin):
    response = admin_client.post(
        reverse("contacts:company_create"),
        {"name": "", "domain": "not a domain", "currency": "EURO", "annual_revenue": "-5", "website": "x"},
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    for name in ["name", "domain", "currency", "annual_revenue"]:
        assert errors[name], name
    response = admin_client.post(
        reverse("contacts:company_create"),
        {
            "name": "Umbrella",
            "domain": "https://www.umbrella.example/about",
            "currency": "eur",
            "size": "51-200",
            "tags": "pharma",
            "owner": admin.pk,
            "address-0-kind": "billing",
            "address-0-city": "Raccoon City",
            "address-0-country": "US",
        },
    )
    assert response.status_code == 302
    company = Company.objects.get(name="Umbrella")
    assert company.domain == "umbrella.example" and company.currency == "EUR"
    url = reverse("contacts:company_edit", args=[company.pk])
    response = admin_client.post(
        url,
        {
            "name": "Umbrella Corp",
            "currency": "EUR",
            "version": company.version,
            "parent": company.pk,
            "owner": admin.pk,
        },
    )
    assert response.status_code == 400
    assert response.context["form"].errors["parent"]
    response = admin_client.post(
        url, {"name": "Umbrella Corp", "currency": "EUR", "version": company.version, "owner": admin.pk}
    )
    assert response.status_code == 302
    company.refresh_from_db()
    assert company.name == "Umbrella Corp"


def test_company_picker_options(admin_client, admin):
    make_company(admin, name="Zeta Corp")
    make_company(admin, name="Alpha Ltd")
    text = page_text(admin_client.get(reverse("contacts:company_options"), HTTP_HX_REQUEST="true"))
    assert text.index("Alpha Ltd") < text.index("Zeta Corp")


def test_company_list_filter(admin_client, admin):
    make_company(admin, name="Big", size="5001+")
    make_company(admin, name="Small", size="1-10")
    response = admin_client.get(reverse("contacts:company_list"), {"filter": 'size = "5001+"'})
    assert [c.name for c in response.context["rows"]] == ["Big"]


# ---------------------------------------------------------------------------------------------------------
# Global search


def test_global_search_page_and_dropdown(admin_client, admin, other_member):
    make_contact(admin, first_name="Searchable", email="searchable@example.com")
    make_contact(other_member, first_name="Secret", email="secret@example.com")
    response = admin_client.get(reverse("core:search"), {"q": "searchable@example.com"})
    assert response.status_code == 200
    assert "Searchable" in page_text(response)
    response = admin_client.get(
        reverse("core:search_suggest"), {"q": "searchable@example.com"}, HTTP_HX_REQUEST="true"
    )
    text = page_text(response)
    assert "Searchable" in text and "<html" not in text
    assert "See all results" in text
    text = page_text(admin_client.get(reverse("core:search")))
    assert "Search everything" in text


def test_global_search_tolerates_typos_within_visibility(client, admin, other_member):
    make_contact(admin, first_name="Johanna", last_name="Schmidt")
    make_company(admin, name="Globex Industries")
    make_contact(admin, first_name="Johann", last_name="Schmitz", team_id=0)
    client.force_login(other_member)
    make_contact(other_member, first_name="Johanna", last_name="Schmied")
    admin_client = Client()
    admin_client.force_login(admin)
    text = page_text(admin_client.get(reverse("core:search_suggest"), {"q": "johnana schmdit"}))
    assert "Johanna Schmidt" in text and "Schmied" not in text
    text = page_text(admin_client.get(reverse("core:search"), {"q": "globx industires"}))
    assert "Globex Industries" in text
    mine = page_text(client.get(reverse("core:search_suggest"), {"q": "johnana"}))
    assert "Schmied" in mine and "Schmidt" not in mine  # typos never widen what a user may see


def test_global_search_respects_visibility(client, admin, other_member):
    make_contact(admin, first_name="Secret", email="secret@example.com")
    client.force_login(other_member)
    text = page_text(client.get(reverse("core:search"), {"q": "secret@example.com"}))
    assert "Secret" not in text.split("<main", 1)[1]


def test_custom_fields_are_rendered_by_type_on_the_form(admin_client, admin):
    for label, kind, choices in [
        ("Notes", "text", ""),
        ("Score", "number", ""),
        ("Renewal", "date", ""),
        ("Tier", "choice", "A,B"),
        ("Topics", "multi_choice", "X,Y"),
        ("Active", "boolean", ""),
        ("Site", "url", ""),
        ("Billing", "email", ""),
    ]:
        custom_field_create(
            actor=admin,
            data={"object_type": "contacts.contact", "label": label, "field_type": kind, "choices": choices},
        )
    text = page_text(admin_client.get(reverse("contacts:contact_create")))
    assert 'name="custom_score"' in text and 'type="number"' in text
    assert 'name="custom_renewal"' in text and 'type="date"' in text
    assert 'type="checkbox" name="custom_topics"' in text
    assert 'type="url" name="custom_site"' in text
    assert 'type="email" name="custom_billing"' in text
    assert CustomField.objects.count() == 8


def test_quick_search_pages_newest_first_from_the_index(admin_client, admin):
    """A quick search with no sort chosen lists matches newest first, paged by cursor without OFFSET;
    an explicit sort still applies."""
    made = [make_contact(admin, first_name=f"Marta{i:02d}", last_name="Search") for i in range(55)]
    make_contact(admin, first_name="Otto", last_name="Other")
    url = reverse("contacts:contact_list")
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(url, {"q": "mar sea"})
    assert response.status_code == 200
    assert not any("OFFSET" in q["sql"].upper() for q in queries.captured_queries)
    first = [r.pk for r in response.context["rows"]]
    assert first == [c.pk for c in made[::-1][:50]]
    response = admin_client.get(url + response.context["next_url"])
    assert [r.pk for r in response.context["rows"]] == [c.pk for c in made[::-1][50:]]
    assert response.context["next_url"] == ""
    by_name = admin_client.get(url, {"q": "mar sea", "sort": "-name"})
    assert [r.pk for r in by_name.context["rows"]][:2] == [made[54].pk, made[53].pk]
    companies = reverse("contacts:company_list")
    assert admin_client.get(companies, {"q": "nothing-like-this"}).status_code == 200
