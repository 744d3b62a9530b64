"""The bulk duplicate check that imports run (dedupe.queries.contact_duplicates_bulk and
company_duplicates_bulk): what it finds, and the bounds that keep it small on crowded data."""

from __future__ import annotations

import pytest

from contacts import bulk
from contacts.services import company_create, contact_create
from dedupe import matching
from dedupe.queries import company_duplicates_bulk, contact_duplicates_bulk

pytestmark = pytest.mark.django_db


def person(first, last, *, company_id=None, emails=(), phones=()):
    return {
        "first_name": first,
        "last_name": last,
        "company_id": company_id,
        "emails": list(emails),
        "phones": list(phones),
    }


def test_a_phone_shared_by_more_than_a_block_is_no_evidence(org):
    switchboard = "+4930123456"
    rows = [{"first_name": "Anna", "last_name": f"Staff{i}", "phone": switchboard} for i in range(51)]
    errors: list = []
    bulk.contacts_bulk_create(actor=org.owner, rows=rows, errors=errors)
    assert not errors
    assert matching.MAX_BLOCK == 50
    (found,) = contact_duplicates_bulk(org.owner, [person("Anna", "Staff7", phones=[switchboard])])
    assert found == []  # 51 contacts share the number: it says nothing about who is who
    # Below the cap the same number is evidence.
    direct = "+4930999999"
    twin = contact_create(actor=org.owner, data={"first_name": "Ben", "last_name": "Ott", "phone": direct})
    (found,) = contact_duplicates_bulk(org.owner, [person("Ben", "Ott", phones=[direct])])
    assert [s.id for s in found] == [twin.pk]


def test_a_shared_phone_or_company_name_part_needs_a_similar_name(org):
    acme = company_create(actor=org.owner, data={"name": "Acme"})
    phone = "+4917012345678"
    same = contact_create(
        actor=org.owner,
        data={"first_name": "Lena", "last_name": "Vogel", "phone": phone, "company_id": acme.pk},
    )
    other = contact_create(  # shares the first name and the company, not the person
        actor=org.owner, data={"first_name": "Lena", "last_name": "Brandt", "company_id": acme.pk}
    )
    family = contact_create(  # shares the phone, not the person
        actor=org.owner, data={"first_name": "Otto", "last_name": "Krämer", "phone": phone}
    )
    typo, stranger, nameless = contact_duplicates_bulk(
        org.owner,
        [
            person("Lena", "Vogl", company_id=acme.pk),  # a typo of Lena Vogel at the same company
            person("Lena", "Schulz", company_id=acme.pk, phones=[phone]),
            person("", "", phones=[phone]),  # no name to compare: the phone decides
        ],
    )
    assert [s.id for s in typo] == [same.pk]
    assert other.pk not in {s.id for s in stranger} and family.pk not in {s.id for s in stranger}
    assert {s.id for s in nameless} == {same.pk, family.pk}


def test_companies_by_domain_phone_and_name_prefix_only_among_visible(org):
    acme = company_create(actor=org.owner, data={"name": "ACME Industries", "domain": "acme.example"})
    harbor = company_create(actor=org.owner, data={"name": "Harbor Freight", "phone": "+44 20 7946 0018"})
    hidden = company_create(actor=org.other, data={"name": "Hidden Holdings", "domain": "hidden.example"})
    by_domain, by_name, by_phone, invisible, new = company_duplicates_bulk(
        org.owner,
        [
            {"name": "Acme", "website": "http://www.acme.example/contact"},
            {"name": "Acme Industries Inc."},
            {"name": "Harbour Freight Ltd", "phone": "020 7946 0018"},
            {"name": "Hidden Holdings", "domain": "hidden.example"},
            {"name": "Zebra Zone"},
        ],
    )
    assert [s.id for s in by_domain] == [acme.pk] and "Same domain" in by_domain[0].reasons
    assert [s.id for s in by_name] == [acme.pk] and by_name[0].score >= matching.THRESHOLD
    assert [s.id for s in by_phone] == [harbor.pk]
    assert invisible == [] and new == []
    assert hidden.pk  # exists, only not for this user
