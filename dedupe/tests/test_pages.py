"""The review pages, the warning panel of the create forms and the "merged into" panel."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contacts.models import Contact
from contacts.services import company_create, contact_create
from dedupe.models import DuplicateGroup, DuplicateMember, Merge

pytestmark = pytest.mark.django_db


def _group(*ids, score=90):
    group = DuplicateGroup.objects.create(kind="contact", score=score, reasons=["Same e-mail address"])
    DuplicateMember.objects.bulk_create(
        DuplicateMember(group=group, kind="contact", object_id=i) for i in ids
    )
    return group


def test_create_forms_ask_for_the_check_and_show_the_warning(org, page_as):
    existing = contact_create(actor=org.owner, data={"first_name": "Anna", "email": "anna@acme.com"})
    client = page_as(org.owner)
    form = client.get(reverse("contacts:contact_create")).content.decode()
    assert reverse("dedupe:contact_check") in form and 'id="duplicate-warning"' in form
    response = client.post(reverse("dedupe:contact_check"), {"first_name": "Anna", "email": "ANNA@acme.com"})
    assert response.status_code == 200
    body = response.content.decode()
    assert existing.get_absolute_url() in body and "Same e-mail address" in body
    assert client.post(reverse("dedupe:contact_check"), {"first_name": "Zoe"}).content.strip() == b""
    # A warning, not a block: the contact can still be created.
    response = client.post(
        reverse("contacts:contact_create"),
        {"first_name": "Anna", "email": "anna@acme.com", "lifecycle_stage": "lead"},
    )
    assert response.status_code == 302
    assert Contact.objects.filter(first_name="Anna").count() == 2
    # Another team's member gets no warning about records they may not see.
    other = page_as(org.other).post(reverse("dedupe:contact_check"), {"email": "anna@acme.com"})
    assert other.content.strip() == b""


def test_company_form_warning(org, page_as):
    acme = company_create(actor=org.owner, data={"name": "Acme GmbH", "domain": "acme.de"})
    client = page_as(org.owner)
    assert reverse("dedupe:company_check") in client.get(reverse("contacts:company_create")).content.decode()
    body = client.post(reverse("dedupe:company_check"), {"name": "ACME", "domain": "www.acme.de"}).content
    assert acme.get_absolute_url().encode() in body


def test_review_compare_merge_and_undo(org, page_as):
    a = contact_create(actor=org.owner, data={"first_name": "Anna", "last_name": "Berg", "email": "a@x.com"})
    b = contact_create(actor=org.owner, data={"first_name": "Ana", "last_name": "Berg", "email": "A@x.com"})
    group = _group(a.pk, b.pk, score=97)
    client = page_as(org.owner)
    page = client.get(reverse("dedupe:group_list")).content.decode()
    assert reverse("dedupe:group_detail", args=[group.pk]) in page and "Same e-mail address" in page
    detail = client.get(reverse("dedupe:group_detail", args=[group.pk])).content.decode()
    assert 'name="choice_first_name"' in detail and 'name="survivor_id"' in detail
    response = client.post(
        reverse("dedupe:group_detail", args=[group.pk]),
        {"survivor_id": b.pk, "choice_first_name": a.pk},
    )
    merge = Merge.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "dedupe:merge_detail", args=[merge.pk]
    )
    kept = Contact.objects.get(pk=b.pk)
    assert kept.first_name == "Anna" and Contact.objects.get(pk=a.pk).archived_at is not None
    merged_page = client.get(reverse("dedupe:merge_detail", args=[merge.pk])).content.decode()
    assert reverse("dedupe:merge_undo", args=[merge.pk]) in merged_page
    # The absorbed record's page says where it went; the survivor's lists the merge.
    absorbed = client.get(reverse("contacts:contact_detail", args=[a.pk])).content.decode()
    assert "This record was merged into" in absorbed and kept.get_absolute_url() in absorbed
    assert (
        reverse("dedupe:merge_detail", args=[merge.pk])
        in client.get(kept.get_absolute_url()).content.decode()
    )
    response = client.post(reverse("dedupe:merge_undo", args=[merge.pk]))
    assert response.status_code == 302
    assert Contact.objects.get(pk=a.pk).archived_at is None
    assert Contact.objects.get(pk=b.pk).first_name == "Ana"
    assert DuplicateGroup.objects.get(pk=group.pk).status == "open"


def test_teammate_sees_the_group_but_cannot_merge_it(org, page_as):
    a = contact_create(actor=org.owner, data={"first_name": "Anna", "email": "a@x.com"})
    b = contact_create(actor=org.owner, data={"first_name": "Anna", "email": "A@x.com"})
    group = _group(a.pk, b.pk)
    client = page_as(org.teammate)
    detail = client.get(reverse("dedupe:group_detail", args=[group.pk])).content.decode()
    assert ">Merge</button>" not in detail
    response = client.post(reverse("dedupe:group_detail", args=[group.pk]), {"survivor_id": a.pk})
    assert response.status_code == 403
    assert not Merge.objects.exists() and Contact.objects.get(pk=b.pk).archived_at is None


def test_dismiss_and_empty_state(org, page_as):
    a = contact_create(actor=org.owner, data={"first_name": "Anna", "email": "a@x.com"})
    b = contact_create(actor=org.owner, data={"first_name": "Anna", "email": "A@x.com"})
    group = _group(a.pk, b.pk)
    client = page_as(org.owner)
    assert client.post(reverse("dedupe:group_dismiss", args=[group.pk])).status_code == 302
    assert DuplicateGroup.objects.get(pk=group.pk).status == "dismissed"
    assert "No likely duplicates" in client.get(reverse("dedupe:group_list")).content.decode()


def test_group_list_page_query_count_is_constant(org, page_as):
    client = page_as(org.owner)

    def make(start, n):
        for i in range(start, start + n):
            a = contact_create(actor=org.owner, data={"first_name": f"P{i}", "email": f"p{i}@x.com"})
            b = contact_create(actor=org.owner, data={"first_name": f"P{i}", "email": f"P{i}@x.com"})
            _group(a.pk, b.pk)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("dedupe:group_list")).status_code == 200
        return len(ctx.captured_queries)

    make(0, 3)
    count()
    few = count()
    make(3, 20)
    assert count() == few
