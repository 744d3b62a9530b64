"""The visibility matrix for the web UI: every URL × every kind of user.

Same record set-up and rules as tests/test_visibility_api.py. Pages redirect anonymous visitors to the
sign-in page; a record the user may not see is 404, a visible one they may not change is 403, and a
refused request changes nothing. `test_every_url_is_in_the_matrix` fails when a URL is added without a
row here.
"""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tests.matrix import MODULES
from tests.matrix.rules import (
    ACTORS,
    ARCHIVES,
    CHANGES,
    SEES,
    admin_only,
    record,
    signed_in,
    writer,
)
from tests.test_visibility_api import database_state

pytestmark = pytest.mark.django_db


def contact_form(ctx):
    return {"first_name": "Form", "last_name": "Made", "lifecycle_stage": "lead", "version": 1}


def company_form(ctx):
    return {"name": "Form Co", "currency": "USD", "version": 1}


# url name → list of (method, expectation, data builder)
MATRIX = {
    "core:home": [("get", lambda a: 302, None)],
    "core:search": [("get", signed_in(200), None)],
    "core:search_suggest": [("get", signed_in(200), None)],
    "users:login": [("get", lambda a: 200 if a == "anonymous" else 302, None)],
    "users:logout": [("post", lambda a: 302, None)],
    "users:settings": [("get", signed_in(200), None)],
    "users:tokens": [("get", signed_in(200), None)],
    "users:token_revoke": [
        ("post", lambda a: {"anonymous": 302, "admin": 302, "owner": 302}.get(a, 404), None)
    ],
    "users:users": [("get", admin_only(200), None)],
    "users:user_edit": [("get", admin_only(200), None)],
    "users:teams": [
        ("get", admin_only(200), None),
        ("post", admin_only(302), lambda ctx: {"name": "Team Z"}),
    ],
    "users:custom_fields": [("get", admin_only(200), None)],
    "users:custom_field_delete": [("post", admin_only(302), None)],
    "contacts:contact_list": [("get", signed_in(200), None)],
    "contacts:contact_create": [("get", writer(200), None), ("post", writer(302), contact_form)],
    "contacts:contact_export": [("get", signed_in(200), None)],
    "contacts:contact_bulk": [
        ("post", writer(302), lambda ctx: {"action": "add_tag", "ids": [ctx["contact"]], "value": "matrix"})
    ],
    "contacts:contact_detail": [("get", record(SEES, 200), None)],
    "contacts:contact_edit": [
        ("get", record(CHANGES, 200), None),
        ("post", record(CHANGES, 302), contact_form),
    ],
    "contacts:contact_archive": [("post", record(ARCHIVES, 302), None)],
    "contacts:contact_restore": [("post", record(ARCHIVES, 302), None)],
    "contacts:contact_history": [("get", record(SEES, 302), None)],  # outside htmx: to the tab
    "contacts:contact_field": [
        ("get", record(CHANGES, 200), None),
        ("post", record(CHANGES, 200), lambda ctx: {"value": "Inline", "version": 1}),
    ],
    "contacts:company_list": [("get", signed_in(200), None)],
    "contacts:company_create": [("get", writer(200), None), ("post", writer(302), company_form)],
    "contacts:company_export": [("get", signed_in(200), None)],
    "contacts:company_bulk": [
        ("post", writer(302), lambda ctx: {"action": "archive", "ids": [ctx["company"]]})
    ],
    "contacts:company_options": [("get", signed_in(200), None)],
    "contacts:company_detail": [("get", record(SEES, 200), None)],
    "contacts:company_edit": [
        ("get", record(CHANGES, 200), None),
        ("post", record(CHANGES, 302), company_form),
    ],
    "contacts:company_archive": [("post", record(ARCHIVES, 302), None)],
    "contacts:company_restore": [("post", record(ARCHIVES, 302), None)],
    "contacts:company_history": [("get", record(SEES, 302), None)],
    "contacts:company_field": [
        ("get", record(CHANGES, 200), None),
        ("post", record(CHANGES, 200), lambda ctx: {"value": "Inline Co", "version": 1}),
    ],
}

ARGS = {
    "users:token_revoke": lambda ctx: [ctx["token"]],
    "users:user_edit": lambda ctx: [ctx["org"].teammate.pk],
    "users:custom_field_delete": lambda ctx: [ctx["field"]],
    "contacts:contact_field": lambda ctx: [ctx["contact"], "first_name"],
    "contacts:company_field": lambda ctx: [ctx["company"], "name"],
}
for _module in MODULES:
    assert not set(_module.PAGES) & set(MATRIX), _module.__name__
    MATRIX.update(_module.PAGES)
    ARGS.update(_module.PAGE_ARGS)


def named_urls() -> set[str]:
    names: set[str] = set()

    def walk(patterns, namespace):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                ns = pattern.namespace or namespace
                if ns == "api":
                    continue
                walk(pattern.url_patterns, ns)
            elif isinstance(pattern, URLPattern) and pattern.name:
                names.add(f"{namespace}:{pattern.name}" if namespace else pattern.name)

    walk(get_resolver().url_patterns, None)
    return names


def test_every_url_is_in_the_matrix():
    names = named_urls()
    assert names == set(MATRIX), {"missing": names - set(MATRIX), "gone": set(MATRIX) - names}


@pytest.fixture
def world(org, page_as):
    from contacts.services import company_create, contact_create
    from users.services import custom_field_create, token_create

    company = company_create(actor=org.owner, data={"name": "Shared Co"})
    contact = contact_create(actor=org.owner, data={"first_name": "Shared", "company_id": company.pk})
    token, _ = token_create(actor=None, user=org.owner, name="owner's")
    field = custom_field_create(
        actor=org.admin, data={"object_type": "contacts.company", "label": "Region", "field_type": "text"}
    )
    ctx = {
        "org": org,
        "contact": contact.pk,
        "company": company.pk,
        "token": token.pk,
        "field": field.pk,
        "ids": {"contact_id": contact.pk, "company_id": company.pk},
    }
    for module in MODULES:
        module.world(ctx)
    return ctx


def _url(name, ctx):
    from django.urls import reverse

    if name in ARGS:
        return reverse(name, args=ARGS[name](ctx))
    suffixes = ("_detail", "_edit", "_archive", "_restore", "_history")
    if name.startswith("contacts:") and name.endswith(suffixes):
        return reverse(name, args=[ctx["company"] if "company" in name else ctx["contact"]])
    return reverse(name)


CASES = [(name, index) for name in sorted(MATRIX) for index in range(len(MATRIX[name]))]


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize(("name", "index"), CASES, ids=lambda v: str(v))
def test_matrix(world, page_as, actor, name, index):
    method, expect, data = MATRIX[name][index]
    client = page_as(None if actor == "anonymous" else getattr(world["org"], actor))
    url = _url(name, world)
    before = database_state()
    response = getattr(client, method)(url, data(world) if data else {})
    expected = expect(actor)
    assert response.status_code == expected, (actor, method, url, response.status_code)
    if actor == "anonymous" and expected == 302 and name not in {"core:home", "users:logout"}:
        assert response["Location"].startswith("/login/")
    if expected >= 400 or (actor == "anonymous" and method == "post"):
        assert database_state() == before, f"{actor} was refused {method} {url} but something changed"


@pytest.mark.parametrize("actor", [a for a in ACTORS if a != "anonymous"])
def test_lists_search_and_export_show_only_visible_records(world, page_as, actor):
    client = page_as(getattr(world["org"], actor))
    visible = actor in SEES
    for url in [
        "/contacts/",
        "/contacts/?q=shared",
        "/companies/",
        "/search/?q=shared",
        "/search/suggest/?q=shared",
        "/contacts/export.csv",
        "/companies/export.csv",
    ]:
        response = client.get(url)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert response.status_code == 200
        assert (b"Shared" in body) == visible, (actor, url)
